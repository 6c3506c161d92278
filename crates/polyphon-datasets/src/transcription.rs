use std::path::Path;

use polyphon_core::manifest::{read_split, Split};
use polyphon_core::{frame_labels, read_csv, FrameLabels};
use rayon::prelude::*;

use crate::{CachedFeatures, FeatureCache, Result};

/// MIDI number of the lowest piano key (A0) and the number of keys: the models' 88 outputs.
pub const PIANO_LOWEST: u8 = 21;
pub const PIANO_KEYS: usize = 88;

/// One audio file: its cached features and the frame labels on the same frame grid.
pub struct Piece {
    pub file: String,
    pub synthesizer: String,
    pub features: CachedFeatures,
    pub labels: FrameLabels,
}

/// The files of one split of a transcription manifest, ready for batching.
pub struct TranscriptionSet {
    pub pieces: Vec<Piece>,
}

impl TranscriptionSet {
    /// Loads `split` of `manifest` (a `polyphon synth` JSON-lines file), computing missing
    /// features into `cache`; labels cover `keys` pitches from MIDI `lowest`.
    pub fn load(
        manifest: &Path,
        split: Split,
        cache: &FeatureCache,
        lowest: u8,
        keys: usize,
    ) -> Result<Self> {
        let root = manifest.parent().unwrap_or(Path::new("."));
        let entries = read_split(manifest, split)?;
        let fps = cache.spec().fps();
        let pieces = entries
            .par_iter()
            .map(|entry| {
                let features = cache.features(root, &entry.file)?;
                let notes = read_csv(root.join(&entry.labels_csv))?;
                let labels = frame_labels(&notes, fps, features.frames, keys, lowest);
                Ok(Piece {
                    file: entry.file.clone(),
                    synthesizer: entry.synthesizer.clone(),
                    features,
                    labels,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { pieces })
    }

    /// Total number of frames.
    pub fn frames(&self) -> usize {
        self.pieces.iter().map(|p| p.features.frames).sum()
    }
}
