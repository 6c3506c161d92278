use polyphon_synth::rng::SeededRng;

use crate::TranscriptionSet;

/// A batch of frames: inputs `(size, 2·context + 1, bins)` and targets `(size, keys)`,
/// row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub inputs: Vec<f32>,
    pub targets: Vec<f32>,
    pub size: usize,
}

/// Shuffled batches of single frames with their context windows, reshuffled every epoch
/// from a seeded generator, so a run (and a resumed run) sees the same order.
pub struct FrameBatcher {
    order: Vec<(u32, u32)>,
    position: usize,
    batch_size: usize,
    context: usize,
    seed: u64,
    epoch: u64,
}

impl FrameBatcher {
    pub fn new(set: &TranscriptionSet, batch_size: usize, context: usize, seed: u64) -> Self {
        let order = set
            .pieces
            .iter()
            .enumerate()
            .flat_map(|(p, piece)| (0..piece.features.frames as u32).map(move |k| (p as u32, k)))
            .collect();
        let mut batcher = Self {
            order,
            position: 0,
            batch_size: batch_size.max(1),
            context,
            seed,
            epoch: 0,
        };
        batcher.start_epoch(0);
        batcher
    }

    /// Starts epoch `epoch` (0-based): its own shuffle, from the beginning.
    pub fn start_epoch(&mut self, epoch: u64) {
        self.epoch = epoch;
        self.order.sort_unstable();
        SeededRng::new(self.seed, &format!("epoch-{epoch}")).shuffle(&mut self.order);
        self.position = 0;
    }

    /// Batches per epoch (the last may be smaller).
    pub fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    /// Skips `batches` batches, to resume an epoch where a checkpoint left it.
    pub fn skip(&mut self, batches: usize) {
        self.position = (self.position + batches * self.batch_size).min(self.order.len());
    }

    /// The next batch of the epoch, or `None` at its end.
    pub fn next_batch(&mut self, set: &TranscriptionSet) -> Option<Batch> {
        if self.position >= self.order.len() {
            return None;
        }
        let end = (self.position + self.batch_size).min(self.order.len());
        let picks = &self.order[self.position..end];
        self.position = end;
        Some(assemble(set, picks, self.context))
    }
}

/// Inputs and targets of `picks` (piece, frame); context frames beyond a piece's edges
/// repeat its first or last frame.
fn assemble(set: &TranscriptionSet, picks: &[(u32, u32)], context: usize) -> Batch {
    let first = &set.pieces[picks[0].0 as usize];
    let bins = first.features.bins;
    let keys = first.labels.n_pitches;
    let width = 2 * context + 1;
    let mut inputs = Vec::with_capacity(picks.len() * width * bins);
    let mut targets = Vec::with_capacity(picks.len() * keys);
    for &(p, k) in picks {
        let piece = &set.pieces[p as usize];
        let last = piece.features.frames as i64 - 1;
        for offset in -(context as i64)..=context as i64 {
            let frame = (k as i64 + offset).clamp(0, last) as usize;
            inputs.extend_from_slice(piece.features.row(frame));
        }
        let row = &piece.labels.active[k as usize * keys..(k as usize + 1) * keys];
        targets.extend(row.iter().map(|&a| a as u8 as f32));
    }
    Batch {
        inputs,
        targets,
        size: picks.len(),
    }
}
