//! `polyphon features`: one audio file to a spectrogram `.npy` and/or PNG.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, ValueEnum};
use polyphon::spectra::{
    DbParams, DbReference, FeatureSpec, LogFilterbankParams, MelFilterbankParams, MelScale,
    SpectrumKind,
};
use polyphon::{write_features, FeatureOutputs};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Kind {
    /// madmom's LogarithmicFilteredSpectrogram (Kelz et al. 2016: 229 bins).
    Logfilt,
    /// librosa's melspectrogram.
    Mel,
    /// Magnitude STFT on madmom's frame grid.
    Stft,
}

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
    /// Which front-end.
    #[arg(long, value_enum, default_value = "logfilt")]
    pub kind: Kind,
    /// Output .npy file: float32, shape (frames, bins), or (frames, 2·context+1, bins).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Also draw the spectrogram to this PNG (time left to right, low bins at the bottom).
    #[arg(long)]
    pub png: Option<PathBuf>,
    /// Sample rate to resample to [default: 44100 for logfilt/stft, 22050 for mel].
    #[arg(long)]
    pub sr: Option<u32>,
    /// Frames per second (logfilt/stft) [default: 100].
    #[arg(long, conflicts_with = "hop")]
    pub fps: Option<f64>,
    /// Hop size in samples (mel) [default: 512].
    #[arg(long)]
    pub hop: Option<usize>,
    /// Frame / FFT size in samples [default: 4096 for logfilt/stft, 2048 for mel].
    #[arg(long)]
    pub frame_size: Option<usize>,
    /// Bands per octave of the logarithmic filterbank.
    #[arg(long, default_value_t = 48)]
    pub bands_per_octave: usize,
    /// Lowest frequency in Hz [default: 30 for logfilt, 0 for mel].
    #[arg(long)]
    pub fmin: Option<f64>,
    /// Highest frequency in Hz [default: 8000 for logfilt, sr/2 for mel].
    #[arg(long)]
    pub fmax: Option<f64>,
    /// Number of mel bands.
    #[arg(long, default_value_t = 128)]
    pub n_mels: usize,
    /// Use the HTK mel scale instead of Slaney's.
    #[arg(long)]
    pub htk: bool,
    /// Mel of magnitudes (librosa power=1) instead of powers (power=2).
    #[arg(long)]
    pub magnitude: bool,
    /// Convert mel powers to dB as librosa.power_to_db(S, ref=np.max, top_db=80).
    #[arg(long)]
    pub db: bool,
    /// Floor for --db, in dB below the maximum; 0 disables it.
    #[arg(long, default_value_t = 80.0)]
    pub top_db: f64,
    /// Stack ±K neighbouring frames into each row, repeating the edge frames.
    #[arg(long, default_value_t = 0)]
    pub context: usize,
}

pub fn run(args: FeaturesArgs) -> Result<()> {
    if args.out.is_none() && args.png.is_none() {
        bail!("nothing to write: give --out FILE.npy and/or --png FILE.png");
    }
    let spec = spec_from_args(&args)?;
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

fn spec_from_args(args: &FeaturesArgs) -> Result<FeatureSpec> {
    let spec = match args.kind {
        Kind::Logfilt | Kind::Stft => {
            if args.hop.is_some() {
                bail!("--hop applies to --kind mel; use --fps for logfilt and stft");
            }
            let sr = args.sr.unwrap_or(44_100);
            let frame_size = args.frame_size.unwrap_or(4096);
            let fps = args.fps.unwrap_or(100.0);
            match args.kind {
                Kind::Stft => FeatureSpec::madmom_stft(sr, frame_size, fps)?,
                _ => {
                    let params = LogFilterbankParams {
                        bands_per_octave: args.bands_per_octave,
                        fmin: args.fmin.unwrap_or(30.0),
                        fmax: args.fmax.unwrap_or(8000.0),
                        ..Default::default()
                    };
                    FeatureSpec::madmom_logfilt(sr, frame_size, fps, params)?
                }
            }
        }
        Kind::Mel => {
            if args.fps.is_some() {
                bail!("--fps applies to logfilt and stft; use --hop for --kind mel");
            }
            let params = MelFilterbankParams {
                n_mels: args.n_mels,
                fmin: args.fmin.unwrap_or(0.0),
                fmax: args.fmax,
                scale: if args.htk {
                    MelScale::Htk
                } else {
                    MelScale::Slaney
                },
                slaney_norm: true,
            };
            let power = if args.magnitude {
                SpectrumKind::Magnitude
            } else {
                SpectrumKind::Power
            };
            let db = args.db.then_some(DbParams {
                reference: DbReference::Max,
                amin: 1e-10,
                top_db: (args.top_db > 0.0).then_some(args.top_db),
            });
            FeatureSpec::librosa_mel(
                args.sr.unwrap_or(22_050),
                args.frame_size.unwrap_or(2048),
                args.hop.unwrap_or(512),
                power,
                params,
                db,
            )?
        }
    };
    Ok(spec)
}
