//! `polyphon separate`: one WAV per source from a mixture, through a mask U-Net.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use polyphon::Separator;

use crate::progress::report;

/// Separate a mixture into one WAV per source.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  polyphon separate examples/bass_flute_mix.wav -o stems/
  polyphon separate mix.wav -o stems/ --model runs/unet/model.json
  polyphon separate mix.wav -o stems/ --wiener 1
  polyphon separate --list songs.txt --shard 0/2 -o stems/ --status separate-0.jsonl

Writes DIR/<input stem>_<source>.wav (e.g. stems/bass_flute_mix_bass.wav) at the input's
sample rate and channel count. The model works at 16 kHz: the input is resampled, each
channel's STFT (1024 points, hop 256) is masked with the masks computed from the channels'
mean magnitude, inverted with the mixture's phase and resampled back. With softmax masks
(the bundled model) the stems sum back to the mixture below 8 kHz; content above 8 kHz is
not in any stem. The input is streamed: 30 s segments at a time, cross-faded over 1 s, so
memory stays flat whatever the file's length; the stems appear only once all are complete.")]
pub struct SeparateArgs {
    /// Mixtures (WAV, FLAC, MP3, OGG, ...).
    #[arg(required_unless_present = "list")]
    inputs: Vec<PathBuf>,
    /// Output folder (created if missing).
    #[arg(short, long)]
    out: PathBuf,
    /// Separation model: `unet-bass-flute` (bundled, the default) or a model.json written by `polyphon train separation`.
    #[arg(long, value_name = "NAME|PATH")]
    model: Option<String>,
    /// Refine the masks by N iterations of Wiener-style power ratios (m_j² / Σ m_k²)
    #[arg(long, value_name = "N", default_value_t = 0)]
    wiener: usize,
    #[command(flatten)]
    batch: polyphon::batch::BatchOptions,
}

pub fn run(args: SeparateArgs) -> Result<()> {
    let choice = args.model.as_deref();
    let separator =
        Separator::from_name_or_path(choice.unwrap_or(polyphon::bundled::DEFAULT_SEPARATION))?
            .with_wiener(args.wiener);
    let inputs = args.batch.inputs(&args.inputs)?;
    if let ([input], false) = (&inputs[..], args.batch.is_batch()) {
        println!("{}", separate(&separator, input, &args.out)?);
        return Ok(());
    }
    polyphon::batch::check_distinct_stems(&inputs)?;
    let outputs = |input: &Path| separator.outputs(input, &args.out);
    let job = |input: &Path| separate(&separator, input, &args.out);
    args.batch.run(&inputs, outputs, job, report)?.check()?;
    Ok(())
}

/// Separates one file with a progress bar; the paths written, a line each.
fn separate(separator: &Separator, input: &Path, out: &Path) -> Result<String> {
    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "separating {bar:30} {pos}/{len} s {eta} left",
    )?);
    let made_dir = !out.exists();
    let written = separator.separate_file(input, out, |done, total| {
        bar.set_length(total.map_or(0, |s| s.ceil() as u64));
        bar.set_position(done as u64)
    });
    bar.finish_and_clear();
    if written.is_err() && made_dir {
        // Only removes the folder when it is empty: nothing of the user's goes.
        let _ = std::fs::remove_dir(out);
    }
    let lines: Vec<String> = written?.iter().map(|p| p.display().to_string()).collect();
    Ok(lines.join("\n"))
}
