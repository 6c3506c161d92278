use polyphon_core::SeededRng;

use crate::TranscriptionSet;

/// A batch: inputs shaped `input_shape` (row-major, ready for a `(batch, channel, height,
/// width)` tensor) and targets shaped `(target_rows, keys)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub inputs: Vec<f32>,
    pub input_shape: [usize; 4],
    pub targets: Vec<f32>,
    pub target_rows: usize,
    /// Examples in the batch: frames for a [`FrameBatcher`], patches for a [`PatchBatcher`].
    pub size: usize,
    /// For mixed examples ([`crate::MixingBatcher`] with `with_parts`): per part slot, every
    /// example's input with that part alone (silence where an example has fewer parts),
    /// shaped like `inputs`. Empty otherwise.
    pub parts: Vec<Vec<f32>>,
}

/// What a training loop needs of a batch source: seeded epochs of shuffled batches.
pub trait Batches {
    /// Starts epoch `epoch` (0-based): its own shuffle, from the beginning.
    fn start_epoch(&mut self, epoch: u64);
    /// Batches per epoch (the last may be smaller).
    fn batches_per_epoch(&self) -> usize;
    /// The next batch of the epoch, or `None` at its end.
    fn next_batch(&mut self, set: &TranscriptionSet) -> Option<Batch>;
}

/// Examples `(piece, frame)` in a seeded order that is reshuffled every epoch, so a run (and
/// a resumed run) sees the same order.
pub(crate) struct ShuffledOrder {
    order: Vec<(u32, u32)>,
    position: usize,
    batch_size: usize,
    seed: u64,
}

impl ShuffledOrder {
    pub(crate) fn new(order: Vec<(u32, u32)>, batch_size: usize, seed: u64) -> Self {
        let mut shuffled = Self {
            order,
            position: 0,
            batch_size: batch_size.max(1),
            seed,
        };
        shuffled.start_epoch(0);
        shuffled
    }

    pub(crate) fn start_epoch(&mut self, epoch: u64) {
        self.order.sort_unstable();
        SeededRng::new(self.seed, &format!("epoch-{epoch}")).shuffle(&mut self.order);
        self.position = 0;
    }

    pub(crate) fn batches_per_epoch(&self) -> usize {
        self.order.len().div_ceil(self.batch_size)
    }

    pub(crate) fn next_picks(&mut self) -> Option<&[(u32, u32)]> {
        if self.position >= self.order.len() {
            return None;
        }
        let start = self.position;
        self.position = (start + self.batch_size).min(self.order.len());
        Some(&self.order[start..self.position])
    }
}

/// `(piece, first frame)` of patches of `frames` frames starting every `hop` frames of pieces
/// of the given lengths, the last one reaching (or passing) each piece's end.
pub(crate) fn patch_starts(
    lengths: impl Iterator<Item = usize>,
    frames: usize,
    hop: usize,
) -> Vec<(u32, u32)> {
    let hop = hop.max(1);
    lengths
        .enumerate()
        .flat_map(|(p, length)| {
            let starts = length.saturating_sub(frames).div_ceil(hop) + 1;
            (0..starts).map(move |s| (p as u32, (s * hop) as u32))
        })
        .collect()
}

/// Shuffled batches of single frames with their context windows (the ConvNets' input).
pub struct FrameBatcher {
    order: ShuffledOrder,
    context: usize,
}

impl FrameBatcher {
    pub fn new(set: &TranscriptionSet, batch_size: usize, context: usize, seed: u64) -> Self {
        let order = set
            .pieces
            .iter()
            .enumerate()
            .flat_map(|(p, piece)| (0..piece.features.frames as u32).map(move |k| (p as u32, k)))
            .collect();
        Self {
            order: ShuffledOrder::new(order, batch_size, seed),
            context,
        }
    }
}

impl Batches for FrameBatcher {
    fn start_epoch(&mut self, epoch: u64) {
        self.order.start_epoch(epoch);
    }

    fn batches_per_epoch(&self) -> usize {
        self.order.batches_per_epoch()
    }

    fn next_batch(&mut self, set: &TranscriptionSet) -> Option<Batch> {
        let context = self.context;
        self.order
            .next_picks()
            .map(|picks| assemble_frames(set, picks, context))
    }
}

/// Inputs and targets of `picks` (piece, frame); context frames beyond a piece's edges
/// repeat its first or last frame, as at inference.
fn assemble_frames(set: &TranscriptionSet, picks: &[(u32, u32)], context: usize) -> Batch {
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
        targets.extend(label_row(set, p, k as usize));
    }
    Batch {
        inputs,
        input_shape: [picks.len(), 1, width, bins],
        targets,
        target_rows: picks.len(),
        size: picks.len(),
        parts: Vec::new(),
    }
}

fn label_row(set: &TranscriptionSet, piece: u32, frame: usize) -> impl Iterator<Item = f32> + '_ {
    let labels = &set.pieces[piece as usize].labels;
    let keys = labels.n_pitches;
    labels.active[frame * keys..(frame + 1) * keys]
        .iter()
        .map(|&active| active as u8 as f32)
}

/// Shuffled batches of whole sequences of `frames` consecutive frames with `context` rows
/// around each (the ConvNet trained on sequences: one forward pass gives all their frames,
/// its convolutions shared between neighbouring windows). Sequences start every `frames`
/// frames of a piece, the last one ending at the piece's end (so it may overlap the one before);
/// context and the frames of a piece shorter than a sequence repeat its edge frames, the
/// latter with the last frame's labels. A batch holds `batch_frames / frames` sequences.
pub struct SequenceBatcher {
    order: ShuffledOrder,
    frames: usize,
    context: usize,
}

impl SequenceBatcher {
    pub fn new(
        set: &TranscriptionSet,
        batch_frames: usize,
        frames: usize,
        context: usize,
        seed: u64,
    ) -> Self {
        let frames = frames.max(1);
        let order = set
            .pieces
            .iter()
            .enumerate()
            .flat_map(|(p, piece)| {
                let last = piece.features.frames.saturating_sub(frames);
                let starts = (0..last).step_by(frames).chain(std::iter::once(last));
                starts.map(move |start| (p as u32, start as u32))
            })
            .collect();
        let sequences = (batch_frames / frames).max(1);
        Self {
            order: ShuffledOrder::new(order, sequences, seed),
            frames,
            context,
        }
    }
}

impl Batches for SequenceBatcher {
    fn start_epoch(&mut self, epoch: u64) {
        self.order.start_epoch(epoch);
    }

    fn batches_per_epoch(&self) -> usize {
        self.order.batches_per_epoch()
    }

    fn next_batch(&mut self, set: &TranscriptionSet) -> Option<Batch> {
        let (frames, context) = (self.frames, self.context);
        let picks = self.order.next_picks()?;
        let first = &set.pieces[picks[0].0 as usize];
        let (bins, keys) = (first.features.bins, first.labels.n_pitches);
        let rows = frames + 2 * context;
        let mut inputs = Vec::with_capacity(picks.len() * rows * bins);
        let mut targets = Vec::with_capacity(picks.len() * frames * keys);
        for &(p, start) in picks {
            let piece = &set.pieces[p as usize];
            let last = piece.features.frames as i64 - 1;
            let row = |offset: i64| (start as i64 + offset).clamp(0, last) as usize;
            for offset in -(context as i64)..(frames + context) as i64 {
                inputs.extend_from_slice(piece.features.row(row(offset)));
            }
            for offset in 0..frames as i64 {
                targets.extend(label_row(set, p, row(offset)));
            }
        }
        Some(Batch {
            inputs,
            input_shape: [picks.len(), 1, rows, bins],
            targets,
            target_rows: picks.len() * frames,
            size: picks.len() * frames,
            parts: Vec::new(),
        })
    }
}

/// Shuffled batches of patches, `frames` × `bins` (the AUNet's input): patches start every
/// `hop` frames of every piece; bins beyond the features' and frames beyond a piece's end
/// are zeros, with silent targets.
pub struct PatchBatcher {
    order: ShuffledOrder,
    frames: usize,
    bins: usize,
}

impl PatchBatcher {
    pub fn new(
        set: &TranscriptionSet,
        batch_size: usize,
        frames: usize,
        bins: usize,
        hop: usize,
        seed: u64,
    ) -> Self {
        let order = patch_starts(set.pieces.iter().map(|p| p.features.frames), frames, hop);
        Self {
            order: ShuffledOrder::new(order, batch_size, seed),
            frames,
            bins,
        }
    }
}

impl Batches for PatchBatcher {
    fn start_epoch(&mut self, epoch: u64) {
        self.order.start_epoch(epoch);
    }

    fn batches_per_epoch(&self) -> usize {
        self.order.batches_per_epoch()
    }

    fn next_batch(&mut self, set: &TranscriptionSet) -> Option<Batch> {
        let (frames, bins) = (self.frames, self.bins);
        let picks = self.order.next_picks()?;
        let keys = set.pieces[picks[0].0 as usize].labels.n_pitches;
        let mut inputs = vec![0.0f32; picks.len() * frames * bins];
        let mut targets = vec![0.0f32; picks.len() * frames * keys];
        for (i, &(p, start)) in picks.iter().enumerate() {
            let piece = &set.pieces[p as usize];
            let start = start as usize;
            let end = (start + frames).min(piece.features.frames);
            let used = piece.features.bins.min(bins);
            for (row, frame) in (start..end).enumerate() {
                let at = (i * frames + row) * bins;
                inputs[at..at + used].copy_from_slice(&piece.features.row(frame)[..used]);
                let at = (i * frames + row) * keys;
                for (target, value) in targets[at..at + keys]
                    .iter_mut()
                    .zip(label_row(set, p, frame))
                {
                    *target = value;
                }
            }
        }
        Some(Batch {
            inputs,
            input_shape: [picks.len(), 1, frames, bins],
            targets,
            target_rows: picks.len() * frames,
            size: picks.len(),
            parts: Vec::new(),
        })
    }
}
