//! The one training loop, after burn's `Learner`: a job describes itself as a [`Task`] (its
//! network, batches, step, validation and saved model) and [`train`] owns everything else:
//! the run folder and its configuration check, resume from the last completed epoch, seeding,
//! early stopping, progress, and what is written after every epoch.
//!
//! Seeding: the training device is seeded with the run's seed before the network is made,
//! and with `seed + 1 + epoch` after the task has drawn the epoch's shuffles and mixtures, so
//! dropout and every draw of an epoch depend on the seed and the epoch alone. A resumed run
//! therefore equals an uninterrupted one.

use std::path::{Path, PathBuf};
use std::time::Instant;

use polyphon_models::burn::module::Module;
use polyphon_models::burn::optim::ModuleOptimizer;
use polyphon_models::burn::tensor::Device;
use polyphon_models::{adam, training_device};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::run::{
    self, prepare_run, save_checkpoint, write_atomically, write_json, CheckpointSums, RunFiles,
};
use crate::Result;

/// One epoch's line of a task's log: what the log files show and what picks the best model.
pub trait EpochRecord: Clone + Serialize + DeserializeOwned {
    /// Whether this epoch's model is better than that of `best` (the earlier best epoch).
    fn improves_on(&self, best: &Self) -> bool;
}

/// What the loop reports, for a caller's progress bar and messages.
pub enum Progress<'a, L> {
    /// The data is loaded: how much there is to train and to validate on.
    Loaded {
        train: String,
        valid: String,
    },
    EpochStart {
        epoch: usize,
        batches: usize,
    },
    Batch {
        loss: f32,
    },
    EpochEnd(&'a L),
}

/// A job the loop trains: everything that differs between transcription, separation and
/// instrument recognition.
pub trait Task {
    type Network: Module;
    type Validation;
    type Log: EpochRecord;

    /// How much data there is, reported once the run folder is ready (`None`: nothing).
    fn loaded(&self) -> Option<(String, String)> {
        None
    }

    /// The network a new run starts from (random, or a model to fine-tune), on `device`.
    fn initial_network(&self, device: &Device) -> Result<Self::Network>;

    /// A network of the run's shape, for a checkpoint's weights to be loaded into.
    fn fresh_network(&self, device: &Device) -> Result<Self::Network>;

    /// Draws epoch `epoch`'s shuffles and mixtures; returns its number of batches.
    fn start_epoch(&mut self, epoch: usize) -> Result<usize>;

    /// One optimisation step on the epoch's next batch: the updated network and the batch's
    /// loss before the step.
    fn train_batch(
        &mut self,
        network: Self::Network,
        optimizer: &mut ModuleOptimizer,
        epoch: usize,
    ) -> Result<(Self::Network, f32)>;

    /// The network's validation, in inference mode.
    fn validate(&mut self, network: &Self::Network) -> Result<Self::Validation>;

    /// The epoch's log line from the loop's measurements and the validation.
    fn log(
        &self,
        epoch: usize,
        train_loss: f64,
        validation: Self::Validation,
        seconds: f64,
    ) -> Self::Log;

    /// Saves `network` as the run's best model (a sidecar at `path`).
    fn save_model(&self, network: &Self::Network, path: &Path) -> Result<()>;

    /// The whole log as CSV, a header and one line per epoch.
    fn log_csv(&self, log: &[Self::Log]) -> String;

    /// Draws the log's curves into `path` (a PNG), where the task has any.
    fn write_curves(&self, _log: &[Self::Log], _path: &Path) -> Result<()> {
        Ok(())
    }
}

/// The loop's own settings.
#[derive(Debug, Clone, Copy)]
pub struct LoopSettings {
    /// Upper bound on epochs (it may grow when a run is resumed).
    pub epochs: usize,
    /// Stop after this many epochs without a better model.
    pub patience: usize,
    pub seed: u64,
}

/// What a finished (or early-stopped) run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome<L> {
    /// Every epoch's log line, the resumed run's earlier epochs included.
    pub epochs: Vec<L>,
    /// The best model's sidecar, `<out>/model.json`.
    pub best_model: PathBuf,
    /// The best epoch's log line.
    pub best: Option<L>,
}

/// Where a run stands, written after every epoch: its log, from which the best epoch and the
/// epochs since it follow.
#[derive(Debug, Serialize, Deserialize)]
#[serde(bound(deserialize = "L: DeserializeOwned"))]
struct RunState<L> {
    #[serde(default)]
    log: Vec<L>,
    /// The last checkpoint's checksums (absent in runs saved before they were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    checkpoint: Option<CheckpointSums>,
}

impl<L> Default for RunState<L> {
    fn default() -> Self {
        Self {
            log: Vec::new(),
            checkpoint: None,
        }
    }
}

impl<L: EpochRecord> RunState<L> {
    /// The best epoch's index: the first that no later epoch improves on.
    fn best(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (index, log) in self.log.iter().enumerate() {
            if best.is_none_or(|b| log.improves_on(&self.log[b])) {
                best = Some(index);
            }
        }
        best
    }

    fn epochs_without_improvement(&self) -> usize {
        self.best().map_or(0, |best| self.log.len() - 1 - best)
    }
}

/// Trains `task` into the run folder `out`, whose `config.json` is `config`: a run of another
/// configuration (`same` says which differences do not count) is refused, and without
/// `resume` so is any existing run. See the [module documentation](self).
pub fn train<T: Task, C: Serialize + DeserializeOwned>(
    task: &mut T,
    config: &C,
    same: impl Fn(&C, &C) -> bool,
    settings: LoopSettings,
    out: &Path,
    resume: bool,
    mut progress: impl FnMut(Progress<T::Log>),
) -> Result<Outcome<T::Log>> {
    let files = RunFiles::new(out);
    let mut state: RunState<T::Log> =
        prepare_run(config, &files.config, &files.state, out, resume, same)?;
    if let Some((train, valid)) = task.loaded() {
        progress(Progress::Loaded { train, valid });
    }
    let device = training_device();
    device.seed(settings.seed);
    let (mut network, mut optimizer) = if state.log.is_empty() {
        (task.initial_network(&device)?, adam())
    } else {
        run::load_checkpoint(
            task.fresh_network(&device)?,
            &files.weights,
            &files.optimizer,
            state.checkpoint.as_ref(),
        )?
    };
    for epoch in state.log.len()..settings.epochs {
        if state.epochs_without_improvement() >= settings.patience {
            break;
        }
        let started = Instant::now();
        let batches = task.start_epoch(epoch)?;
        device.seed(settings.seed.wrapping_add(1 + epoch as u64));
        progress(Progress::EpochStart { epoch, batches });
        let mut loss_sum = 0.0f64;
        for batch in 0..batches {
            let (next, loss) = task.train_batch(network, &mut optimizer, epoch)?;
            network = next;
            check_loss(loss, epoch, batch)?;
            loss_sum += loss as f64;
            progress(Progress::Batch { loss });
        }
        let validation = task.validate(&network)?;
        let train_loss = loss_sum / batches.max(1) as f64;
        let log = task.log(
            epoch,
            train_loss,
            validation,
            started.elapsed().as_secs_f64(),
        );
        progress(Progress::EpochEnd(&log));
        finish_epoch(task, &mut state, log, &network, &optimizer, &files)?;
    }
    let best = state.best().map(|index| state.log[index].clone());
    Ok(Outcome {
        epochs: state.log,
        best_model: files.best,
        best,
    })
}

/// An error where a batch's loss is not a finite number: the weights have diverged (or the
/// data holds NaN), and every later step would only spread it. The epoch is not recorded,
/// so the last checkpoint stays the one a resumed run starts from.
fn check_loss(loss: f32, epoch: usize, batch: usize) -> Result<()> {
    if loss.is_finite() {
        return Ok(());
    }
    Err(crate::TrainError::Invalid(format!(
        "training diverged: the loss is {loss} at epoch {}, batch {}; the last finished \
         epoch's checkpoint is kept (try a lower learning rate, or check the data)",
        epoch + 1,
        batch + 1
    )))
}

/// Records the epoch: best model if it improved, checkpoint, state and log, in that order,
/// so that a run killed at any point resumes from a consistent epoch.
fn finish_epoch<T: Task>(
    task: &T,
    state: &mut RunState<T::Log>,
    log: T::Log,
    network: &T::Network,
    optimizer: &ModuleOptimizer,
    files: &RunFiles,
) -> Result<()> {
    let improved = state
        .best()
        .is_none_or(|best| log.improves_on(&state.log[best]));
    if improved {
        task.save_model(network, &files.best)?;
    }
    state.checkpoint = Some(save_checkpoint(
        network,
        &files.weights,
        optimizer,
        &files.optimizer,
    )?);
    state.log.push(log);
    write_json(&files.state, state)?;
    write_atomically(&files.log_csv, task.log_csv(&state.log).as_bytes())?;
    task.write_curves(&state.log, &files.loss_png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Score(f64);

    impl EpochRecord for Score {
        fn improves_on(&self, best: &Self) -> bool {
            self.0 > best.0
        }
    }

    fn state(scores: &[f64]) -> RunState<Score> {
        RunState {
            log: scores.iter().map(|&s| Score(s)).collect(),
            checkpoint: None,
        }
    }

    #[test]
    fn the_best_epoch_is_the_first_unbeaten_one_and_patience_counts_from_it() {
        assert_eq!(state(&[]).best(), None);
        assert_eq!(state(&[]).epochs_without_improvement(), 0);
        let ties = state(&[0.5, 0.7, 0.7, 0.6]);
        assert_eq!(ties.best(), Some(1));
        assert_eq!(ties.epochs_without_improvement(), 2);
        assert_eq!(state(&[0.1, 0.2, 0.3]).epochs_without_improvement(), 0);
    }

    /// One linear layer whose loss turns NaN from epoch `nan_from`.
    struct Tiny {
        nan_from: usize,
    }

    impl Task for Tiny {
        type Network = polyphon_models::burn::nn::Linear;
        type Validation = ();
        type Log = Score;

        fn initial_network(&self, device: &Device) -> Result<Self::Network> {
            self.fresh_network(device)
        }
        fn fresh_network(&self, device: &Device) -> Result<Self::Network> {
            Ok(polyphon_models::burn::nn::LinearConfig::new(2, 1).init(device))
        }
        fn start_epoch(&mut self, _epoch: usize) -> Result<usize> {
            Ok(2)
        }
        fn train_batch(
            &mut self,
            network: Self::Network,
            _optimizer: &mut ModuleOptimizer,
            epoch: usize,
        ) -> Result<(Self::Network, f32)> {
            let loss = if epoch >= self.nan_from {
                f32::NAN
            } else {
                1.0
            };
            Ok((network, loss))
        }
        fn validate(&mut self, _network: &Self::Network) -> Result<()> {
            Ok(())
        }
        fn log(&self, epoch: usize, _loss: f64, _validation: (), _seconds: f64) -> Score {
            Score(epoch as f64)
        }
        fn save_model(&self, _network: &Self::Network, path: &Path) -> Result<()> {
            write_atomically(path, b"{}")
        }
        fn log_csv(&self, log: &[Score]) -> String {
            format!("epochs\n{}\n", log.len())
        }
    }

    fn run_tiny(out: &Path, nan_from: usize, epochs: usize, resume: bool) -> Result<usize> {
        let settings = LoopSettings {
            epochs,
            patience: 10,
            seed: 1,
        };
        let same = |_: &u32, _: &u32| true;
        let mut task = Tiny { nan_from };
        train(&mut task, &7u32, same, settings, out, resume, |_| {})
            .map(|outcome| outcome.epochs.len())
    }

    #[test]
    fn a_loss_that_is_not_finite_stops_training_and_keeps_the_last_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let message = run_tiny(dir.path(), 1, 3, false).unwrap_err().to_string();
        assert!(
            message.contains("diverged: the loss is NaN at epoch 2, batch 1"),
            "{message}"
        );
        let state: RunState<Score> = read_json_file(&dir.path().join("state.json"));
        assert_eq!(state.log.len(), 1);
        assert_eq!(run_tiny(dir.path(), 9, 3, true).unwrap(), 3);
    }

    #[test]
    fn a_damaged_checkpoint_is_refused_on_resume() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(run_tiny(dir.path(), 9, 1, false).unwrap(), 1);
        let state: RunState<Score> = read_json_file(&dir.path().join("state.json"));
        assert!(state.checkpoint.is_some());
        let weights = RunFiles::new(dir.path()).weights;
        let size = std::fs::metadata(&weights).unwrap().len() as usize;
        std::fs::write(&weights, vec![0xFF; size]).unwrap();
        let message = run_tiny(dir.path(), 9, 2, true).unwrap_err().to_string();
        assert!(message.contains("damaged or changed"), "{message}");
    }

    fn read_json_file<T: DeserializeOwned>(path: &Path) -> T {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn a_state_written_with_more_fields_loads_its_log() {
        let text = r#"{"completed_epochs": 2, "best_f1": 0.5, "log": [0.25, 0.5]}"#;
        let loaded: RunState<Score> = serde_json::from_str(text).unwrap();
        assert_eq!(loaded.log, [Score(0.25), Score(0.5)]);
    }
}
