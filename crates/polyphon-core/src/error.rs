use std::path::PathBuf;

/// What can go wrong reading or writing the shared files: note lists, manifests, outputs.
///
/// Each variant names the file (and the line, where there is one), so a command line can print
/// the error as one line.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: writing failed: {detail}")]
    Write { path: PathBuf, detail: String },
    #[error("{path}, line {line}: {detail}")]
    Csv {
        path: PathBuf,
        line: usize,
        detail: String,
    },
    #[error("{path}: not a readable MIDI file ({detail})")]
    Midi { path: PathBuf, detail: String },
    #[error("{path}: unknown note list format (expected a .csv, .mid or .midi file)")]
    UnknownFormat { path: PathBuf },
    #[error("{path}: {detail}")]
    Json { path: PathBuf, detail: String },
    #[error(
        "{path}: damaged or changed since it was saved (SHA-256 {found}, its record says {expected})"
    )]
    Checksum {
        path: PathBuf,
        expected: String,
        found: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl CoreError {
    /// What went wrong without the path, for a caller whose own error names the file once.
    pub fn detail(&self) -> String {
        match self {
            Self::Io { source, .. } => source.to_string(),
            Self::Write { detail, .. } => detail.clone(),
            Self::Checksum {
                expected, found, ..
            } => format!(
                "damaged or changed since it was saved (SHA-256 {found}, its record says \
                 {expected})"
            ),
            other => other.to_string(),
        }
    }

    /// An `Io` error naming `path`, for `map_err`.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, CoreError>;
