//! polyphon's shared vocabulary, the room every other crate stands on:
//!
//! * [`Note`], and note lists as CSV ([`read_csv`], [`write_csv`]) and MIDI ([`read_midi`],
//!   [`write_midi`], one documented pairing rule); [`read_notes`] picks by extension;
//! * [`frame_labels`] and [`active_frames`], the one rule from notes to frames
//!   (`onset <= k / fps < offset`);
//! * [`manifest`]: the JSON-lines manifests of data sets and their splits;
//! * [`SeededRng`], the one random number generator of data sets and training;
//! * [`AtomicFile`], outputs that appear under their name only when complete, and
//!   [`OutputGroup`], a command's outputs that appear together.
//!
//! ```
//! use polyphon_core::{frame_labels, Note};
//!
//! let notes = [Note::new(0.10, 0.13, 60, 100)];
//! let roll = frame_labels(&notes, 100.0, 20, 88, 21);
//! let frames: Vec<usize> = (0..20).filter(|&k| roll.is_active(k, 60)).collect();
//! assert_eq!(frames, [10, 11, 12]);
//! ```

mod atomic_file;
pub mod checksum;
mod csv;
mod error;
mod labels;
pub mod manifest;
mod midi;
mod note;
mod rng;

use std::path::Path;

pub use atomic_file::{remove_temporary_files_and_exit, write_atomically, AtomicFile, OutputGroup};
pub use csv::{parse_csv, read_csv, write_csv, CSV_HEADER};
pub use error::{CoreError, Result};
pub use labels::{active_frames, frame_labels, FrameLabels};
pub use manifest::{read_manifest, read_split, write_manifest, ManifestEntry, Split};
pub use midi::{parse_midi, read_midi, read_midi_parts, write_midi};
pub use note::{
    midi_to_hz, normalize_notes, notes_end, quantise_pitch, sort_notes, Note, MAX_NOTE_SECONDS,
};
pub use rng::SeededRng;

/// Reads a note list, choosing the format by extension: `.csv`, or `.mid` / `.midi`.
pub fn read_notes(path: impl AsRef<Path>) -> Result<Vec<Note>> {
    let path = path.as_ref();
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("csv") => read_csv(path),
        Some("mid" | "midi") => read_midi(path),
        _ => Err(CoreError::UnknownFormat {
            path: path.to_path_buf(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_extensions_are_refused() {
        let error = read_notes(Path::new("notes.txt")).unwrap_err();
        assert!(matches!(error, CoreError::UnknownFormat { .. }));
    }
}
