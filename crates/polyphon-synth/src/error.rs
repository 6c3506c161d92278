use std::path::PathBuf;

/// Everything that can go wrong while synthesising a data set.
///
/// Each variant names the file or preset concerned, so a command line can print it as one line.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a usable SoundFont ({detail})")]
    SoundFont { path: PathBuf, detail: String },
    #[error("{path}: has no preset at bank {bank}, program {program}")]
    MissingPreset {
        path: PathBuf,
        bank: u8,
        program: u8,
    },
    #[error("{path}: {detail}")]
    Json { path: PathBuf, detail: String },
    #[error("{path}: rendering failed ({detail})")]
    Render { path: PathBuf, detail: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Audio(#[from] polyphon_audio::AudioError),
    #[error(transparent)]
    Core(#[from] polyphon_core::CoreError),
}

impl SynthError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, SynthError>;
