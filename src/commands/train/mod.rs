//! `polyphon train`: train a model from a synthesized data set, one task per job, every run
//! seeded and resumable.

mod instruments;
mod separation;
mod transcription;

pub use transcription::epoch_line as transcription_epoch_line;

use anyhow::Result;
use clap::{Args, Subcommand};

/// Train a model; every run is seeded and resumable.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(subcommand)]
    pub task: TrainTask,
}

#[derive(Subcommand, Debug)]
pub enum TrainTask {
    /// Frame-wise piano transcription (ConvNet, SmallConvNet or AUNet) on a `polyphon synth` manifest.
    #[command(after_help = "Examples:
  polyphon train transcription --model convnet --data data/pieces/pieces.jsonl --out runs/convnet
  polyphon train transcription --model small-convnet --data data/fluid/fluid-combi.jsonl --out runs/combi --epochs 10
  polyphon train transcription --model aunet --batch-size 4 --data data/pieces/pieces.jsonl --out runs/aunet
  polyphon train transcription --data data/pieces/pieces.jsonl --out runs/convnet --resume
  polyphon train transcription --config docs/train-transcription.toml --data data/pieces/pieces.jsonl --out runs/c2
  polyphon train transcription --model small-convnet --data data/fluid/fluid-isol.jsonl --out runs/isol-mix --mix-max-parts 3 --consistency-weight 1 --max-batches-per-epoch 300

Writes RUN/config.json, RUN/log.csv (one line per epoch), RUN/loss.png (training loss and
validation F1 per epoch), RUN/checkpoint.bpk and
RUN/optimizer.bpk (last epoch), and RUN/model.json + model.bpk (best validation frame F1),
which `polyphon transcribe --model RUN/model.json` reads.")]
    Transcription(transcription::TranscriptionArgs),
    Instruments(instruments::InstrumentsArgs),
    Separation(separation::SeparationArgs),
}

pub fn run(args: TrainArgs) -> Result<()> {
    match args.task {
        TrainTask::Transcription(args) => transcription::run(args),
        TrainTask::Instruments(args) => instruments::run(args),
        TrainTask::Separation(args) => separation::run(args),
    }
}
