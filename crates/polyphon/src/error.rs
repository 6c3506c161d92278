//! The facade's one error type: each stage's typed error, and what the facade itself checks.

use std::path::PathBuf;

/// Why a call of the library failed. Every variant prints as one line that names the file,
/// model or parameter concerned.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a note list, manifest or output file (polyphon-core).
    #[error(transparent)]
    Core(#[from] polyphon_core::CoreError),
    /// Decoding, resampling or writing audio (polyphon-audio).
    #[error(transparent)]
    Audio(#[from] polyphon_audio::AudioError),
    /// Computing, reading or writing a spectral front-end's features (polyphon-features).
    #[error(transparent)]
    Features(#[from] polyphon_features::FeatureError),
    /// Building, loading, saving or running a network (polyphon-models).
    #[error(transparent)]
    Model(#[from] polyphon_models::ModelError),
    /// Decoding frame probabilities to notes or masks to stems (polyphon-decode).
    #[error(transparent)]
    Decode(#[from] polyphon_decode::DecodeError),
    /// A note list that the transcription metrics cannot evaluate (polyphon-eval).
    #[error(transparent)]
    Validation(#[from] polyphon_eval::ValidationError),
    /// References or estimates that the separation metrics cannot evaluate (polyphon-eval).
    #[error(transparent)]
    Separation(#[from] polyphon_eval::SeparationError),
    /// Loading data for, training, scoring or saving an instrument recogniser
    /// (polyphon-instruments).
    #[error(transparent)]
    Instruments(#[from] polyphon_instruments::InstrumentError),
    /// Assembling a data set from cached features (polyphon-datasets).
    #[error(transparent)]
    Dataset(#[from] polyphon_datasets::DatasetError),
    /// A training run (polyphon-train).
    #[error(transparent)]
    Train(#[from] polyphon_train::TrainError),
    /// Making or writing an entanglement analysis (polyphon-analysis).
    #[error(transparent)]
    Analysis(#[from] polyphon_analysis::AnalysisError),
    /// Synthesising a data set from SoundFonts (polyphon-synth).
    #[error(transparent)]
    Synth(#[from] polyphon_synth::SynthError),
    /// A model named neither a bundled model nor an existing file.
    #[error("{name}: no such file and no bundled model of that name (bundled: {bundled})")]
    UnknownModel {
        /// The name or path asked for.
        name: String,
        /// The bundled models' names, comma-separated.
        bundled: String,
    },
    /// What was being done when `source` failed (loading a model, scoring a file, ...).
    #[error("{context}: {source}")]
    Context {
        /// What was being done.
        context: String,
        /// The error it failed with.
        #[source]
        source: Box<Error>,
    },
    /// A file or folder the facade itself reads, writes or lists, or a program it runs (a
    /// benchmark's Python peer), failed.
    #[error("{path}: {source}")]
    Io {
        /// The file, folder or program concerned.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Input the facade refuses (a parameter out of range, data of the wrong shape).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// Result type of the facade.
pub type Result<T> = std::result::Result<T, Error>;

/// Says what was being done when an error happened, as [`Error::Context`].
pub trait Context<T> {
    /// An error becomes [`Error::Context`] with the text `what` returns (called only on error).
    fn context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Context {
            context: what(),
            source: Box::new(source.into()),
        })
    }
}

/// `Err(Error::Invalid(..))` from a format string.
macro_rules! invalid {
    ($($arg:tt)*) => {
        Err($crate::Error::Invalid(format!($($arg)*)))
    };
}
pub(crate) use invalid;
