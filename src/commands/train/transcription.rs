//! `polyphon train transcription`: a frame-wise transcription network.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use polyphon::train::{train_transcription, EpochLog, Outcome, TranscriptionTrainConfig};

use crate::progress::TrainingBar;

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
    /// ConvNet: train on sequences of this many consecutive frames, the convolutions shared
    /// between neighbouring windows (the same network, several times the frames per
    /// second); 0: single frames [default: 0].
    #[arg(long, value_name = "FRAMES")]
    pub sequence_frames: Option<usize>,
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
        set(&mut config.sequence_frames, &self.sequence_frames);
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

pub fn run(args: TranscriptionArgs) -> Result<()> {
    let config = args.config()?;
    let cache = args
        .cache
        .clone()
        .unwrap_or_else(|| args.data.parent().unwrap_or(Path::new(".")).join("cache"));
    let outcome = train_with_progress(&config, &args.data, &cache, &args.out, args.resume)?;
    match outcome.best {
        Some(best) => println!(
            "best valid frame F1 {:.3} -> {}",
            best.valid.f1,
            outcome.best_model.display()
        ),
        None => println!("no epoch ran (already finished or stopped early)"),
    }
    Ok(())
}

/// Runs a transcription training with a progress bar and one line per epoch.
fn train_with_progress(
    config: &TranscriptionTrainConfig,
    data: &Path,
    cache: &Path,
    out: &Path,
    resume: bool,
) -> Result<Outcome<EpochLog>> {
    let mut bar = TrainingBar::new();
    let outcome = train_transcription(config, data, cache, out, resume, |p| {
        bar.show(p, epoch_line)
    })
    .with_context(|| format!("training into {}", out.display()))?;
    bar.finish();
    Ok(outcome)
}

/// One finished epoch of a transcription training, as `train` and `experiment` print it.
pub fn epoch_line(log: &EpochLog) -> String {
    format!(
        "epoch {:>3}: train loss {:.4}, valid frame P {:.3} R {:.3} F1 {:.3} ({:.0} s)",
        log.epoch, log.train_loss, log.valid.precision, log.valid.recall, log.valid.f1, log.seconds
    )
}
