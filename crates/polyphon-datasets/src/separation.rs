//! Source-separation data: magnitude spectrograms of each mixture and of its named stems,
//! cut into shuffled fixed-size patches.

use std::path::Path;

use polyphon_features::FeatureSpec;
use polyphon_synth::manifest::{read_manifest, ManifestEntry, Split};
use rayon::prelude::*;

use crate::batches::{patch_starts, ShuffledOrder};
use crate::{CachedFeatures, DatasetError, FeatureCache, Result};

/// One mixture: its magnitudes and those of each requested source, `frames × bins`.
pub struct SeparationPiece {
    pub file: String,
    pub mixture: CachedFeatures,
    pub sources: Vec<CachedFeatures>,
}

/// The mixtures of one split that hold every requested source.
pub struct SeparationSet {
    pub sources: Vec<String>,
    pub pieces: Vec<SeparationPiece>,
}

/// The stem of `entry` whose family is `source` (stems and families are in the same order).
fn stem_of<'a>(entry: &'a ManifestEntry, source: &str) -> Option<&'a str> {
    let index = entry.families.iter().position(|f| f == source)?;
    entry.stems.get(index).map(String::as_str)
}

/// Whether `entry` mixes exactly `sources`, one stem each: a mixture with another
/// instrument has no target for it, and masks that sum to one would have to hand its energy
/// to the named sources.
fn has_exactly(entry: &ManifestEntry, sources: &[String]) -> bool {
    entry.families.len() == sources.len()
        && entry.stems.len() == sources.len()
        && sources.iter().all(|s| stem_of(entry, s).is_some())
}

impl SeparationSet {
    /// Loads `split` of a `polyphon synth mixtures` manifest: every mixture of exactly
    /// `sources`, one stem each (the bass + flute pairs for `["bass", "flute"]`), magnitudes
    /// from `cache` (computed on first use).
    pub fn load(
        manifest: &Path,
        split: Split,
        cache: &FeatureCache,
        sources: &[String],
    ) -> Result<Self> {
        let root = manifest.parent().unwrap_or(Path::new("."));
        let entries: Vec<ManifestEntry> = read_manifest(manifest)?
            .into_iter()
            .filter(|e| e.split == split && has_exactly(e, sources))
            .collect();
        if entries.is_empty() {
            return Err(DatasetError::Invalid(format!(
                "{}: no mixture in split '{}' is made of exactly {}",
                manifest.display(),
                split.name(),
                sources.join(" and ")
            )));
        }
        let pieces = entries
            .par_iter()
            .map(|entry| {
                let mixture = cache.features(root, &entry.file)?;
                let stems = sources
                    .iter()
                    .map(|s| cache.features(root, stem_of(entry, s).expect("filtered")))
                    .collect::<Result<Vec<_>>>()?;
                if stems.iter().any(|s| s.frames != mixture.frames) {
                    return Err(DatasetError::Invalid(format!(
                        "{}: stems and mixture differ in length",
                        entry.file
                    )));
                }
                Ok(SeparationPiece {
                    file: entry.file.clone(),
                    mixture,
                    sources: stems,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            sources: sources.to_vec(),
            pieces,
        })
    }

    /// The separation front-end: librosa's magnitude STFT at 16 kHz, 1024 points, hop 256.
    pub fn spec() -> FeatureSpec {
        FeatureSpec::librosa_stft(16_000, 1024, 256).expect("valid constants")
    }
}

/// A batch of patches: network input `log(1 + |X|)`, the mixture magnitudes `|X|` and each
/// source's magnitudes, all on `frames × bins` patches (bins beyond `bins` dropped, frames past
/// a file's end zero).
#[derive(Debug, Clone, PartialEq)]
pub struct SeparationBatch {
    /// `(size, 1, frames, bins)`.
    pub inputs: Vec<f32>,
    /// `(size, 1, frames, bins)`.
    pub mixture: Vec<f32>,
    /// `(size, sources, frames, bins)`.
    pub targets: Vec<f32>,
    pub size: usize,
    pub sources: usize,
    pub frames: usize,
    pub bins: usize,
}

/// Shuffled patches starting every `hop` frames of every piece, seeded per epoch.
pub struct SeparationBatcher {
    order: ShuffledOrder,
    frames: usize,
    bins: usize,
}

impl SeparationBatcher {
    pub fn new(
        set: &SeparationSet,
        batch_size: usize,
        frames: usize,
        bins: usize,
        hop: usize,
        seed: u64,
    ) -> Self {
        let order = patch_starts(set.pieces.iter().map(|p| p.mixture.frames), frames, hop);
        Self {
            order: ShuffledOrder::new(order, batch_size, seed),
            frames,
            bins,
        }
    }

    pub fn start_epoch(&mut self, epoch: u64) {
        self.order.start_epoch(epoch);
    }

    pub fn batches_per_epoch(&self) -> usize {
        self.order.batches_per_epoch()
    }

    /// The next batch of the epoch, or `None` at its end.
    pub fn next_batch(&mut self, set: &SeparationSet) -> Option<SeparationBatch> {
        let (frames, bins) = (self.frames, self.bins);
        let picks = self.order.next_picks()?;
        let sources = set.sources.len();
        let patch = frames * bins;
        let mut batch = SeparationBatch {
            inputs: vec![0.0; picks.len() * patch],
            mixture: vec![0.0; picks.len() * patch],
            targets: vec![0.0; picks.len() * sources * patch],
            size: picks.len(),
            sources,
            frames,
            bins,
        };
        for (i, &(p, start)) in picks.iter().enumerate() {
            let piece = &set.pieces[p as usize];
            copy_patch(
                &piece.mixture,
                start as usize,
                frames,
                bins,
                &mut batch.mixture[i * patch..],
            );
            for (s, source) in piece.sources.iter().enumerate() {
                let at = (i * sources + s) * patch;
                copy_patch(
                    source,
                    start as usize,
                    frames,
                    bins,
                    &mut batch.targets[at..],
                );
            }
        }
        for (input, &magnitude) in batch.inputs.iter_mut().zip(&batch.mixture) {
            *input = magnitude.ln_1p();
        }
        Some(batch)
    }
}

/// Copies frames `start..start + frames`, bins `..bins` of `features` into `out` (row-major);
/// what lies past the end stays as it is (zero).
fn copy_patch(
    features: &CachedFeatures,
    start: usize,
    frames: usize,
    bins: usize,
    out: &mut [f32],
) {
    let used = features.bins.min(bins);
    for (row, frame) in (start..(start + frames).min(features.frames)).enumerate() {
        out[row * bins..row * bins + used].copy_from_slice(&features.row(frame)[..used]);
    }
}
