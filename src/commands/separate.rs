//! `polyphon separate`: one WAV per source from a mixture, through a mask U-Net.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use polyphon_audio::{read_channels, write_wav, StreamResampler, WavFormat};
use polyphon_decode::stems::{masks_to_stems, source_magnitude, Mask};
use polyphon_features::ComplexStft;
use polyphon_models::separation::{
    SeparationModel, SEPARATION_BINS, SEPARATION_HOP, SEPARATION_N_FFT, SEPARATION_SAMPLE_RATE,
};

/// Separate a mixture into one WAV per source.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  polyphon separate examples/bass_flute_mix.wav -o stems/
  polyphon separate mix.wav -o stems/ --model runs/unet/model.json

Writes DIR/<input stem>_<source>.wav (e.g. stems/bass_flute_mix_bass.wav) at the input's
sample rate and channel count. The model works at 16 kHz: the input is resampled, each
channel's STFT (1024 points, hop 256) is masked with the masks computed from the channels'
mean magnitude, inverted with the mixture's phase and resampled back. With softmax masks
(the bundled model) the stems sum back to the mixture below 8 kHz; content above 8 kHz is
not in any stem. Long files run in 30 s segments cross-faded over 1 s.")]
pub struct SeparateArgs {
    /// Mixture (WAV, FLAC, MP3, OGG, ...).
    input: PathBuf,
    /// Output folder (created if missing).
    #[arg(short, long)]
    out: PathBuf,
    /// Separation model: `bass-flute` (bundled) or a model.json written by `polyphon train separation`.
    #[arg(long, value_name = "NAME|PATH")]
    model: Option<String>,
}

pub fn run(args: SeparateArgs) -> Result<()> {
    let model = crate::bundled::separation_model(args.model.as_deref())?;
    let audio = read_channels(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    if audio.frames() == 0 {
        bail!("{} holds no samples", args.input.display());
    }
    let channels = super::eval_separation::dataset::to_f32(audio.channels);
    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "separating {bar:30} {pos}/{len} s {eta} left",
    )?);
    let stems = separate_signal(&model, &channels, audio.sample_rate, |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    })?;
    bar.finish_and_clear();
    let written = write_stems(
        &args.input,
        &args.out,
        model.sources(),
        &stems,
        audio.sample_rate,
    )?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}

/// Writes `DIR/<input stem>_<source>.wav` for every source; all files are written to
/// temporary names first, so a failure leaves none of them behind.
fn write_stems(
    input: &Path,
    dir: &Path,
    sources: &[String],
    stems: &[Vec<Vec<f32>>],
    sample_rate: u32,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let stem = input
        .file_stem()
        .map_or_else(|| "mixture".into(), |s| s.to_string_lossy().into_owned());
    let mut written = Vec::new();
    for (source, channels) in sources.iter().zip(stems) {
        let path = dir.join(format!("{stem}_{source}.wav"));
        let frames = channels.first().map_or(0, Vec::len);
        let interleaved: Vec<f32> = (0..frames)
            .flat_map(|n| channels.iter().map(move |c| c[n]))
            .collect();
        write_wav(
            &path,
            &interleaved,
            sample_rate,
            channels.len() as u16,
            WavFormat::Float32,
        )
        .with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Seconds per segment and of the cross-fade between segments.
const SEGMENT_SECONDS: usize = 30;
const CROSSFADE_SECONDS: usize = 1;

/// Separates `channels` (channel → samples at `sample_rate`) into source → channel → samples
/// at the same rate and length. `progress(done, total)` counts seconds of the 16 kHz signal.
pub fn separate_signal(
    model: &SeparationModel,
    channels: &[Vec<f32>],
    sample_rate: u32,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<Vec<Vec<f32>>>> {
    let rate = SEPARATION_SAMPLE_RATE;
    let length = channels.first().map_or(0, Vec::len);
    let resampled = channels
        .iter()
        .map(|c| resample(c, sample_rate, rate))
        .collect::<Result<Vec<_>>>()?;
    let n = resampled.first().map_or(0, Vec::len);
    let sources = model.sources().len();
    let mut out = vec![vec![vec![0f32; n]; channels.len()]; sources];
    let (segment, fade) = (
        SEGMENT_SECONDS * rate as usize,
        CROSSFADE_SECONDS * rate as usize,
    );
    let mut start = 0;
    loop {
        let end = (start + segment).min(n);
        let parts: Vec<Vec<f32>> = resampled.iter().map(|c| c[start..end].to_vec()).collect();
        let stems = separate_segment(model, &parts)?;
        let first = start == 0;
        let last = end == n;
        for (i, t) in (start..end).enumerate() {
            // Linear fades over the overlap: the fade-out of one segment and the fade-in of
            // the next add up to one, so the stems still sum to the mixture.
            let rise = if first {
                1.0
            } else {
                ((i + 1) as f32 / fade as f32).min(1.0)
            };
            let fall = if last {
                1.0
            } else {
                ((end - t) as f32 / fade as f32).min(1.0)
            };
            let weight = rise.min(fall);
            for (source, stem) in stems.iter().enumerate() {
                for (channel, samples) in stem.iter().enumerate() {
                    out[source][channel][t] += weight * samples[i];
                }
            }
        }
        progress(end / rate as usize, n / rate as usize);
        if last {
            break;
        }
        start = end - fade;
    }
    out.into_iter()
        .map(|stem| {
            stem.iter()
                .map(|c| {
                    let mut back = resample(c, rate, sample_rate)?;
                    back.resize(length, 0.0);
                    Ok(back)
                })
                .collect()
        })
        .collect()
}

/// One segment at 16 kHz: channel STFTs, masks from their mean magnitude, stems.
fn separate_segment(model: &SeparationModel, channels: &[Vec<f32>]) -> Result<Vec<Vec<Vec<f32>>>> {
    let stft = ComplexStft::new(SEPARATION_N_FFT, SEPARATION_HOP)?;
    let length = channels.first().map_or(0, Vec::len);
    let spectrograms: Vec<_> = channels.iter().map(|c| stft.stft(c)).collect();
    let frames = spectrograms[0].frames();
    let magnitude = source_magnitude(&spectrograms)?;
    let bins = SEPARATION_BINS + 1;
    let masks = model
        .masks(&magnitude, frames)?
        .into_iter()
        .map(|values| {
            let values = values.into_iter().map(|v| v.clamp(0.0, 1.0)).collect();
            Mask::new(frames, bins, values)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(masks_to_stems(&stft, &spectrograms, &masks, length)?
        .into_iter()
        .map(|stem| stem.channels)
        .collect())
}

/// `samples` from `from` Hz to `to` Hz (a copy when they are equal).
fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>> {
    if from == to {
        return Ok(samples.to_vec());
    }
    let mut resampler = StreamResampler::new(from, to)?;
    let mut out = Vec::with_capacity(samples.len() * to as usize / from as usize + 1);
    resampler.push(samples, &mut out)?;
    resampler.finish(&mut out)?;
    Ok(out)
}
