//! Training loops for polyphon's models.
//!
//! [`train_transcription`] trains a frame-wise transcription network (ConvNet or SmallConvNet)
//! on a `polyphon synth` manifest: seeded shuffles, Adam, validation frame F1 after every
//! epoch, the best model kept, early stopping, and a checkpoint (weights, optimiser state,
//! progress) after every epoch so that `resume` continues where a killed run stopped.
//!
//! [`train_instruments`] trains an instrument-family network (MLP, CNN, ResNet-18) on mel
//! images, keeping the model with the best validation accuracy (single-label) or Hamming
//! accuracy (multi-label).
//!
//! [`train_separation`] trains a separation U-Net the same way on `polyphon synth mixtures`,
//! keeping the model with the lowest validation loss.

mod config;
mod instruments;
mod metrics;
mod run;
mod separation;
mod transcription;

pub use config::TranscriptionTrainConfig;
pub use instruments::{
    check_run_folder, ensemble_member_dir, train_instruments, write_ensemble, InstrumentData,
    InstrumentEpochLog, InstrumentOutcome, InstrumentProgress, InstrumentTrainConfig,
};
pub use metrics::FrameScores;
pub use separation::{
    train_separation, SeparationEpochLog, SeparationOutcome, SeparationProgress,
    SeparationTrainConfig,
};
pub use transcription::{train_transcription, EpochLog, Progress, TrainOutcome};

/// Errors of a training run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Dataset(#[from] polyphon_datasets::DatasetError),
    #[error(transparent)]
    Model(#[from] polyphon_models::ModelError),
    #[error(transparent)]
    Instruments(#[from] polyphon_instruments::InstrumentError),
    #[error("{path}: {detail}")]
    File {
        path: std::path::PathBuf,
        detail: String,
    },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, TrainError>;
