//! Data sets for the models, between synthesis and training.
//!
//! * [`FeatureCache`] computes a front-end's features of each audio file once and keeps them
//!   on disk as `.npy`, memory-mapped when read, so a data set larger than RAM trains.
//! * [`TranscriptionSet`] pairs the cached log-filtered spectrogram of every file of a
//!   manifest split with its frame labels, derived from the CSV note list by
//!   [`polyphon_core::frame_labels`], the one label rule.
//! * [`FrameBatcher`] draws shuffled batches of frames with context windows,
//!   [`SequenceBatcher`] of whole sequences of frames and [`PatchBatcher`] of fixed-size
//!   patches, all seeded ([`Batches`]).
//! * [`MixingBatcher`] sums the audio of randomly drawn files of a split into new mixtures
//!   on the fly, labels being the union of their notes (a disentangling scheme).
//! * [`SeparationSet`] holds the magnitude spectrograms of mixtures and their stems, and
//!   [`SeparationBatcher`] cuts them into shuffled patches.

mod batches;
mod cache;
mod mixing;
mod separation;
mod transcription;

pub use batches::{Batch, Batches, FrameBatcher, PatchBatcher, SequenceBatcher};
pub use cache::{CachedFeatures, FeatureCache};
pub use mixing::{MixingBatcher, MixingOptions};
pub use separation::{
    wave_len, PieceWaves, SeparationBatch, SeparationBatcher, SeparationPiece, SeparationSet,
};
pub use transcription::{Piece, TranscriptionSet, PIANO_KEYS, PIANO_LOWEST};

/// Errors while assembling a data set.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error(transparent)]
    Features(#[from] polyphon_features::FeatureError),
    #[error(transparent)]
    Synth(#[from] polyphon_core::CoreError),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, DatasetError>;
