//! From piano rolls and note lists to one [`Combination`] per frame.
//!
//! Both use the project's one label rule: a note sounds in frame `k` when
//! `onset <= k / fps < offset`. Note lists are rasterised by polyphon-eval's frame grid (the
//! grid of `polyphon eval transcription`'s frame scores: pitches rounded to MIDI numbers);
//! piano rolls come from polyphon-synth's [`frame_labels`](polyphon_core::frame_labels),
//! as the training data loader makes them.

use polyphon_core::FrameLabels;
use polyphon_core::Note;
use polyphon_eval::frames::{active_pitches, frame_count};

use crate::Combination;

/// The frame rate note lists are rasterised at unless told otherwise, the rate of polyphon's
/// frame-level evaluation (mir_eval's multipitch grid as polyphon-eval uses it).
pub const DEFAULT_FPS: f64 = polyphon_eval::frames::FRAMES_PER_SECOND;

/// The combination of every frame of a piano roll.
pub fn combinations_from_labels(labels: &FrameLabels) -> Vec<Combination> {
    (0..labels.n_frames)
        .map(|frame| {
            let row = &labels.active[frame * labels.n_pitches..(frame + 1) * labels.n_pitches];
            let pitches = row
                .iter()
                .enumerate()
                .filter(|(_, &on)| on)
                .map(|(column, _)| usize::from(labels.lowest_pitch) + column)
                .filter_map(|pitch| u8::try_from(pitch).ok().filter(|&p| p < 128));
            Combination::from_pitches(pitches)
        })
        .collect()
}

/// The combination of each of the first `n_frames` frames of a note list at `fps`.
pub fn combinations_from_notes(notes: &[Note], n_frames: usize, fps: f64) -> Vec<Combination> {
    active_pitches(notes, n_frames, fps)
        .into_iter()
        .map(Combination::from_pitches)
        .collect()
}

/// The number of frames a grid needs to cover every note of a list (see
/// [`polyphon_eval::frames::frame_count`]).
pub fn frames_covering(notes: &[Note], fps: f64) -> usize {
    let last_offset = notes.iter().map(|n| n.offset).fold(0.0, f64::max);
    frame_count(last_offset, fps)
}

/// Reference and estimate combinations on one shared grid that covers the later of the two
/// lists' last offsets, as polyphon-eval's frame scores do: frames where the reference is
/// silent but the estimate is not are kept (they add notes to silence).
pub fn frame_pairs_from_notes(
    reference: &[Note],
    estimate: &[Note],
    fps: f64,
) -> (Vec<Combination>, Vec<Combination>) {
    let n_frames = frames_covering(reference, fps).max(frames_covering(estimate, fps));
    (
        combinations_from_notes(reference, n_frames, fps),
        combinations_from_notes(estimate, n_frames, fps),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyphon_core::frame_labels;

    fn note(onset: f64, offset: f64, pitch: f64) -> Note {
        Note {
            onset,
            offset,
            pitch,
            velocity: 90,
        }
    }

    #[test]
    fn note_lists_follow_the_label_rule() {
        // C4 over frames 0..3, E4 over 2..4 (offset 0.04 excludes frame 4).
        let notes = [note(0.0, 0.03, 60.0), note(0.02, 0.04, 64.0)];
        let frames = combinations_from_notes(&notes, 6, 100.0);
        let names: Vec<String> = frames.iter().map(|c| c.to_string()).collect();
        assert_eq!(names, ["C4", "C4", "C4,E4", "E4", "(silence)", "(silence)"]);
    }

    #[test]
    fn piano_rolls_and_note_lists_agree() {
        let notes = [
            Note::new(0.0, 0.25, 21, 90),
            Note::new(0.1, 0.3, 108, 90),
            Note::new(0.12, 0.2, 60, 90),
        ];
        let labels = frame_labels(&notes, 100.0, 40, 88, 21);
        assert_eq!(
            combinations_from_labels(&labels),
            combinations_from_notes(&notes, 40, 100.0)
        );
    }

    #[test]
    fn pairs_share_a_grid_covering_both_lists() {
        let reference = [note(0.0, 0.02, 60.0)];
        let estimate = [note(0.0, 0.05, 60.0)];
        let (r, e) = frame_pairs_from_notes(&reference, &estimate, 100.0);
        assert_eq!(r.len(), e.len());
        assert_eq!(r.len(), 6);
        assert!(r[2].is_empty() && e[4] == Combination::from_pitches([60]));
    }
}
