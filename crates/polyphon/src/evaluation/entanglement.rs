//! The frames the entanglement analysis of Kelz & Widmer 2017 compares, from a transcription
//! model run over a data set: per frame, the reference note combination and the model's
//! thresholded one (no note post-processing, as in the paper).

use std::path::Path;

use polyphon_analysis::frames::DEFAULT_FPS;
use polyphon_analysis::sources::entry_frames;
use polyphon_analysis::Combination;
use polyphon_core::manifest::{read_split, Split};

use crate::{Result, Transcriber};

/// One file's frames: reference and estimated combinations, of equal length.
pub type FramePairs = (Vec<Combination>, Vec<Combination>);

/// The model's combinations (keys at or above `threshold`) against the references, frame by
/// frame at 100 frames per second, for every file of `split`; `progress` counts the files.
pub fn model_frames(
    transcriber: &Transcriber,
    manifest: &Path,
    split: Split,
    threshold: f32,
    mut progress: impl FnMut(usize, usize),
) -> Result<Vec<FramePairs>> {
    let entries = read_split(manifest, split)?;
    let root = manifest.parent().unwrap_or(Path::new("."));
    let keys = transcriber.keys();
    let lowest = transcriber.model().architecture().lowest_pitch();
    let mut files = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let mut estimate = Vec::new();
        transcriber.probabilities_of_file(root.join(&entry.file), |chunk| {
            estimate.extend(chunk.rows.chunks_exact(keys).map(|row| {
                let sounding = row.iter().enumerate().filter(|(_, &p)| p >= threshold);
                Combination::from_pitches(sounding.map(|(k, _)| lowest + k as u8))
            }));
            Ok(())
        })?;
        let mut reference = entry_frames(root, entry, DEFAULT_FPS)?;
        // The front-end's frame count and ceil(duration · fps) can differ by one at the end.
        let frames = reference.len().min(estimate.len());
        reference.truncate(frames);
        estimate.truncate(frames);
        files.push((reference, estimate));
        progress(index + 1, entries.len());
    }
    Ok(files)
}
