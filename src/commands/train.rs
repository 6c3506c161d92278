//! `polyphon train`: train a model from a synthesized data set.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use polyphon_train::{train_transcription, Progress, TranscriptionTrainConfig};

/// Train a model; every run is seeded and resumable.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[command(subcommand)]
    pub task: TrainTask,
}

#[derive(Subcommand, Debug)]
pub enum TrainTask {
    /// Frame-wise piano transcription (ConvNet or SmallConvNet) on a `polyphon synth` manifest.
    #[command(after_help = "Examples:
  polyphon train transcription --model convnet --data data/pieces/pieces.jsonl --out runs/convnet
  polyphon train transcription --model small-convnet --data data/fluid/fluid-combi.jsonl --out runs/combi --epochs 10
  polyphon train transcription --data data/pieces/pieces.jsonl --out runs/convnet --resume

Writes RUN/config.json, RUN/log.csv (one line per epoch), RUN/checkpoint.bpk and
RUN/optimizer.bpk (last epoch), and RUN/model.json + model.bpk (best validation frame F1),
which `polyphon transcribe --model RUN/model.json` reads.")]
    Transcription(TranscriptionArgs),
}

#[derive(Args, Debug)]
pub struct TranscriptionArgs {
    /// Manifest (JSON lines) with train and valid splits.
    #[arg(long)]
    pub data: PathBuf,
    /// Run folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Feature cache folder [default: <manifest folder>/cache].
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// convnet or small-convnet.
    #[arg(long, default_value = "convnet")]
    pub model: String,
    /// Continue the run in --out after its last completed epoch.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    #[arg(long, default_value_t = 128)]
    pub batch_size: usize,
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f64,
    /// Epochs without a better validation F1 before stopping.
    #[arg(long, default_value_t = 5)]
    pub patience: usize,
    #[arg(long, default_value_t = 2016)]
    pub seed: u64,
    /// Cap on steps per epoch (0: every frame once).
    #[arg(long, default_value_t = 0)]
    pub max_batches_per_epoch: usize,
    /// Validate on the first N frames of each validation file (0: all of them).
    #[arg(long, default_value_t = 0)]
    pub valid_frames_per_file: usize,
}

pub fn run(args: TrainArgs) -> Result<()> {
    match args.task {
        TrainTask::Transcription(args) => transcription(args),
    }
}

fn transcription(args: TranscriptionArgs) -> Result<()> {
    let config = TranscriptionTrainConfig {
        architecture: args.model.clone(),
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        patience: args.patience,
        seed: args.seed,
        max_batches_per_epoch: args.max_batches_per_epoch,
        valid_frames_per_file: args.valid_frames_per_file,
        ..Default::default()
    };
    let cache = args.cache.clone().unwrap_or_else(|| {
        args.data
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join("cache")
    });
    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "epoch {prefix} {bar:30} {pos}/{len} batches, loss {msg}, {eta} left",
    )?);
    let mut running_loss = None::<f32>;
    let outcome =
        train_transcription(
            &config,
            &args.data,
            &cache,
            &args.out,
            args.resume,
            |p| match p {
                Progress::Loaded {
                    train_frames,
                    valid_frames,
                } => println!("train: {train_frames} frames, valid: {valid_frames} frames"),
                Progress::EpochStart { epoch, batches } => {
                    bar.set_prefix(epoch.to_string());
                    bar.set_length(batches as u64);
                    bar.set_position(0);
                }
                Progress::Batch { loss } => {
                    let smoothed = running_loss.map_or(loss, |r| 0.98 * r + 0.02 * loss);
                    running_loss = Some(smoothed);
                    bar.set_message(format!("{smoothed:.4}"));
                    bar.inc(1);
                }
                // Printed through the bar so it stays visible without a terminal too.
                Progress::EpochEnd(log) => bar.suspend(|| {
                    println!(
                    "epoch {:>3}: train loss {:.4}, valid frame P {:.3} R {:.3} F1 {:.3} ({:.0} s)",
                    log.epoch,
                    log.train_loss,
                    log.valid.precision,
                    log.valid.recall,
                    log.valid.f1,
                    log.seconds
                )
                }),
            },
        )
        .with_context(|| format!("training into {}", args.out.display()))?;
    bar.finish_and_clear();
    println!(
        "best valid frame F1 {:.3} -> {}",
        outcome.best_valid.f1,
        outcome.best_model.display()
    );
    Ok(())
}
