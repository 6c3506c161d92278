use std::path::PathBuf;

/// Why an analysis could not be made or written. Errors about files name the file.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    /// A note list (CSV or MIDI), a manifest or an output file could not be read or written.
    #[error(transparent)]
    Data(#[from] polyphon_core::CoreError),
    /// An output file could not be written.
    #[error(transparent)]
    Write(#[from] polyphon_audio::AudioError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the reference has {reference} frames but the estimate {estimate}")]
    FrameCountMismatch { reference: usize, estimate: usize },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, AnalysisError>;
