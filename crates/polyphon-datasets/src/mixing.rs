//! Training frames mixed on the fly from the audio of a split's files.
//!
//! Kelz & Widmer (2017) found that a network trained on a fixed set of note combinations
//! learns those combinations rather than the notes. Here every training example is a new
//! mixture: 1 to `max_parts` files of the split, each at a random gain and a random delay,
//! are summed as *audio* (not as spectrograms: the log-filtered spectrogram of a sum is not
//! the sum of spectrograms), and the example's labels are the union of the parts' notes. The
//! number of distinct combinations seen is then bounded only by the training length.
//!
//! Only the samples under an example's context window are mixed and transformed, so a batch
//! costs a few short STFTs per example, not the whole mixture.

use std::path::Path;

use polyphon_audio::read_mono;
use polyphon_core::manifest::{read_split, Split};
use polyphon_core::SeededRng;
use polyphon_core::{read_csv, Note};
use polyphon_features::{Extractor, FeatureSpec, FrameGrid};
use rayon::prelude::*;

use crate::{Batch, Batches, DatasetError, Result, TranscriptionSet};

/// How mixtures are drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct MixingOptions {
    /// Files summed per example: drawn uniformly from `1..=max_parts`.
    pub max_parts: usize,
    /// Each part's gain in dB, drawn uniformly from this range.
    pub gain_db: (f32, f32),
    /// Each part's delay in seconds, drawn uniformly from `0..max_delay`; 0 keeps every
    /// part's onsets where its file has them.
    pub max_delay: f64,
    /// Examples per batch.
    pub batch_size: usize,
    /// Batches per epoch (mixtures are unbounded, so an epoch is a fixed number of steps).
    pub batches_per_epoch: usize,
    /// Also return each part's input alone ([`Batch::parts`]), for a consistency loss.
    pub with_parts: bool,
    /// Pitch pairs (low, high) never to sound together in a mixture: combinations held out
    /// to test whether a model generalises to combinations it never heard.
    pub excluded_pairs: Vec<(u8, u8)>,
    pub seed: u64,
}

/// One file of the split: mono samples at the front-end's rate and its notes.
struct Source {
    samples: Vec<f32>,
    notes: Vec<Note>,
}

/// One drawn part of an example: which source, its gain and delay in samples.
#[derive(Debug, Clone, Copy)]
struct Part {
    source: usize,
    gain: f32,
    delay: usize,
}

/// One mixed example: its input window, its label row and each part's input alone.
struct MixedExample {
    input: Vec<f32>,
    labels: Vec<f32>,
    alone: Vec<Vec<f32>>,
}

/// Batches of context windows of fresh mixtures ([`Batches`]).
pub struct MixingBatcher {
    sources: Vec<Source>,
    extractor: Extractor,
    grid: FrameGrid,
    fps: f64,
    lowest: u8,
    keys: usize,
    context: usize,
    options: MixingOptions,
    epoch: u64,
    batch_in_epoch: usize,
}

impl MixingBatcher {
    /// Loads the audio and notes of `split` of `manifest` for the front-end `spec`; labels
    /// cover `keys` pitches from MIDI `lowest`, inputs `2 * context + 1` frames.
    pub fn load(
        manifest: &Path,
        split: Split,
        spec: FeatureSpec,
        (lowest, keys): (u8, usize),
        context: usize,
        options: MixingOptions,
    ) -> Result<Self> {
        let root = manifest.parent().unwrap_or(Path::new("."));
        let entries = read_split(manifest, split)?;
        if options.max_parts == 0 || options.batch_size == 0 || options.batches_per_epoch == 0 {
            return Err(DatasetError::Invalid(
                "mixing needs at least one part, one example per batch and one batch".into(),
            ));
        }
        let rate = spec.sample_rate;
        let sources = entries
            .par_iter()
            .map(|entry| {
                let audio = read_mono(root.join(&entry.file), Some(rate), spec.downmix)
                    .map_err(polyphon_features::FeatureError::from)?;
                Ok(Source {
                    samples: audio.samples,
                    notes: read_csv(root.join(&entry.labels_csv))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let extractor = Extractor::new(spec.clone())?;
        // Refuses front-ends that need whole files (dB relative to the maximum) up front, so
        // that drawing batches cannot fail later.
        extractor.rows_of(0..1, &[], 0, 0)?;
        Ok(Self {
            sources,
            grid: spec.grid,
            fps: spec.fps(),
            extractor,
            lowest,
            keys,
            context,
            options,
            epoch: 0,
            batch_in_epoch: 0,
        })
    }

    /// Number of files mixed from.
    pub fn sources(&self) -> usize {
        self.sources.len()
    }

    /// The parts of one example: distinct files whose pitches do not collide, so that the
    /// label union never hides a doubled key.
    fn draw_parts(&self, rng: &mut SeededRng) -> Vec<Part> {
        let wanted = 1 + rng.below(self.options.max_parts as u64) as usize;
        let rate = self.extractor.spec().sample_rate as f64;
        let (low, high) = self.options.gain_db;
        let mut parts: Vec<Part> = Vec::with_capacity(wanted);
        let mut used_pitches: Vec<u8> = Vec::new();
        for _ in 0..wanted * 8 {
            if parts.len() == wanted {
                break;
            }
            let source = rng.below(self.sources.len() as u64) as usize;
            let pitches = self.sources[source].notes.iter().map(|n| n.key());
            let collides = |p: u8| {
                used_pitches
                    .iter()
                    .any(|&q| p == q || self.options.excluded_pairs.contains(&(p.min(q), p.max(q))))
            };
            if pitches.clone().any(collides) {
                continue;
            }
            used_pitches.extend(pitches);
            let gain_db = low + (high - low) * rng.unit() as f32;
            parts.push(Part {
                source,
                gain: 10f32.powf(gain_db / 20.0),
                delay: (rng.unit() * self.options.max_delay * rate) as usize,
            });
        }
        parts
    }

    fn mixture_len(&self, parts: &[Part]) -> usize {
        parts
            .iter()
            .map(|p| p.delay + self.sources[p.source].samples.len())
            .max()
            .unwrap_or(0)
    }

    /// Samples `range` of the sum of `parts` (each scaled and delayed).
    fn mix_segment(&self, parts: &[Part], range: std::ops::Range<i64>) -> Vec<f32> {
        let mut out = vec![0f32; (range.end - range.start).max(0) as usize];
        for part in parts {
            let samples = &self.sources[part.source].samples;
            for (i, value) in out.iter_mut().enumerate() {
                let t = range.start + i as i64 - part.delay as i64;
                if t >= 0 && (t as usize) < samples.len() {
                    *value += part.gain * samples[t as usize];
                }
            }
        }
        out
    }

    /// Context window rows of frame `k` of the mixture of `parts`, edge frames repeated as in
    /// [`crate::FrameBatcher`].
    fn context_rows(&self, parts: &[Part], k: usize, frames: usize) -> Result<Vec<f32>> {
        let first = k.saturating_sub(self.context);
        let last = (k + self.context).min(frames - 1);
        let range = self.grid.frame_start(first)..self.grid.frame_end(last);
        let segment = self.mix_segment(parts, range.clone());
        let len = self.mixture_len(parts) as u64;
        let rows = self
            .extractor
            .rows_of(first..last + 1, &segment, range.start, len)?;
        let bins = self.extractor.num_bins();
        let mut window = Vec::with_capacity((2 * self.context + 1) * bins);
        for offset in -(self.context as i64)..=self.context as i64 {
            let frame = (k as i64 + offset).clamp(first as i64, last as i64) as usize - first;
            window.extend_from_slice(&rows[frame * bins..(frame + 1) * bins]);
        }
        Ok(window)
    }

    /// Labels of frame `k`: keys of every part's note sounding at `k / fps` (the one label
    /// rule: `onset <= t < offset`).
    fn label_row(&self, parts: &[Part], k: usize) -> Vec<f32> {
        let rate = self.extractor.spec().sample_rate as f64;
        let t = k as f64 / self.fps;
        let mut row = vec![0f32; self.keys];
        for part in parts {
            let delay = part.delay as f64 / rate;
            for note in &self.sources[part.source].notes {
                let key = note.key() as i64 - self.lowest as i64;
                let sounding = note.onset + delay <= t && t < note.offset + delay;
                if sounding && (0..self.keys as i64).contains(&key) {
                    row[key as usize] = 1.0;
                }
            }
        }
        row
    }

    /// One example: mixture input, label row, and (with `with_parts`) each part's input
    /// alone, silent slots up to `max_parts`.
    fn example(&self, rng: &mut SeededRng) -> Result<MixedExample> {
        let parts = self.draw_parts(rng);
        let frames = self.grid.num_frames(self.mixture_len(&parts) as u64).max(1);
        let k = rng.below(frames as u64) as usize;
        let input = self.context_rows(&parts, k, frames)?;
        let labels = self.label_row(&parts, k);
        let mut alone = Vec::new();
        if self.options.with_parts {
            for slot in 0..self.options.max_parts {
                alone.push(match parts.get(slot) {
                    Some(part) => self.context_rows(std::slice::from_ref(part), k, frames)?,
                    None => self.context_rows(&[], k, frames)?,
                });
            }
        }
        Ok(MixedExample {
            input,
            labels,
            alone,
        })
    }
}

impl Batches for MixingBatcher {
    fn start_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.batch_in_epoch = 0;
    }

    fn batches_per_epoch(&self) -> usize {
        self.options.batches_per_epoch
    }

    /// The next batch; the mixtures come from the files given to [`MixingBatcher::load`],
    /// not from `_set`.
    fn next_batch(&mut self, _set: &TranscriptionSet) -> Option<Batch> {
        if self.batch_in_epoch >= self.options.batches_per_epoch {
            return None;
        }
        let stream = format!("mix-{}-{}", self.epoch, self.batch_in_epoch);
        self.batch_in_epoch += 1;
        let size = self.options.batch_size;
        // One seeded stream per example: the batch is the same whatever the thread count.
        let examples: Vec<_> = (0..size)
            .into_par_iter()
            .map(|i| {
                let mut rng = SeededRng::new(self.options.seed, &format!("{stream}-{i}"));
                self.example(&mut rng)
            })
            .collect::<Result<_>>()
            .expect("mixing in-memory audio with a pointwise front-end cannot fail");
        let width = 2 * self.context + 1;
        let bins = self.extractor.num_bins();
        let mut batch = Batch {
            inputs: Vec::with_capacity(size * width * bins),
            input_shape: [size, 1, width, bins],
            targets: Vec::with_capacity(size * self.keys),
            target_rows: size,
            size,
            parts: vec![Vec::with_capacity(size * width * bins); self.parts_per_example()],
        };
        for MixedExample {
            input,
            labels,
            alone,
        } in examples
        {
            batch.inputs.extend(input);
            batch.targets.extend(labels);
            for (slot, rows) in alone.into_iter().enumerate() {
                batch.parts[slot].extend(rows);
            }
        }
        Some(batch)
    }
}

impl MixingBatcher {
    fn parts_per_example(&self) -> usize {
        if self.options.with_parts {
            self.options.max_parts
        } else {
            0
        }
    }
}
