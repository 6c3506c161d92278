use crate::{error::invalid, Result};

/// How many frames a signal of `n` samples yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameCount {
    /// madmom's `FramedSignal(end='normal')`: `ceil(n / hop)`, frames as long as the
    /// reference sample lies inside the signal.
    Madmom,
    /// librosa's centred STFT: `1 + floor(n / hop)`.
    Librosa,
}

/// Where frames sit on the signal.
///
/// Frame `k` is centred on sample `floor(k * hop)`: it covers
/// `[floor(k * hop) - frame_size / 2, … + frame_size)`, zero-padded outside the signal. This is
/// madmom's `signal_frame` with origin 0 and librosa's `center=True` with `pad_mode='constant'`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameGrid {
    pub frame_size: usize,
    /// Hop in samples; may be fractional (madmom derives it as `sample_rate / fps`).
    pub hop: f64,
    pub count: FrameCount,
}

impl FrameGrid {
    pub fn new(frame_size: usize, hop: f64, count: FrameCount) -> Result<Self> {
        if frame_size < 2 {
            return Err(invalid(format!(
                "frame size {frame_size} must be at least 2"
            )));
        }
        if !(hop.is_finite() && hop >= 1.0) {
            return Err(invalid(format!("hop {hop} must be at least one sample")));
        }
        Ok(Self {
            frame_size,
            hop,
            count,
        })
    }

    /// First sample (possibly negative) covered by frame `k`.
    pub fn frame_start(&self, k: usize) -> i64 {
        (k as f64 * self.hop).floor() as i64 - (self.frame_size / 2) as i64
    }

    /// One past the last sample covered by frame `k`.
    pub fn frame_end(&self, k: usize) -> i64 {
        self.frame_start(k) + self.frame_size as i64
    }

    /// Number of frames of a signal of `n_samples` samples.
    pub fn num_frames(&self, n_samples: u64) -> usize {
        let ratio = n_samples as f64 / self.hop;
        match self.count {
            FrameCount::Madmom => ratio.ceil() as usize,
            FrameCount::Librosa => ratio.floor() as usize + 1,
        }
    }

    /// Number of frames whose window lies entirely within the first `available` samples.
    ///
    /// Such frames exist whatever the final length of the signal turns out to be.
    pub fn complete_frames(&self, available: u64) -> usize {
        let half = (self.frame_size / 2) as f64;
        let limit = available as f64 - self.frame_size as f64 + half;
        if limit < 0.0 {
            return 0;
        }
        // floor(k * hop) <= limit  <=>  k <= limit / hop (up to rounding, fixed below).
        let mut k = (limit / self.hop).floor() as usize + 1;
        while k > 0 && self.frame_end(k - 1) > available as i64 {
            k -= 1;
        }
        while self.frame_end(k) <= available as i64 {
            k += 1;
        }
        k
    }

    /// Copies frame `k` out of `buffer`, which holds samples starting at absolute index
    /// `buffer_start`; samples before 0 or at or after `signal_len` are zero.
    pub fn copy_frame(
        &self,
        k: usize,
        buffer: &[f32],
        buffer_start: i64,
        signal_len: u64,
        out: &mut [f32],
    ) {
        let start = self.frame_start(k);
        let valid_from = start.max(0).max(buffer_start);
        let valid_to = self
            .frame_end(k)
            .min(i64::try_from(signal_len).unwrap_or(i64::MAX))
            .min(buffer_start + buffer.len() as i64);
        out.fill(0.0);
        if valid_to > valid_from {
            let dst = (valid_from - start) as usize..(valid_to - start) as usize;
            let src = (valid_from - buffer_start) as usize..(valid_to - buffer_start) as usize;
            out[dst].copy_from_slice(&buffer[src]);
        }
    }
}

/// The frames of time segment `segment` of `segments` equal ones over `frames` frames: never
/// empty, so that a clip shorter than `segments` frames still pools (its frames repeat). The
/// instrument front-ends pool in these segments, the trees' vectors and the networks alike.
pub fn segment_frames(frames: usize, segments: usize, segment: usize) -> std::ops::Range<usize> {
    let start = (segment * frames / segments).min(frames - 1);
    let end = ((segment + 1) * frames / segments).clamp(start + 1, frames);
    start..end
}

/// Bounds of the onset segments, as fractions of a clip: 1/64, 2/64, 5/64, 12/64, 20/64 and
/// 24/64 of it (for a 4 s note: 62 ms, 125 ms, 0.31 s, 0.75 s, 1.25 s, 1.5 s). Equal segments
/// average a note's attack into its first second; listeners tell plucked and struck
/// instruments apart mostly by the attack's first tens of milliseconds (Grey 1977), so these
/// are short at the onset and long in the decay.
const ONSET_BOUNDS: [f64; 7] = [
    0.0,
    1.0 / 64.0,
    3.0 / 64.0,
    8.0 / 64.0,
    20.0 / 64.0,
    40.0 / 64.0,
    1.0,
];

/// How many onset segments [`onset_segment_frames`] cuts.
pub const ONSET_SEGMENTS: usize = ONSET_BOUNDS.len() - 1;

/// The frames of onset segment `segment` (of [`ONSET_SEGMENTS`]) over `frames` frames: never
/// empty, as [`segment_frames`].
pub fn onset_segment_frames(frames: usize, segment: usize) -> std::ops::Range<usize> {
    let bound = |k: usize| (ONSET_BOUNDS[k] * frames as f64).round() as usize;
    let start = bound(segment).min(frames - 1);
    let end = bound(segment + 1).clamp(start + 1, frames);
    start..end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn madmom_and_librosa_frame_counts() {
        let madmom = FrameGrid::new(4096, 441.0, FrameCount::Madmom).unwrap();
        assert_eq!(madmom.num_frames(44_100), 100);
        assert_eq!(madmom.num_frames(44_101), 101);
        let librosa = FrameGrid::new(2048, 512.0, FrameCount::Librosa).unwrap();
        assert_eq!(librosa.num_frames(22_050), 44);
        assert_eq!(librosa.num_frames(512), 2);
    }

    #[test]
    fn frames_are_centred_and_zero_padded() {
        let grid = FrameGrid::new(4, 2.0, FrameCount::Librosa).unwrap();
        let signal = [1.0, 2.0, 3.0, 4.0, 5.0];
        let mut frame = [9.0; 4];
        grid.copy_frame(0, &signal, 0, 5, &mut frame);
        assert_eq!(frame, [0.0, 0.0, 1.0, 2.0]);
        grid.copy_frame(2, &signal, 0, 5, &mut frame);
        assert_eq!(frame, [3.0, 4.0, 5.0, 0.0]);
        // The same frame read from a buffer that starts later in the signal.
        grid.copy_frame(2, &signal[2..], 2, 5, &mut frame);
        assert_eq!(frame, [3.0, 4.0, 5.0, 0.0]);
    }

    #[test]
    fn complete_frames_never_need_unseen_samples() {
        let grid = FrameGrid::new(4096, 441.0, FrameCount::Madmom).unwrap();
        for available in [0u64, 2047, 2048, 2049, 2489, 100_000] {
            let k = grid.complete_frames(available);
            if k > 0 {
                assert!(grid.frame_end(k - 1) <= available as i64);
            }
            assert!(grid.frame_end(k) > available as i64);
        }
    }

    #[test]
    fn segments_cover_the_frames_and_are_never_empty() {
        let ranges: Vec<_> = (0..4).map(|k| segment_frames(10, 4, k)).collect();
        assert_eq!(ranges, [0..2, 2..5, 5..7, 7..10]);
        // Fewer frames than segments: each segment still holds one frame.
        let short: Vec<_> = (0..4).map(|k| segment_frames(2, 4, k)).collect();
        assert_eq!(short, [0..1, 0..1, 1..2, 1..2]);
    }

    #[test]
    fn onset_segments_are_short_at_the_start_and_cover_the_frames() {
        // A 4 s note at 62.5 frames/s: 64 ms, 128 ms, 0.3 s, 0.75 s, 1.26 s, 1.5 s.
        let ranges: Vec<_> = (0..ONSET_SEGMENTS)
            .map(|k| onset_segment_frames(251, k))
            .collect();
        assert_eq!(ranges, [0..4, 4..12, 12..31, 31..78, 78..157, 157..251]);
        let short: Vec<_> = (0..ONSET_SEGMENTS)
            .map(|k| onset_segment_frames(3, k))
            .collect();
        assert!(short.iter().all(|r| !r.is_empty() && r.end <= 3));
    }
}
