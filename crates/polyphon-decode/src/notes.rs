use crate::{DecodeError, Note, Result};

/// Frame probabilities to notes.
///
/// The rule, per pitch:
/// 1. a frame is *on* when its probability is at least `threshold`;
/// 2. runs of at most `max_gap_frames` off frames between two on runs are filled in (a
///    note the model loses for a frame or two stays one note);
/// 3. each on run `k0 .. k1` (k1 exclusive) becomes a note from `k0 / fps` to `k1 / fps`,
///    so decoding the labels of a note gives the note back on the frame grid;
/// 4. notes shorter than `min_frames` frames are dropped.
///
/// Frame-wise models do not mark onsets, so a repeated note with no off frame between its
/// strikes comes out as one long note. Velocity is not estimated: it encodes the note's mean
/// probability, `round(32 + 95 · mean)`, so louder in a DAW means surer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteDecoder {
    pub threshold: f32,
    pub min_frames: usize,
    pub max_gap_frames: usize,
    pub fps: f64,
    /// MIDI number of output column 0 (21 = A0 for the 88 piano keys).
    pub lowest_pitch: u8,
}

impl Default for NoteDecoder {
    /// The rule `polyphon transcribe` uses: threshold 0.5, gaps of up to 8 frames filled,
    /// notes shorter than 10 frames (100 ms) dropped. Chosen on 6 validation files
    /// (sf_GMbank) of the pieces set for the bundled ConvNet: against 3 / 1 it raised onset
    /// F1 from 0.685 to 0.759 and frame F1 from 0.840 to 0.848 (docs/results.md).
    fn default() -> Self {
        Self {
            threshold: 0.5,
            min_frames: 10,
            max_gap_frames: 8,
            fps: 100.0,
            lowest_pitch: 21,
        }
    }
}

impl NoteDecoder {
    fn validate(&self, pitches: usize) -> Result<()> {
        let invalid = |s: String| Err(DecodeError::InvalidParameter(s));
        if !(self.threshold > 0.0 && self.threshold <= 1.0) {
            return invalid(format!("threshold {} must lie in (0, 1]", self.threshold));
        }
        if !(self.fps.is_finite() && self.fps > 0.0) {
            return invalid(format!("fps {} must be positive", self.fps));
        }
        if self.lowest_pitch as usize + pitches > 128 {
            return invalid(format!(
                "{pitches} pitches from MIDI {} exceed MIDI 127",
                self.lowest_pitch
            ));
        }
        Ok(())
    }

    /// Decodes `probabilities`, row-major (frames × `pitches`), into notes sorted by onset
    /// then pitch.
    pub fn decode(&self, probabilities: &[f32], pitches: usize) -> Result<Vec<Note>> {
        if pitches == 0 || !probabilities.len().is_multiple_of(pitches) {
            return Err(DecodeError::InvalidParameter(format!(
                "{} values are not whole rows of {pitches} pitches",
                probabilities.len()
            )));
        }
        let mut stream = self.stream(pitches)?;
        for row in probabilities.chunks_exact(pitches) {
            stream.push(row);
        }
        Ok(stream.finish())
    }

    /// A decoder fed one frame at a time, for inputs too long to hold their probabilities.
    pub fn stream(&self, pitches: usize) -> Result<NoteStream> {
        self.validate(pitches)?;
        Ok(NoteStream {
            decoder: *self,
            pitches: vec![PitchState::default(); pitches],
            frame: 0,
            notes: Vec::new(),
        })
    }
}

/// Streaming form of [`NoteDecoder::decode`]: memory holds the notes found, not the frames.
pub struct NoteStream {
    decoder: NoteDecoder,
    pitches: Vec<PitchState>,
    frame: usize,
    notes: Vec<Note>,
}

/// A run is `start .. end` (frames) with the sum of its probabilities, gaps included.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    start: usize,
    end: usize,
    sum: f32,
}

#[derive(Debug, Clone, Copy, Default)]
struct PitchState {
    /// The run the current frame extends, if the frame is on.
    open: Option<Run>,
    /// The last closed run, kept while a later run may still fill the gap to it.
    closed: Option<Run>,
    /// Probability mass of the off frames since `closed` ended.
    gap_sum: f32,
}

impl NoteStream {
    /// Adds one frame of probabilities (one per pitch).
    pub fn push(&mut self, row: &[f32]) {
        assert_eq!(row.len(), self.pitches.len(), "row width");
        let k = self.frame;
        for (column, &p) in row.iter().enumerate() {
            let on = p >= self.decoder.threshold;
            let state = &mut self.pitches[column];
            let finished = advance(state, k, p, on, self.decoder.max_gap_frames);
            if let Some(run) = finished {
                self.emit(column, run);
            }
        }
        self.frame += 1;
    }

    /// Closes every open note and returns all notes, sorted by onset then pitch.
    pub fn finish(mut self) -> Vec<Note> {
        for column in 0..self.pitches.len() {
            let state = self.pitches[column];
            let open = state.open.map(|run| Run {
                end: self.frame,
                ..run
            });
            for run in [state.closed, open].into_iter().flatten() {
                self.emit(column, run);
            }
        }
        let mut notes = self.notes;
        notes.sort_by(|a, b| {
            a.onset
                .total_cmp(&b.onset)
                .then(a.pitch.total_cmp(&b.pitch))
        });
        notes
    }

    fn emit(&mut self, column: usize, run: Run) {
        let length = run.end - run.start;
        if length < self.decoder.min_frames.max(1) {
            return;
        }
        let mean = (run.sum / length as f32).clamp(0.0, 1.0);
        self.notes.push(Note::new(
            run.start as f64 / self.decoder.fps,
            run.end as f64 / self.decoder.fps,
            self.decoder.lowest_pitch + column as u8,
            (32.0 + 95.0 * mean).round() as u8,
        ));
    }
}

/// Moves one pitch's state past frame `k`; returns a run that can no longer grow.
fn advance(state: &mut PitchState, k: usize, p: f32, on: bool, max_gap: usize) -> Option<Run> {
    let mut finished = None;
    match (on, state.open.as_mut()) {
        (true, Some(run)) => run.sum += p,
        (true, None) => {
            state.open = Some(match state.closed.take() {
                // Close enough to the last run: the gap becomes part of it.
                Some(run) if k - run.end <= max_gap => Run {
                    sum: run.sum + state.gap_sum + p,
                    ..run
                },
                earlier => {
                    finished = earlier;
                    Run {
                        start: k,
                        end: k,
                        sum: p,
                    }
                }
            });
        }
        (false, Some(_)) => {
            let run = state.open.take().expect("open run");
            state.closed = Some(Run { end: k, ..run });
            state.gap_sum = p;
        }
        (false, None) => {
            state.gap_sum += p;
            if matches!(state.closed, Some(run) if k + 1 - run.end > max_gap) {
                finished = state.closed.take();
            }
        }
    }
    finished
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyphon_core::frame_labels;

    fn decoder() -> NoteDecoder {
        NoteDecoder {
            lowest_pitch: 60,
            min_frames: 3,
            max_gap_frames: 1,
            ..Default::default()
        }
    }

    #[test]
    fn runs_become_notes_on_the_frame_grid() {
        // Two pitches (60, 61) over 8 frames.
        let p = [
            0.8, 0.0, //
            0.8, 0.0, //
            0.8, 0.6, //
            0.1, 0.6, //
            0.0, 0.6, //
            0.0, 0.2, //
            0.0, 0.0, //
            0.0, 0.0,
        ];
        let notes = decoder().decode(&p, 2).unwrap();
        assert_eq!(
            notes,
            vec![Note::new(0.0, 0.03, 60, 108), Note::new(0.02, 0.05, 61, 89),]
        );
    }

    #[test]
    fn one_frame_gaps_are_filled_and_short_blips_dropped() {
        let p = [0.8, 0.8, 0.3, 0.8, 0.8, 0.0, 0.0, 0.9, 0.0, 0.0];
        let notes = decoder().decode(&p, 1).unwrap();
        assert_eq!(notes.len(), 1);
        assert_eq!((notes[0].onset, notes[0].offset), (0.0, 0.05));
    }

    #[test]
    fn decoding_labels_gives_the_notes_back() {
        let notes = vec![
            Note::new(0.1, 0.5, 60, 80),
            Note::new(0.2, 0.3, 62, 80),
            Note::new(0.6, 1.0, 60, 80),
        ];
        let labels = frame_labels(&notes, 100.0, 120, 3, 60);
        let probabilities: Vec<f32> = labels.active.iter().map(|&a| a as u8 as f32).collect();
        let decoder = NoteDecoder {
            max_gap_frames: 0,
            ..decoder()
        };
        let decoded = decoder.decode(&probabilities, 3).unwrap();
        let times: Vec<(f64, f64, u8)> = decoded
            .iter()
            .map(|n| (n.onset, n.offset, n.key()))
            .collect();
        assert_eq!(times, vec![(0.1, 0.5, 60), (0.2, 0.3, 62), (0.6, 1.0, 60)]);
    }

    #[test]
    fn gaps_longer_than_allowed_split_notes() {
        let decoder = NoteDecoder {
            min_frames: 1,
            max_gap_frames: 2,
            ..decoder()
        };
        let p = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let notes = decoder.decode(&p, 1).unwrap();
        let spans: Vec<(f64, f64)> = notes.iter().map(|n| (n.onset, n.offset)).collect();
        assert_eq!(spans, vec![(0.0, 0.04), (0.07, 0.08)]);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let bad = NoteDecoder {
            threshold: 0.0,
            ..decoder()
        };
        assert!(bad.decode(&[0.5], 1).is_err());
        assert!(decoder().decode(&[0.5, 0.5, 0.5], 2).is_err());
        let too_high = NoteDecoder {
            lowest_pitch: 100,
            ..decoder()
        };
        assert!(too_high.decode(&vec![0.0; 88], 88).is_err());
    }
}
