//! # polyphon
//!
//! Deep learning on music audio, as a library: piano transcription, source separation,
//! instrument recognition, the spectral front-ends the published models were defined on, and
//! metrics equal to mir_eval's and museval's. The `polyphon` command is a thin layer over
//! this crate.
//!
//! Transcribing a file to MIDI with the bundled model:
//!
//! ```
//! # fn main() -> polyphon::Result<()> {
//! # let out = tempfile::tempdir().unwrap();
//! # let rag = out.path().join("rag.mid");
//! # let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/maple_leaf_rag_timgm6mb.wav");
//! let transcriber = polyphon::Transcriber::bundled()?;
//! let notes = transcriber.transcribe_file(example)?;
//! polyphon::notes::write_midi(&rag, &notes, 0, "piano")?;
//! assert!(notes.len() > 300);
//! # Ok(())
//! # }
//! ```
//!
//! The same from samples in memory, and the scores against a reference:
//!
//! ```no_run
//! # fn main() -> polyphon::Result<()> {
//! let audio = polyphon::audio::read("piece.wav")?;
//! let notes = polyphon::Transcriber::bundled()?.transcribe(&audio.samples, audio.sample_rate)?;
//! let reference = polyphon::notes::read_notes("piece.csv")?;
//! let scores = polyphon::metrics::evaluate_transcription(&reference, &notes)?;
//! println!("frame F1 {:.3}, onset F1 {:.3}", scores.frame.f1, scores.onset.f1);
//! # Ok(())
//! # }
//! ```
//!
//! What is here, by job:
//! * [`Transcriber`]: audio (samples, streams or files) to [`Note`]s;
//! * [`Separator`]: a mixture to one signal per source;
//! * [`Classifier`]: which instrument families sound;
//! * [`features()`] and [`features_of_file`]: madmom's and librosa's spectrograms;
//! * [`metrics`]: transcription and separation scores equal to mir_eval's and museval's;
//! * [`evaluation`]: those scores over a whole data set, for any system;
//! * [`experiments`]: the seed paper's FLUID experiment, from synthesis to report;
//! * [`bench`]: speed against the Python peers, measured in the same run;
//! * [`bundled`]: the models compiled in (crate feature `bundled`, on by default).
//!
//! The stages themselves are the workspace's crates, re-exported as modules: [`notes`]
//! (polyphon-core), [`audio`], [`spectra`] (polyphon-features), [`models`], [`decode`],
//! [`datasets`], [`train`], [`synth`], [`instruments`], [`analysis`].

#![warn(missing_docs)]

pub mod batch;
pub mod bench;
#[cfg(feature = "bundled")]
pub mod bundled;
mod classifier;
mod error;
pub mod evaluation;
pub mod experiments;
mod feature_files;
mod memory;
mod separation_stream;
mod separator;
mod spectrum_options;
mod termination;
mod transcriber;

use std::path::Path;

pub use classifier::{
    decision_thresholds, model_path, run_folder, Classifier, InstrumentModel, Segments,
};
pub(crate) use error::invalid;
pub use error::{Context, Error, Result};
pub use feature_files::{write_features, FeatureOutputs, FeatureShape, MAX_CONTEXT};
pub use memory::keep_freed_memory;
pub use polyphon_core::Note;
pub use polyphon_models::Engine;
pub use separator::{to_f32, SeparationStream, Separator, Stems};
pub use spectrum_options::{SpectrumKindChoice, SpectrumOptions};
pub use termination::remove_temporary_files_on_termination;
pub use transcriber::{
    EngineChoice, ProbabilityChunk, Transcriber, TranscriptionOutputs, TranscriptionStream,
};

/// Notes, their CSV and MIDI files, the frame-label rule, manifests, the seeded RNG
/// (polyphon-core).
pub mod notes {
    pub use polyphon_core::*;
}

/// Reading, resampling and writing audio (polyphon-audio).
pub mod audio {
    pub use polyphon_audio::*;

    /// Reads a whole file as mono samples at its own rate (channels averaged).
    pub fn read(path: impl AsRef<std::path::Path>) -> crate::Result<MonoAudio> {
        Ok(read_mono(path, None, Downmix::Mean)?)
    }
}

/// The spectral front-ends (polyphon-features).
pub mod spectra {
    pub use polyphon_features::*;
}

/// Metrics equal to mir_eval's and museval's (polyphon-eval).
pub mod metrics {
    pub use polyphon_eval::*;
}

/// The networks, their inference and storage (polyphon-models).
pub mod models {
    pub use polyphon_models::*;
}

/// Frame probabilities to notes, masks to stems (polyphon-decode).
pub mod decode {
    pub use polyphon_decode::*;
}

/// Feature caches and batches for training (polyphon-datasets).
pub mod datasets {
    pub use polyphon_datasets::*;
}

/// The training loop and the three tasks (polyphon-train).
pub mod train {
    pub use polyphon_train::*;
}

/// SoundFont rendering and the data-set recipes (polyphon-synth).
pub mod synth {
    pub use polyphon_synth::*;
}

/// Instrument recognition data, trees and metrics (polyphon-instruments).
pub mod instruments {
    pub use polyphon_instruments::*;
}

/// The entanglement analysis of Kelz & Widmer 2017 (polyphon-analysis).
pub mod analysis {
    pub use polyphon_analysis::*;
}

/// The feature matrix of mono `samples` at `sample_rate` (resampled to the front-end's rate).
///
/// ```
/// use polyphon::spectra::FeatureSpec;
///
/// let tone: Vec<f32> = (0..44_100).map(|i| (i as f32 * 0.0627).sin()).collect();
/// let spectrogram = polyphon::features(&tone, 44_100, &FeatureSpec::kelz2016()).unwrap();
/// assert_eq!((spectrogram.num_frames, spectrogram.num_bins), (100, 229));
/// ```
pub fn features(
    samples: &[f32],
    sample_rate: u32,
    spec: &polyphon_features::FeatureSpec,
) -> Result<polyphon_features::FeatureMatrix> {
    let extractor = polyphon_features::Extractor::new(spec.clone())?;
    Ok(extractor.extract_samples(samples, sample_rate)?)
}

/// The feature matrix of an audio file, decoded, down-mixed and resampled as `spec` says.
pub fn features_of_file(
    path: impl AsRef<Path>,
    spec: &polyphon_features::FeatureSpec,
) -> Result<polyphon_features::FeatureMatrix> {
    let extractor = polyphon_features::Extractor::new(spec.clone())?;
    Ok(extractor.extract_file(path, true)?)
}

/// A model named by path, once no bundled model had that name: the path must exist.
fn model_file<'a>(choice: &'a str, bundled: &[&str]) -> Result<&'a Path> {
    let path = Path::new(choice);
    if !path.exists() {
        return Err(Error::UnknownModel {
            name: choice.to_string(),
            bundled: bundled.join(", "),
        });
    }
    Ok(path)
}
