//! Training for polyphon's models: one loop ([`trainer`]) and a task per job.
//!
//! The loop owns the run folder (`config.json`, `state.json`, `log.csv`, `loss.png`, the last
//! epoch's `checkpoint.bpk` + `optimizer.bpk`, the best model `model.json` + `model.bpk`),
//! resume from the last completed epoch, seeding, early stopping and progress; each job keeps
//! only its task:
//! * [`train_transcription`]: a frame-wise transcription network (ConvNet, SmallConvNet,
//!   AUNet) on a `polyphon synth` manifest, the best model by validation frame F1;
//! * [`train_instruments`]: an instrument-family network (MLPs, CNN, ResNet-18) on band
//!   images, the best by validation accuracy (single-label) or Hamming accuracy (multi-label);
//! * [`train_separation`]: a separation U-Net on `polyphon synth mixtures`, the best by
//!   validation loss.

mod config;
mod gbdt;
mod instruments;
mod metrics;
mod run;
mod separation;
pub mod trainer;
mod transcription;

pub use config::TranscriptionTrainConfig;
pub use gbdt::{train_gbdt, GbdtRun};
pub use instruments::{
    check_run_folder, ensemble_member_dir, train_instrument_networks, train_instruments,
    write_ensemble, InstrumentData, InstrumentEpochLog, InstrumentTrainConfig, NetworksProgress,
};
pub use metrics::FrameScores;
pub use separation::{train_separation, SeparationEpochLog, SeparationTrainConfig};
pub use trainer::{EpochRecord, LoopSettings, Outcome, Progress, Task};
pub use transcription::{train_transcription, EpochLog};

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Dataset(#[from] polyphon_datasets::DatasetError),
    #[error(transparent)]
    Model(#[from] polyphon_models::ModelError),
    #[error(transparent)]
    Instruments(#[from] polyphon_instruments::InstrumentError),
    #[error(transparent)]
    Features(#[from] polyphon_features::FeatureError),
    #[error("{path}: {detail}")]
    File {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, TrainError>;
