//! From note lists to per-frame pitch sets, the input of the frame-level metrics.
//!
//! The rule is polyphon-core's label rule: frame `k` sits at time `t_k = k / fps` seconds
//! (computed as that division), and a note sounds in it when `onset <= t_k < offset`. Its pitch
//! is quantised to the nearest MIDI number (halves round up), and each frame holds each MIDI
//! number at most once, so two overlapping notes of the same pitch count once, as in a piano
//! roll.

use polyphon_core::{active_frames, Note};

/// The frame rate of polyphon's frame-level evaluation.
pub const FRAMES_PER_SECOND: f64 = 100.0;

/// Number of frames of a grid that covers every note ending by `last_offset`: all `k` with
/// `k / fps < last_offset`, plus one so that float rounding can never drop a frame. Trailing
/// empty frames do not change any frame-level score.
pub fn frame_count(last_offset: f64, fps: f64) -> usize {
    (last_offset * fps).ceil().max(0.0) as usize + 1
}

/// The frame times `0, 1/fps, ...` of an `n_frames` grid.
pub fn frame_times(n_frames: usize, fps: f64) -> Vec<f64> {
    (0..n_frames).map(|k| k as f64 / fps).collect()
}

/// The MIDI numbers (quantised, ascending, without repeats) sounding in each of the first
/// `n_frames` frames.
pub fn active_pitches(notes: &[Note], n_frames: usize, fps: f64) -> Vec<Vec<u8>> {
    let mut frames: Vec<Vec<u8>> = vec![Vec::new(); n_frames];
    for note in notes {
        for k in active_frames(note.onset, note.offset, n_frames, fps) {
            frames[k].push(note.key());
        }
    }
    for frame in &mut frames {
        frame.sort_unstable();
        frame.dedup();
    }
    frames
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(onset: f64, offset: f64, pitch: f64) -> Note {
        Note {
            onset,
            offset,
            pitch,
            velocity: 100,
        }
    }

    #[test]
    fn a_note_sounds_from_its_onset_frame_up_to_but_not_in_its_offset_frame() {
        assert_eq!(active_frames(0.07, 0.1, 100, 100.0), 7..10);
        assert_eq!(active_frames(0.071, 0.1001, 100, 100.0), 8..11);
        assert_eq!(active_frames(0.0, 0.005, 100, 100.0), 0..1);
        // Shorter than a frame and between two frame times: never sounds.
        assert_eq!(active_frames(0.011, 0.019, 100, 100.0).len(), 0);
    }

    #[test]
    fn overlapping_notes_of_one_pitch_count_once() {
        let notes = [
            note(0.0, 0.03, 60.0),
            note(0.01, 0.05, 60.2),
            note(0.0, 0.01, 64.0),
        ];
        let frames = active_pitches(&notes, 6, 100.0);
        assert_eq!(
            frames,
            vec![vec![60, 64], vec![60], vec![60], vec![60], vec![60], vec![]]
        );
    }

    #[test]
    fn grid_covers_the_last_offset() {
        assert_eq!(frame_count(0.1, 100.0), 11);
        assert_eq!(frame_count(0.0, 100.0), 1);
        assert_eq!(frame_times(3, 100.0), vec![0.0, 0.01, 0.02]);
    }

    #[test]
    fn midi_69_is_a440() {
        use polyphon_core::{midi_to_hz, quantise_pitch};
        assert_eq!(midi_to_hz(69.0), 440.0);
        assert!((midi_to_hz(60.0) - 261.625_565_300_598_6).abs() < 1e-9);
        assert_eq!(quantise_pitch(60.5), 61);
        assert_eq!(quantise_pitch(60.49), 60);
    }
}
