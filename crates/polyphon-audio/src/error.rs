use std::path::PathBuf;

/// Everything that can go wrong between a file name and a stream of samples.
///
/// Each variant names the file, so a command line can print the error as one line.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: file is empty")]
    EmptyFile { path: PathBuf },
    #[error("{path}: not a recognised audio file ({detail})")]
    UnrecognisedFormat { path: PathBuf, detail: String },
    #[error("{path}: unsupported codec ({detail})")]
    UnsupportedCodec { path: PathBuf, detail: String },
    #[error("{path}: decoding failed ({detail})")]
    Decode { path: PathBuf, detail: String },
    #[error("{path}: truncated file (header announces {expected} samples per channel, only {found} could be read)")]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },
    #[error("{path}: contains no audio samples")]
    NoSamples { path: PathBuf },
    #[error("{path}: sample {index} is not a finite number ({value})")]
    NonFinite {
        path: PathBuf,
        index: u64,
        value: f64,
    },
    #[error("{path}: {detail}")]
    InvalidAudio { path: PathBuf, detail: String },
    #[error("resampling from {from} Hz to {to} Hz failed: {detail}")]
    Resample { from: u32, to: u32, detail: String },
    #[error("{path}: writing failed: {detail}")]
    Write { path: PathBuf, detail: String },
    #[error(transparent)]
    Core(#[from] polyphon_core::CoreError),
}
