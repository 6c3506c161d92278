//! `polyphon bench`: speed of polyphon against its Python peers, measured in the same run.

use anyhow::Result;
use clap::{Args, Subcommand};
use polyphon::bench::{
    bench_frontend, bench_separation, bench_transcription, FrontendBench, SeparationBench,
    TranscriptionBench,
};
use polyphon::{Separator, Transcriber};

/// Benchmarks that print a table of polyphon against its peers on the same input.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    which: Bench,
}

#[derive(Subcommand, Debug)]
pub enum Bench {
    /// Log-filtered spectrogram vs madmom and mel spectrogram vs librosa on one long file.
    #[command(after_help = "Example:
  polyphon bench frontend --minutes 10 --python /opt/polyphon-tools-venv/bin/python

The Python side is tools/bench_frontend.py (versions pinned in tools/requirements.txt).
Peers run with OMP/OPENBLAS/MKL threads set to 1, so the 1-thread columns compare like
with like; the last column uses every core for polyphon.")]
    Frontend(FrontendBench),
    /// ConvNet inference vs the same network in PyTorch and ONNX Runtime, and end-to-end
    /// `transcribe` speed on one long file.
    #[command(after_help = "Example:
  polyphon bench transcription --minutes 10 --python /opt/polyphon-torch-venv/bin/python

The Python side is tools/bench_convnet_torch.py (versions pinned in tools/requirements-torch.txt):
the same ConvNet with random weights, fed the same number of frames in the same batch size.
Rates are frames per second, best of --repeat; 100 frames are one second of audio.")]
    Transcription(TranscriptionBench),
    /// Separation U-Net inference vs the same network in PyTorch, and end-to-end `separate`
    /// speed on one long file.
    #[command(after_help = "Example:
  polyphon bench separation --minutes 2 --python /opt/polyphon-torch-venv/bin/python

The Python side is tools/bench_unet_torch.py (versions pinned in tools/requirements-torch.txt):
the same U-Net with random weights on 512-frame windows, one at a time, as `separate` runs
them. Rates are windows per second, best of --repeat; a window is 8.2 s of 16 kHz audio.")]
    Separation(SeparationBench),
}

pub fn run(args: BenchArgs) -> Result<()> {
    match args.which {
        Bench::Frontend(bench) => print!("{}", bench_frontend(&bench)?),
        Bench::Transcription(bench) => {
            print!("{}", bench_transcription(&Transcriber::bundled()?, &bench)?)
        }
        Bench::Separation(bench) => print!("{}", bench_separation(&Separator::bundled()?, &bench)?),
    }
    Ok(())
}
