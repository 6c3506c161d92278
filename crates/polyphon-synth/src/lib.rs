//! Data synthesis for polyphon: renders training data from SoundFonts with rustysynth.
//!
//! * [`soundfont`], [`render`], [`levels`]: loading SF2 files, rendering note lists to mono
//!   audio, and matching the loudness of different SoundFonts.
//! * [`recipes`]: the data sets (FLUID-COMBI/ISOL, MAPS-like pieces, NSynth-like notes,
//!   mixtures), each writing audio, labels and a [`polyphon_core::manifest`], skipping
//!   finished files on a rerun, rendering in parallel and ending with a [`summary`].
//!
//! Notes, their files, the label rule and manifests are polyphon-core's; nothing but
//! synthesis depends on this crate.

mod error;
pub mod levels;
pub mod render;
pub mod soundfont;

pub use error::{Result, SynthError};
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
