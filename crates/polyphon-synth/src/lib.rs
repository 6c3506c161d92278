//! Data synthesis for polyphon: renders training data from SoundFonts with rustysynth.
//!
//! * [`notes`]: the note-event type, its CSV and MIDI files, and [`notes::frame_labels`], the
//!   one rule deriving frame labels from notes.
//! * [`soundfont`], [`render`], [`levels`]: loading SF2 files, rendering note lists to mono
//!   audio, and matching the loudness of different SoundFonts.
//! * [`recipes`]: the data sets (FLUID-COMBI/ISOL, MAPS-like pieces, NSynth-like notes,
//!   mixtures), each writing audio, labels and a [`manifest`], skipping finished files on a
//!   rerun, rendering in parallel and ending with a [`summary`].

mod error;
pub mod levels;
pub mod notes;
pub mod render;
pub mod rng;
pub mod soundfont;

pub use error::{Result, SynthError};
pub mod manifest;
pub mod output;
pub mod recipes;
pub mod summary;

/// Sets the number of rendering threads (rayon's global pool); call once, before any recipe.
pub fn set_threads(threads: usize) -> Result<()> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| SynthError::Invalid(format!("cannot start {threads} worker threads: {e}")))
}
