//! Audio input and output for polyphon, the first room on the data path.
//!
//! * [`AudioReader`] decodes WAV, FLAC, MP3 and Ogg Vorbis with symphonia, block by block,
//!   and mixes every block down to mono ([`Downmix`]).
//! * [`StreamResampler`] converts such a stream to another sample rate with rubato.
//! * [`MonoStream`] chains the two: the front-ends read audio from it at their own rate,
//!   with memory that does not grow with the file's length.
//! * [`read_channels`] reads a whole file with its channels kept apart, in f64 (for
//!   evaluation, which compares every channel).
//! * [`write_wav`] and [`WavStreamWriter`] write WAV files that never exist half-written
//!   (through [`polyphon_core::AtomicFile`]).

mod channels;
mod decode;
mod downmix;
mod error;
mod resample;
mod stream;
mod wav;

pub use channels::{read_channels, MultiChannelAudio};
pub use decode::{AudioInfo, AudioReader};
pub use downmix::Downmix;
pub use error::AudioError;
pub use resample::StreamResampler;
pub use stream::{read_mono, MonoAudio, MonoStream};
pub use wav::{write_wav, WavFormat, WavStreamWriter};

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, AudioError>;
