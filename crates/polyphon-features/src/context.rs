use std::collections::VecDeque;

/// Stacks each frame with its `radius` neighbours on both sides, repeating the first and
/// last frames at the edges: `(frames, bins)` becomes `(frames, 2 * radius + 1, bins)`.
///
/// The ConvNet of Kelz et al. 2016 sees 5 frames, i.e. radius 2.
pub fn stack_context(features: &[f32], num_bins: usize, radius: usize) -> Vec<f32> {
    let mut windows = ContextWindows::new(num_bins, radius);
    let mut out = Vec::with_capacity(features.len() * (2 * radius + 1));
    for row in features.chunks_exact(num_bins) {
        windows.push(row, &mut out);
    }
    windows.finish(&mut out);
    out
}

/// Streaming form of [`stack_context`]: rows go in one at a time, windows come out as soon as
/// their right-hand neighbours are known, holding only `2 * radius + 1` rows.
pub struct ContextWindows {
    num_bins: usize,
    radius: usize,
    /// Rows from `first_index` on (at most 2·radius + 1 of them).
    rows: VecDeque<Vec<f32>>,
    first_index: usize,
    pushed: usize,
    emitted: usize,
}

impl ContextWindows {
    pub fn new(num_bins: usize, radius: usize) -> Self {
        Self {
            num_bins,
            radius,
            rows: VecDeque::with_capacity(2 * radius + 2),
            first_index: 0,
            pushed: 0,
            emitted: 0,
        }
    }

    /// Length of one output window.
    pub fn window_len(&self) -> usize {
        (2 * self.radius + 1) * self.num_bins
    }

    /// Adds a row; appends the windows that became complete to `out`.
    pub fn push(&mut self, row: &[f32], out: &mut Vec<f32>) {
        debug_assert_eq!(row.len(), self.num_bins);
        self.rows.push_back(row.to_vec());
        self.pushed += 1;
        while self.emitted + self.radius < self.pushed {
            self.emit(out);
        }
    }

    /// Emits the windows of the last rows, repeating the final row as right-hand context.
    pub fn finish(&mut self, out: &mut Vec<f32>) {
        while self.emitted < self.pushed {
            self.emit(out);
        }
    }

    fn emit(&mut self, out: &mut Vec<f32>) {
        let centre = self.emitted as i64;
        for offset in -(self.radius as i64)..=(self.radius as i64) {
            let index = (centre + offset).clamp(0, self.pushed as i64 - 1) as usize;
            out.extend_from_slice(&self.rows[index - self.first_index]);
        }
        self.emitted += 1;
        // Keep rows still needed as left context of the next window.
        while self.first_index + self.radius < self.emitted && self.rows.len() > 1 {
            self.rows.pop_front();
            self.first_index += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_repeat_the_outer_frames() {
        let features = [1.0, 2.0, 3.0];
        let stacked = stack_context(&features, 1, 2);
        assert_eq!(
            stacked,
            vec![
                1.0, 1.0, 1.0, 2.0, 3.0, //
                1.0, 1.0, 2.0, 3.0, 3.0, //
                1.0, 2.0, 3.0, 3.0, 3.0,
            ]
        );
    }

    #[test]
    fn streaming_equals_whole_array_for_many_lengths() {
        for n in 0..8 {
            let features: Vec<f32> = (0..n * 2).map(|v| v as f32).collect();
            let whole = stack_context(&features, 2, 2);
            assert_eq!(whole.len(), n * 5 * 2);
            let mut streamed = Vec::new();
            let mut windows = ContextWindows::new(2, 2);
            for row in features.chunks_exact(2) {
                windows.push(row, &mut streamed);
            }
            windows.finish(&mut streamed);
            assert_eq!(whole, streamed);
        }
    }
}
