//! Source-separation data: magnitude spectrograms of each mixture and of its named stems,
//! cut into shuffled fixed-size patches; for waveform losses also the mixture's complex STFT
//! and the stems' samples under each patch.

use std::path::Path;

use polyphon_audio::read_mono;
use polyphon_core::manifest::{read_manifest, ManifestEntry, Split};
use polyphon_features::{ComplexStft, FeatureSpec};
use rayon::prelude::*;

use crate::batches::{patch_starts, ShuffledOrder};
use crate::{CachedFeatures, DatasetError, FeatureCache, Result};

/// One mixture: its magnitudes and those of each requested source, `frames × bins`.
pub struct SeparationPiece {
    pub file: String,
    pub mixture: CachedFeatures,
    pub sources: Vec<CachedFeatures>,
    /// Present when the set was loaded [`with waves`](SeparationSet::load_with_waves).
    pub waves: Option<PieceWaves>,
}

/// What a loss on waveforms needs of one mixture: its complex STFT (the same front-end as
/// the magnitudes) and the samples of each source, mono at 16 kHz.
pub struct PieceWaves {
    /// `frames × bins` real parts, Nyquist bin included.
    pub real: Vec<f32>,
    /// `frames × bins` imaginary parts.
    pub imag: Vec<f32>,
    pub bins: usize,
    pub sources: Vec<Vec<f32>>,
}

/// STFT size and hop of [`SeparationSet::spec`].
const N_FFT: usize = 1024;
const HOP: usize = 256;
const SAMPLE_RATE: u32 = 16_000;

/// The mixtures of one split that hold every requested source.
pub struct SeparationSet {
    pub sources: Vec<String>,
    pub pieces: Vec<SeparationPiece>,
    /// Loaded [`with waves`](Self::load_with_waves): every piece has them.
    pub with_waves: bool,
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
        Self::load_pieces(manifest, split, cache, sources, false)
    }

    /// [`load`](Self::load), plus each mixture's complex STFT and its stems' samples, so
    /// that batches carry what a waveform loss needs (about 1.5 MB a 4 s mixture).
    pub fn load_with_waves(
        manifest: &Path,
        split: Split,
        cache: &FeatureCache,
        sources: &[String],
    ) -> Result<Self> {
        Self::load_pieces(manifest, split, cache, sources, true)
    }

    fn load_pieces(
        manifest: &Path,
        split: Split,
        cache: &FeatureCache,
        sources: &[String],
        with_waves: bool,
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
                let stem_files: Vec<&str> = sources
                    .iter()
                    .map(|s| stem_of(entry, s).expect("filtered"))
                    .collect();
                let waves = match with_waves {
                    true => Some(load_waves(root, &entry.file, &stem_files, mixture.frames)?),
                    false => None,
                };
                Ok(SeparationPiece {
                    file: entry.file.clone(),
                    mixture,
                    sources: stems,
                    waves,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            sources: sources.to_vec(),
            pieces,
            with_waves,
        })
    }

    /// The separation front-end: librosa's magnitude STFT at 16 kHz, 1024 points, hop 256.
    pub fn spec() -> FeatureSpec {
        FeatureSpec::librosa_stft(SAMPLE_RATE, N_FFT, HOP).expect("valid constants")
    }
}

/// The waves of one mixture; its STFT must have the cached magnitudes' `frames`.
fn load_waves(root: &Path, mixture: &str, stems: &[&str], frames: usize) -> Result<PieceWaves> {
    let read = |file: &str| -> Result<Vec<f32>> {
        let audio = read_mono(
            root.join(file),
            Some(SAMPLE_RATE),
            SeparationSet::spec().downmix,
        )
        .map_err(polyphon_features::FeatureError::from)?;
        Ok(audio.samples)
    };
    let samples = read(mixture)?;
    let spectrogram = ComplexStft::new(N_FFT, HOP)?.stft(&samples);
    if spectrogram.frames() != frames {
        return Err(DatasetError::Invalid(format!(
            "{mixture}: {} STFT frames, the cache holds {frames}",
            spectrogram.frames()
        )));
    }
    let sources = stems.iter().map(|f| read(f)).collect::<Result<Vec<_>>>()?;
    Ok(PieceWaves {
        real: spectrogram.data().iter().map(|c| c.re).collect(),
        imag: spectrogram.data().iter().map(|c| c.im).collect(),
        bins: spectrogram.bins(),
        sources,
    })
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
    /// With waves: the mixture's STFT, real and imaginary parts, `(size, 1, frames, bins)`;
    /// empty without.
    pub mixture_real: Vec<f32>,
    pub mixture_imag: Vec<f32>,
    /// With waves: `(size, sources, wave_len)` samples of each source, from half a hop after
    /// the patch's first frame centre (where an inverse STFT of the patch alone first has
    /// every overlapping frame); empty without.
    pub waves: Vec<f32>,
    pub wave_len: usize,
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
        let with_waves = set.with_waves;
        let (wave_len, wave_patch) = match with_waves {
            true => (wave_len(frames), patch),
            false => (0, 0),
        };
        let mut batch = SeparationBatch {
            inputs: vec![0.0; picks.len() * patch],
            mixture: vec![0.0; picks.len() * patch],
            targets: vec![0.0; picks.len() * sources * patch],
            mixture_real: vec![0.0; picks.len() * wave_patch],
            mixture_imag: vec![0.0; picks.len() * wave_patch],
            waves: vec![0.0; picks.len() * sources * wave_len],
            wave_len,
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
            if let Some(waves) = piece.waves.as_ref().filter(|_| with_waves) {
                let start = start as usize;
                let at = i * patch;
                copy_rows(
                    &waves.real,
                    waves.bins,
                    start,
                    frames,
                    bins,
                    &mut batch.mixture_real[at..],
                );
                copy_rows(
                    &waves.imag,
                    waves.bins,
                    start,
                    frames,
                    bins,
                    &mut batch.mixture_imag[at..],
                );
                let first = start * HOP + (N_FFT / 2 - HOP);
                for (s, samples) in waves.sources.iter().enumerate() {
                    let out = &mut batch.waves[(i * sources + s) * wave_len..][..wave_len];
                    let end = (first + wave_len).min(samples.len());
                    if first < end {
                        out[..end - first].copy_from_slice(&samples[first..end]);
                    }
                }
            }
        }
        for (input, &magnitude) in batch.inputs.iter_mut().zip(&batch.mixture) {
            *input = magnitude.ln_1p();
        }
        Some(batch)
    }
}

/// Samples of each source a patch of `frames` frames carries: those an inverse STFT of the
/// patch alone reaches with all of its overlapping frames.
pub fn wave_len(frames: usize) -> usize {
    (frames * HOP).saturating_sub(N_FFT - HOP)
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
    copy_rows(features.values(), features.bins, start, frames, bins, out);
}

/// [`copy_patch`] on a row-major `values` of `width` columns.
fn copy_rows(
    values: &[f32],
    width: usize,
    start: usize,
    frames: usize,
    bins: usize,
    out: &mut [f32],
) {
    let used = width.min(bins);
    let rows = values.len() / width;
    for (row, frame) in (start..(start + frames).min(rows)).enumerate() {
        out[row * bins..row * bins + used].copy_from_slice(&values[frame * width..][..used]);
    }
}
