use std::path::PathBuf;

/// Why loading data, training, scoring or saving failed.
#[derive(Debug, thiserror::Error)]
pub enum InstrumentError {
    #[error(transparent)]
    Features(#[from] polyphon_features::FeatureError),
    #[error(transparent)]
    Audio(#[from] polyphon_audio::AudioError),
    #[error(transparent)]
    Manifest(#[from] polyphon_core::CoreError),
    #[error(transparent)]
    Plot(#[from] polyphon_plot::PlotError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {detail}")]
    File { path: PathBuf, detail: String },
    #[error("gradient boosting failed: {0}")]
    Boosting(String),
    #[error("{0}")]
    Invalid(String),
}

impl InstrumentError {
    /// A `map_err` adapter for I/O errors on `path`.
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
