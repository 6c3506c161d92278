use std::path::PathBuf;

/// Errors of the spectral front-ends.
#[derive(Debug, thiserror::Error)]
pub enum FeatureError {
    #[error(transparent)]
    Audio(#[from] polyphon_audio::AudioError),
    #[error(transparent)]
    Core(#[from] polyphon_core::CoreError),
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a float32 2-D .npy file ({detail})")]
    BadNpy { path: PathBuf, detail: String },
    #[error("{path}: drawing failed: {detail}")]
    Image { path: PathBuf, detail: String },
}

pub(crate) fn invalid(detail: impl Into<String>) -> FeatureError {
    FeatureError::InvalidParameter(detail.into())
}
