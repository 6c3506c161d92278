//! The one rule that turns notes into frame labels, used by training data, the frame-level
//! metrics and the entanglement analysis alike:
//!
//! **frame `k` (time `k / fps`) is active for a note when `onset <= k / fps < offset`.**
//!
//! A frame is labelled by the instant it starts at, so a note shorter than a frame may label no
//! frame at all, and a note ending exactly on a frame boundary does not label that frame. The
//! times are compared as that division is computed, so the boundary cases agree everywhere.

use std::ops::Range;

use crate::Note;

/// The frames `k < n_frames` in which a note from `onset` to `offset` sounds:
/// `onset <= k / fps < offset`.
pub fn active_frames(onset: f64, offset: f64, n_frames: usize, fps: f64) -> Range<usize> {
    let first = first_frame_at_or_after(onset, fps, n_frames);
    let end = first_frame_at_or_after(offset, fps, n_frames).max(first);
    first..end
}

/// The smallest `k <= limit` with `k / fps >= time` (`limit` if there is none below it),
/// found from the estimate `ceil(time · fps)` by stepping, so the exact predicate decides.
fn first_frame_at_or_after(time: f64, fps: f64, limit: usize) -> usize {
    let estimate = (time * fps).ceil();
    // NaN, too, has no frame of the grid at or after it.
    if estimate.is_nan() || estimate >= limit as f64 {
        return limit;
    }
    let mut k = estimate.max(0.0) as usize;
    while k > 0 && (k - 1) as f64 / fps >= time {
        k -= 1;
    }
    while k < limit && (k as f64 / fps) < time {
        k += 1;
    }
    k
}

/// A piano roll: which pitches sound in which frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameLabels {
    pub n_frames: usize,
    pub n_pitches: usize,
    pub lowest_pitch: u8,
    /// Row-major, `active[frame * n_pitches + (pitch - lowest_pitch)]`.
    pub active: Vec<bool>,
}

impl FrameLabels {
    pub fn is_active(&self, frame: usize, pitch: u8) -> bool {
        let Some(column) = (pitch as usize).checked_sub(self.lowest_pitch as usize) else {
            return false;
        };
        column < self.n_pitches && self.active[frame * self.n_pitches + column]
    }

    /// Number of pitches sounding in `frame`.
    pub fn polyphony(&self, frame: usize) -> usize {
        let row = &self.active[frame * self.n_pitches..(frame + 1) * self.n_pitches];
        row.iter().filter(|&&a| a).count()
    }
}

/// Frame labels of `notes` by the [module's rule](self), each note on its nearest MIDI key.
/// Keys outside `lowest_pitch .. lowest_pitch + n_pitches` and frames beyond `n_frames` are
/// ignored.
pub fn frame_labels(
    notes: &[Note],
    fps: f64,
    n_frames: usize,
    n_pitches: usize,
    lowest_pitch: u8,
) -> FrameLabels {
    let mut active = vec![false; n_frames * n_pitches];
    for note in notes {
        let Some(column) = (note.key() as usize).checked_sub(lowest_pitch as usize) else {
            continue;
        };
        if column >= n_pitches {
            continue;
        }
        for frame in active_frames(note.onset, note.offset, n_frames, fps) {
            active[frame * n_pitches + column] = true;
        }
    }
    FrameLabels {
        n_frames,
        n_pitches,
        lowest_pitch,
        active,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_rule_is_onset_inclusive_and_offset_exclusive() {
        // 100 fps: a note from 0.10 s to 0.13 s covers frames 10, 11, 12 — not 13.
        let labels = frame_labels(&[Note::new(0.10, 0.13, 60, 100)], 100.0, 20, 88, 21);
        let frames: Vec<usize> = (0..20).filter(|&k| labels.is_active(k, 60)).collect();
        assert_eq!(frames, vec![10, 11, 12]);
        // An onset just after a frame start labels from the next frame on.
        let labels = frame_labels(&[Note::new(0.1001, 0.1201, 60, 100)], 100.0, 20, 88, 21);
        let frames: Vec<usize> = (0..20).filter(|&k| labels.is_active(k, 60)).collect();
        assert_eq!(frames, vec![11, 12]);
    }

    #[test]
    fn frame_labels_ignore_pitches_and_frames_outside_the_roll() {
        let notes = [Note::new(0.0, 10.0, 20, 90), Note::new(0.05, 10.0, 21, 90)];
        let labels = frame_labels(&notes, 100.0, 8, 88, 21);
        assert_eq!(labels.active.len(), 8 * 88);
        assert_eq!(
            (0..8).map(|k| labels.polyphony(k)).collect::<Vec<_>>(),
            [0, 0, 0, 0, 0, 1, 1, 1]
        );
    }

    #[test]
    fn boundaries_follow_the_division_and_huge_times_stay_bounded() {
        // 0.29 * 100 is 28.999999999999996, but 29 / 100 == 0.29: frame 29 is the first.
        assert_eq!(active_frames(0.29, 0.31, 100, 100.0), 29..31);
        assert_eq!(active_frames(0.0, 1e300, 50, 100.0), 0..50);
        assert_eq!(active_frames(1e300, 2e300, 50, 100.0), 50..50);
        assert_eq!(active_frames(0.5, f64::NAN, 50, 100.0), 50..50);
        assert_eq!(active_frames(0.5, 0.2, 100, 100.0), 50..50);
    }

    /// The rule against a brute-force reading of the predicate on every frame.
    #[test]
    fn active_frames_are_exactly_those_the_predicate_selects() {
        let fps = 100.0;
        for i in 0..2000 {
            let onset = i as f64 * 0.00137;
            let offset = onset + (i % 97) as f64 * 0.0031 + 0.0001;
            let expected: Vec<usize> = (0..400)
                .filter(|&k| onset <= k as f64 / fps && (k as f64 / fps) < offset)
                .collect();
            let got: Vec<usize> = active_frames(onset, offset, 400, fps).collect();
            assert_eq!(got, expected, "{onset} {offset}");
        }
    }
}
