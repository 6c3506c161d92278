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
    /// ConvNet inference (native, ONNX Runtime, burn engines) vs the network in PyTorch and ONNX
    /// Runtime, and `transcribe` end to end vs Basic Pitch and madmom on the same files.
    #[command(after_help = "Example:
  polyphon bench transcription
  polyphon bench transcription recordings/*.wav --repeat 5

The networks are timed on the inputs' features, in two formulations of the same function:
per window (each frame's 5-frame window convolved on its own) and shared (the convolutions
computed once over the sequence, as the native engine does); tools/bench_convnet_torch.py
(tools/requirements-torch.txt) checks that its two agree. The ort rows need ORT_DYLIB_PATH.
End to end, every tool reads the files, transcribes them and writes MIDI, all in one process:
tools/bench_transcribe_peers.py runs Basic Pitch (tools/requirements-basic-pitch.txt) and
madmom (tools/requirements.txt); a peer without its interpreter is skipped with a note.")]
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
