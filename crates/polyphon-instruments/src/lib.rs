//! Instrument recognition for polyphon: which instrument families sound in a clip.
//!
//! * [`bands`]: the front-ends' band scale, mel or logarithmic.
//! * [`pooled`]: the trees' input, band spectrograms pooled over time segments;
//!   [`dataset`]: a `polyphon synth` manifest split to those vectors (or to images) and
//!   labels, for the single-label (4 families) and multi-label (6 families) tasks.
//! * [`image`]: the networks' input, the unpooled log-band image of a file;
//!   [`mixer`]: multi-label examples mixed on the fly from single notes, each note optionally
//!   equalised at random ([`note_eq`]); [`augment`]: random equalisation of training images.
//! * [`gbdt`]: gradient-boosted trees (perpetual), one booster per class, early stopping on
//!   the validation split, saved as JSON.
//! * [`metrics`]: accuracy, confusion matrix, per-class precision/recall/F1, exact match,
//!   Hamming accuracy and average precision, equal to scikit-learn's.
//! * [`evaluate`], [`plot`]: a model scored on a split, the CSV and PNG reports;
//!   [`breakdown`]: the same scores per SoundFont and per preset; [`thresholds`]: per-family
//!   decision thresholds fitted on a validation split.

pub mod augment;
pub mod bands;
pub mod breakdown;
pub mod dataset;
mod error;
pub mod evaluate;
pub mod gbdt;
pub mod image;
pub mod metrics;
pub mod mixer;
pub mod note_eq;
pub mod plot;
pub mod pooled;
pub mod thresholds;

pub use augment::SpectralAugment;

/// The shortest audio classified, in seconds: below it the image is mostly padding, and
/// a model would still name a family with confidence.
pub const MIN_CLIP_SECONDS: f64 = 0.5;

/// An error where audio whose length is known to lie in `seconds` (a range where only frames
/// were counted) is shorter than [`MIN_CLIP_SECONDS`]; the error gives the lower end.
pub fn check_clip_length(
    path: &std::path::Path,
    seconds: std::ops::RangeInclusive<f64>,
) -> std::result::Result<(), InstrumentError> {
    if *seconds.end() >= MIN_CLIP_SECONDS {
        return Ok(());
    }
    Err(InstrumentError::File {
        path: path.to_path_buf(),
        detail: format!(
            "too short to classify: {:.3} s of audio (at least {MIN_CLIP_SECONDS} s)",
            seconds.start()
        ),
    })
}
pub use bands::{BandGrid, BandScale};
pub use dataset::{load_images, load_split, task_entries, Dataset, Task};
pub use error::InstrumentError;
pub use evaluate::{evaluate, score, Evaluation};
pub use gbdt::{ClassFit, GbdtModel, GbdtParams};
pub use image::{images_of_files, BandImage, BandImager};
pub use mixer::{MixDraw, NoteMixer};
pub use pooled::{features_of_files, PooledSpectrum};
pub use thresholds::{fit_thresholds, Thresholds};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, InstrumentError>;
