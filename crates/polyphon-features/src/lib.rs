//! Spectral front-ends for polyphon, each a small value holding its parameters and chained
//! like madmom's processors:
//!
//! framing ([`FrameGrid`]) → windowed FFT ([`Stft`]) → optional filterbank
//! ([`Filterbank`]: madmom's logarithmic one or librosa's mel one) → scaling ([`Scaling`])
//! → optional context windows ([`ContextWindows`]).
//!
//! [`ComplexStft`] is librosa's complex `stft` and `istft` (with a streaming inverse,
//! [`OverlapAdd`]), the signal side of source separation.
//!
//! [`FeatureSpec`] names the whole chain; [`Extractor`] runs it over a
//! [`polyphon_audio::MonoStream`] in batches, in parallel, with memory bounded by the batch.
//! The log-filtered spectrogram equals madmom's `LogarithmicFilteredSpectrogram` and the mel
//! spectrogram librosa's `melspectrogram` (checked against fixtures made by both).

mod complex_stft;
mod context;
mod error;
mod extractor;
mod filterbank;
mod framing;
mod image;
mod npy;
mod scaling;
mod spec;
mod stft;
mod window;

/// The image crate, re-exported so callers can draw on rendered spectrograms.
pub use ::image as image_crate;
pub use complex_stft::{ComplexSpectrogram, ComplexStft, OverlapAdd};
pub use context::{stack_context, ContextWindows};
pub use error::FeatureError;
pub use extractor::{extract, Extractor, FeatureMatrix, FeatureStream, Finish};
pub use filterbank::{
    hz_to_mel, mel_to_hz, Filterbank, LogFilterbankParams, MelFilterbankParams, MelScale,
};
pub use framing::{onset_segment_frames, segment_frames, FrameCount, FrameGrid, ONSET_SEGMENTS};
pub use image::{save_png, ColumnPooler, ImageGeometry, SpectrogramImage};
pub use npy::{read_npy_f32, NpyWriter};
pub use realfft::num_complex::Complex32;
pub use scaling::{power_to_db, DbParams, DbReference, Scaling};
pub use spec::{FeatureKind, FeatureSpec, FilterbankSpec};
pub use stft::{SpectrumKind, Stft, StftScratch};
pub use window::Window;

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, FeatureError>;
