//! Decoding: what the models' frame-wise outputs mean as music.
//!
//! * [`NoteDecoder`] turns a (frames × pitches) probability matrix into notes, by one
//!   documented rule (threshold, gap filling, minimum length), the inverse of the label rule
//!   `onset <= k / fps < offset` used for training.
//! * [`PianoRoll`] draws the probabilities with the decoded notes outlined over them.
//! * [`stems`]: source separation's masks over the mixture's complex STFT to stems, and the
//!   ideal ratio masks (the oracle baseline).

mod notes;
mod roll;
pub mod stems;

pub use notes::{NoteDecoder, NoteStream};
pub use polyphon_core::Note;
pub use roll::PianoRoll;

/// Errors of the decoding stage.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("invalid decoding parameter: {0}")]
    InvalidParameter(String),
    #[error(transparent)]
    Audio(#[from] polyphon_audio::AudioError),
    #[error("{path}: drawing failed: {detail}")]
    Image {
        path: std::path::PathBuf,
        detail: String,
    },
}

pub type Result<T> = std::result::Result<T, DecodeError>;
