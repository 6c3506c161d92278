use std::path::PathBuf;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("expected {expected} feature values ({frames} frames of {bins} bins), got {got}")]
    FeatureLength {
        expected: usize,
        frames: usize,
        bins: usize,
        got: usize,
    },
    /// A name that no network (or setting) of the asking kind has; the text says which kind
    /// and lists the known names.
    #[error("unknown {0}")]
    UnknownArchitecture(String),
    /// A network's shape that cannot be built (e.g. a width of 0).
    #[error("invalid network: {0}")]
    InvalidSpec(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: invalid model description: {source}")]
    Sidecar {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {message}")]
    Unsupported { path: PathBuf, message: String },
    #[error("{path}: {message}")]
    Record { path: PathBuf, message: String },
    #[error("the {engine} engine does not run the {architecture} (it runs {runs} only)")]
    UnsupportedEngine {
        engine: &'static str,
        architecture: &'static str,
        runs: &'static str,
    },
    #[error(
        "ONNX Runtime could not be loaded from {path}: {message} (set ORT_DYLIB_PATH to a \
         libonnxruntime.so of version 1.22 or later, such as the one in the onnxruntime wheel)"
    )]
    OrtLibrary { path: PathBuf, message: String },
    #[error("ONNX Runtime: {0}")]
    Ort(String),
    #[error("this build has no {0} engine (build with the crate feature `{0}`)")]
    EngineNotBuilt(&'static str),
    #[error("reading tensor data: {0}")]
    TensorData(String),
    /// A file that cannot be written, or whose checksum does not match its record.
    #[error(transparent)]
    File(#[from] polyphon_core::CoreError),
}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, ModelError>;
