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
    /// Frame-wise piano transcription (ConvNet, SmallConvNet or AUNet) on a `polyphon synth` manifest.
    #[command(after_help = "Examples:
  polyphon train transcription --model convnet --data data/pieces/pieces.jsonl --out runs/convnet
  polyphon train transcription --model small-convnet --data data/fluid/fluid-combi.jsonl --out runs/combi --epochs 10
  polyphon train transcription --model aunet --batch-size 4 --data data/pieces/pieces.jsonl --out runs/aunet
  polyphon train transcription --data data/pieces/pieces.jsonl --out runs/convnet --resume
  polyphon train transcription --config docs/train-transcription.toml --data data/pieces/pieces.jsonl --out runs/c2

Writes RUN/config.json, RUN/log.csv (one line per epoch), RUN/loss.png (training loss and
validation F1 per epoch), RUN/checkpoint.bpk and
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
    /// TOML file with any of the fields of docs/train-transcription.toml; flags override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Continue the run in --out after its last completed epoch.
    #[arg(long)]
    pub resume: bool,
    /// convnet, small-convnet or aunet [default: convnet].
    #[arg(long)]
    pub model: Option<String>,
    /// Upper bound on epochs [default: 30].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Frames per step, or patches for the AUNet [default: 128].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Adam's step size [default: 0.001].
    #[arg(long)]
    pub learning_rate: Option<f64>,
    /// Epochs without a better validation F1 before stopping [default: 5].
    #[arg(long)]
    pub patience: Option<usize>,
    /// Seed of shuffles, initialisation and dropout [default: 2016].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Cap on steps per epoch, 0: every frame once [default: 0].
    #[arg(long)]
    pub max_batches_per_epoch: Option<usize>,
    /// Validate on the first N frames of each validation file, 0: all [default: 0].
    #[arg(long)]
    pub valid_frames_per_file: Option<usize>,
}

impl TranscriptionArgs {
    /// Defaults, then the --config file, then the flags given.
    fn config(&self) -> Result<TranscriptionTrainConfig> {
        let mut config = match &self.config {
            Some(path) => TranscriptionTrainConfig::from_toml_file(path)?,
            None => TranscriptionTrainConfig::default(),
        };
        fn set<T: Clone>(field: &mut T, flag: &Option<T>) {
            if let Some(value) = flag {
                *field = value.clone();
            }
        }
        set(&mut config.architecture, &self.model);
        set(&mut config.epochs, &self.epochs);
        set(&mut config.batch_size, &self.batch_size);
        set(&mut config.learning_rate, &self.learning_rate);
        set(&mut config.patience, &self.patience);
        set(&mut config.seed, &self.seed);
        set(
            &mut config.max_batches_per_epoch,
            &self.max_batches_per_epoch,
        );
        set(
            &mut config.valid_frames_per_file,
            &self.valid_frames_per_file,
        );
        Ok(config)
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    match args.task {
        TrainTask::Transcription(args) => transcription(args),
    }
}

fn transcription(args: TranscriptionArgs) -> Result<()> {
    let config = args.config()?;
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
                    bar.reset();
                }
                Progress::Batch { loss } => {
                    let smoothed = running_loss.map_or(loss, |r| 0.98 * r + 0.02 * loss);
                    running_loss = Some(smoothed);
                    bar.set_message(format!("{smoothed:.4}"));
                    bar.inc(1);
                    // Without a terminal the bar is hidden: a line every tenth of an epoch.
                    let (done, total) = (bar.position(), bar.length().unwrap_or(0));
                    if bar.is_hidden() && total >= 10 && done % (total / 10) == 0 {
                        println!(
                            "epoch {}: {done}/{total} batches, loss {smoothed:.4}, {:.0} s elapsed",
                            bar.prefix(),
                            bar.elapsed().as_secs_f64()
                        );
                    }
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
