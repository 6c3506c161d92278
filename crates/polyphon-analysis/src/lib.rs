//! Entanglement analysis (Kelz & Widmer 2017, "An experimental analysis of the entanglement
//! problem in neural-network-based music transcription systems").
//!
//! Which note combinations does a transcription get right, and does it generalise to
//! combinations its model never saw in training? Every evaluation frame is filed under its
//! reference note set, its [`Combination`]; per combination the analysis counts the frames
//! transcribed exactly, with notes added and with notes omitted, and calls the combination
//! *shared* when the training data's reference frames contain it, *unshared* otherwise.
//!
//! * [`combination`]: the note set of a frame and its names (`G3,A3,C4,D4`).
//! * [`frames`]: piano rolls and note lists to one combination per frame.
//! * [`sources`]: training sets from `polyphon synth` manifests and note list files.
//! * [`analysis`]: the [`TrainingSet`] and the [`Entanglement`] accumulator, fed frame pairs
//!   (from note lists, or from a model's output on any data).
//! * [`summary`]: the rows and frame-weighted totals per group and polyphony.
//! * [`report`]: `combinations.csv`, `summary.json`, the bar charts and `report.md`.
//!
//! The measures are defined in `docs/analysis.md`.

pub mod analysis;
pub mod combination;
mod error;
pub mod frames;
pub mod plot;
pub mod report;
pub mod sources;
pub mod summary;

pub use analysis::{Entanglement, FrameCounts, Group, TrainingSet};
pub use combination::{note_name, Combination};
pub use error::{AnalysisError, Result};
pub use report::{write_report, ReportOptions};
pub use summary::{EntanglementReport, Summary};
