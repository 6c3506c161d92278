//! `polyphon train`: train a model from a synthesized data set.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use polyphon_train::{train_transcription, Progress, TrainOutcome, TranscriptionTrainConfig};

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
    Transcription(TranscriptionArgs),
    Instruments(super::train_instruments::InstrumentsArgs),
    Separation(super::train_separation::SeparationArgs),
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
    /// Train on fresh mixtures of 1 to N training files (audio summed, labels united), 0: off [default: 0].
    #[arg(long)]
    pub mix_max_parts: Option<usize>,
    /// Largest delay of a mixed part in seconds [default: 0].
    #[arg(long)]
    pub mix_max_delay: Option<f64>,
    /// Weight of the penalty asking the response to a mixture to be the union of the responses to its parts [default: 0].
    #[arg(long)]
    pub consistency_weight: Option<f64>,
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
        set(&mut config.mix_max_parts, &self.mix_max_parts);
        set(&mut config.mix_max_delay, &self.mix_max_delay);
        set(&mut config.consistency_weight, &self.consistency_weight);
        Ok(config)
    }
}

pub fn run(args: TrainArgs) -> Result<()> {
    match args.task {
        TrainTask::Transcription(args) => transcription(args),
        TrainTask::Instruments(args) => super::train_instruments::run(args),
        TrainTask::Separation(args) => super::train_separation::run(args),
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
    let outcome = train_with_progress(&config, &args.data, &cache, &args.out, args.resume)?;
    println!(
        "best valid frame F1 {:.3} -> {}",
        outcome.best_valid.f1,
        outcome.best_model.display()
    );
    Ok(())
}

/// Runs a transcription training with a progress bar (text lines without a terminal) and one
/// line per epoch.
pub fn train_with_progress(
    config: &TranscriptionTrainConfig,
    data: &Path,
    cache: &Path,
    out: &Path,
    resume: bool,
) -> Result<TrainOutcome> {
    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "epoch {prefix} {bar:30} {pos}/{len} batches, loss {msg}, {eta} left",
    )?);
    let mut running_loss = None::<f32>;
    let outcome = train_transcription(config, data, cache, out, resume, |p| match p {
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
            print_hidden_progress(&bar, smoothed);
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
    })
    .with_context(|| format!("training into {}", out.display()))?;
    bar.finish_and_clear();
    Ok(outcome)
}

/// Without a terminal the bar is hidden: a text line every tenth of an epoch instead.
pub fn print_hidden_progress(bar: &ProgressBar, loss: f32) {
    let (done, total) = (bar.position(), bar.length().unwrap_or(0));
    if bar.is_hidden() && total >= 10 && done % (total / 10) == 0 {
        println!(
            "epoch {}: {done}/{total} batches, loss {loss:.4}, {:.0} s elapsed",
            bar.prefix(),
            bar.elapsed().as_secs_f64()
        );
    }
}
