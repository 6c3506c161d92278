//! `polyphon separate`: one WAV per source from a mixture, through a mask U-Net.

use std::path::{Path, PathBuf};

mod stream;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use polyphon_audio::{AudioReader, Downmix, WavFormat, WavStreamWriter};
use polyphon_models::separation::SeparationModel;

pub use stream::{Stems, StreamingSeparator};

/// Separate a mixture into one WAV per source.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  polyphon separate examples/bass_flute_mix.wav -o stems/
  polyphon separate mix.wav -o stems/ --model runs/unet/model.json
  polyphon separate mix.wav -o stems/ --wiener 1

Writes DIR/<input stem>_<source>.wav (e.g. stems/bass_flute_mix_bass.wav) at the input's
sample rate and channel count. The model works at 16 kHz: the input is resampled, each
channel's STFT (1024 points, hop 256) is masked with the masks computed from the channels'
mean magnitude, inverted with the mixture's phase and resampled back. With softmax masks
(the bundled model) the stems sum back to the mixture below 8 kHz; content above 8 kHz is
not in any stem. The input is streamed: 30 s segments at a time, cross-faded over 1 s, so
memory stays flat whatever the file's length; the stems appear only once all are complete.")]
pub struct SeparateArgs {
    /// Mixture (WAV, FLAC, MP3, OGG, ...).
    input: PathBuf,
    /// Output folder (created if missing).
    #[arg(short, long)]
    out: PathBuf,
    /// Separation model: `unet-bass-flute` (bundled, the default) or a model.json written by `polyphon train separation`.
    #[arg(long, value_name = "NAME|PATH")]
    model: Option<String>,
    /// Refine the masks by N iterations of Wiener-style power ratios (m_j² / Σ m_k²)
    #[arg(long, value_name = "N", default_value_t = 0)]
    wiener: usize,
}

pub fn run(args: SeparateArgs) -> Result<()> {
    let model = crate::bundled::separation_model(args.model.as_deref())?;
    let mut reader = AudioReader::open(&args.input, Downmix::Mean)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    let made_dir = !args.out.exists();
    let written = separate_file(&model, args.wiener, &mut reader, &args.input, &args.out);
    if written.is_err() && made_dir {
        // Only removes the folder when it is empty: nothing of the user's goes.
        let _ = std::fs::remove_dir(&args.out);
    }
    for path in written? {
        println!("{}", path.display());
    }
    Ok(())
}

/// Streams `reader` through the model into `DIR/<input stem>_<source>.wav`, every file
/// under a temporary name until all of them are complete.
fn separate_file(
    model: &SeparationModel,
    wiener: usize,
    reader: &mut AudioReader,
    input: &Path,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let info = reader.info().clone();
    let mut separator =
        StreamingSeparator::new(model, info.channels, info.sample_rate)?.with_wiener(wiener);
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stem = input
        .file_stem()
        .map_or_else(|| "mixture".into(), |s| s.to_string_lossy().into_owned());
    let mut writers = model
        .sources()
        .iter()
        .map(|source| {
            let path = dir.join(format!("{stem}_{source}.wav"));
            WavStreamWriter::create(
                &path,
                info.sample_rate,
                info.channels as u16,
                WavFormat::Float32,
            )
            .with_context(|| format!("cannot write {}", path.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let bar = ProgressBar::new(info.duration_seconds().map_or(0, |s| s.ceil() as u64)).with_style(
        ProgressStyle::with_template("separating {bar:30} {pos}/{len} s {eta} left")?,
    );
    loop {
        let mut block = vec![Vec::new(); info.channels];
        let more = reader
            .read_block_channels(&mut block)
            .with_context(|| format!("cannot read {}", input.display()))?;
        let samples = super::eval_separation::dataset::to_f32(block);
        write_blocks(&mut writers, separator.push(&samples)?)?;
        bar.set_position(separator.separated_seconds() as u64);
        if !more {
            break;
        }
    }
    if separator.input_frames() == 0 {
        bail!("{} holds no samples", input.display());
    }
    write_blocks(&mut writers, separator.finish()?)?;
    bar.finish_and_clear();
    writers
        .into_iter()
        .map(|w| w.commit().map_err(Into::into))
        .collect()
}

/// Appends each source's channels, interleaved, to its writer.
fn write_blocks(writers: &mut [WavStreamWriter], stems: Stems) -> Result<()> {
    for (writer, channels) in writers.iter_mut().zip(stems) {
        let frames = channels.first().map_or(0, Vec::len);
        let interleaved: Vec<f32> = (0..frames)
            .flat_map(|n| channels.iter().map(move |c| c[n]))
            .collect();
        writer.write_interleaved(&interleaved)?;
    }
    Ok(())
}

/// Separates `channels` (channel → samples at `sample_rate`), held in memory, into
/// source → channel → samples at the same rate and length; `wiener` as `--wiener`.
pub fn separate_signal(
    model: &SeparationModel,
    wiener: usize,
    channels: &[Vec<f32>],
    sample_rate: u32,
) -> Result<Stems> {
    let mut separator =
        StreamingSeparator::new(model, channels.len(), sample_rate)?.with_wiener(wiener);
    let mut stems = separator.push(channels)?;
    for (stem, rest) in stems.iter_mut().zip(separator.finish()?) {
        for (channel, samples) in stem.iter_mut().zip(rest) {
            channel.extend(samples);
        }
    }
    Ok(stems)
}
