//! `polyphon features`: one audio file to a spectrogram `.npy` and/or PNG.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use polyphon::spectra::FeatureSpec;
use polyphon::{write_features, FeatureOutputs};

/// Compute a spectrogram of an audio file (WAV, FLAC, MP3, Ogg Vorbis).
///
/// Audio is mixed to mono and resampled to --sr. logfilt and stft follow madmom (frames
/// centred on t = k / fps, symmetric Hann window); mel follows librosa (centred frames,
/// periodic Hann, Slaney mel scale and norm). The file is read in blocks, so memory stays
/// flat however long it is.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  polyphon features piece.wav --kind logfilt --out piece.npy --png piece.png
  polyphon features song.mp3 --kind mel --sr 22050 --db --out song_mel.npy
  polyphon features piece.flac --kind logfilt --context 2 --out piece_ctx.npy")]
pub struct FeaturesArgs {
    /// Input audio file.
    pub input: PathBuf,
    /// Output .npy file: float32, shape (frames, bins), or (frames, 2·context+1, bins).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Also draw the spectrogram to this PNG (time left to right, low bins at the bottom).
    #[arg(long)]
    pub png: Option<PathBuf>,
    #[command(flatten)]
    pub spectrum: polyphon::SpectrumOptions,
    /// Stack ±K neighbouring frames into each row, repeating the edge frames.
    #[arg(long, default_value_t = 0)]
    pub context: usize,
}

pub fn run(args: FeaturesArgs) -> Result<()> {
    if args.out.is_none() && args.png.is_none() {
        bail!("nothing to write: give --out FILE.npy and/or --png FILE.png");
    }
    let spec = args.spectrum.spec()?;
    let outputs = FeatureOutputs {
        npy: args.out.clone(),
        png: args.png.clone(),
        context: args.context,
    };
    let progress = crate::progress::frames_bar();
    let shape = write_features(&args.input, &spec, &outputs, |done, total| {
        progress.set_length(total.unwrap_or(done) as u64);
        progress.set_position(done as u64);
    })?;
    progress.finish_and_clear();
    report(&args, &spec, shape.frames, shape.bins);
    Ok(())
}

fn report(args: &FeaturesArgs, spec: &FeatureSpec, frames: usize, bins: usize) {
    let outputs: Vec<String> = [&args.out, &args.png]
        .into_iter()
        .flatten()
        .map(|p| p.display().to_string())
        .collect();
    let shape = match args.context {
        0 => format!("{frames} frames x {bins} bins"),
        k => format!("{frames} frames x {} x {bins} bins", 2 * k + 1),
    };
    println!(
        "{}: {shape} at {:.2} fps, {} Hz -> {}",
        args.input.display(),
        spec.fps(),
        spec.sample_rate,
        outputs.join(", ")
    );
}
