//! The scores of `polyphon eval transcription`: frame-level, note onset, note onset+offset.

use crate::frames::{active_pitches, frame_count, frame_times, FRAMES_PER_SECOND};
use crate::multipitch::{self, MultipitchScores, MultipitchSeries};
use crate::transcription::{precision_recall_f1_overlap, NoteMatchOptions, NoteScores};
use crate::validate::{
    Side, ValidationError, MULTIPITCH_MAX_FREQ, MULTIPITCH_MAX_TIME, MULTIPITCH_MIN_FREQ,
};
use polyphon_core::{midi_to_hz, Note};

/// Frame-level scores (see [`crate::multipitch`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrameScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub accuracy: f64,
}

/// Note-level precision, recall and F-measure.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NotePrf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Everything `eval transcription` reports; serialises to its `--json` object.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TranscriptionReport {
    pub frame: FrameScores,
    /// Onset and pitch must match; offsets are ignored.
    pub onset: NotePrf,
    /// Onset, pitch and offset must match.
    pub onset_offset: NotePrf,
}

impl std::fmt::Display for TranscriptionReport {
    /// A table: frame, onset and onset+offset rows of precision, recall, F1 (and accuracy).
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        writeln!(
            f,
            "{:<14} {:>9} {:>9} {:>9} {:>9}",
            "", "precision", "recall", "F1", "accuracy"
        )?;
        let frame = &self.frame;
        writeln!(
            f,
            "{:<14} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
            "frame", frame.precision, frame.recall, frame.f1, frame.accuracy
        )?;
        for (label, scores) in [("onset", &self.onset), ("onset+offset", &self.onset_offset)] {
            writeln!(
                f,
                "{:<14} {:>9.4} {:>9.4} {:>9.4} {:>9}",
                label, scores.precision, scores.recall, scores.f1, "-"
            )?;
        }
        Ok(())
    }
}

impl TranscriptionReport {
    /// The report as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a struct of floats always serialises")
    }

    /// Reads a report back from its JSON form (e.g. a saved `--json` output).
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Every score averaged over files (each file counts once, as transcription papers
    /// report data-set scores); `None` for no reports.
    pub fn mean(reports: &[Self]) -> Option<Self> {
        let n = reports.len() as f64;
        let average = |score: fn(&Self) -> f64| reports.iter().map(score).sum::<f64>() / n;
        let prf = |p: fn(&Self) -> f64, r: fn(&Self) -> f64, f: fn(&Self) -> f64| NotePrf {
            precision: average(p),
            recall: average(r),
            f1: average(f),
        };
        (!reports.is_empty()).then(|| Self {
            frame: FrameScores {
                precision: average(|r| r.frame.precision),
                recall: average(|r| r.frame.recall),
                f1: average(|r| r.frame.f1),
                accuracy: average(|r| r.frame.accuracy),
            },
            onset: prf(|r| r.onset.precision, |r| r.onset.recall, |r| r.onset.f1),
            onset_offset: prf(
                |r| r.onset_offset.precision,
                |r| r.onset_offset.recall,
                |r| r.onset_offset.f1,
            ),
        })
    }
}

/// Scores `estimate` against `reference` with mir_eval's default tolerances: 50 ms onsets,
/// 50 cents pitch, offsets within 20 % of the reference duration or 50 ms; frames at
/// [`FRAMES_PER_SECOND`].
pub fn evaluate_transcription(
    reference: &[Note],
    estimate: &[Note],
) -> Result<TranscriptionReport, ValidationError> {
    let onset = note_scores(reference, estimate, &NoteMatchOptions::onset_only())?;
    let onset_offset = note_scores(reference, estimate, &NoteMatchOptions::default())?;
    let frame = frame_scores(reference, estimate, FRAMES_PER_SECOND)?;
    Ok(TranscriptionReport {
        frame: FrameScores {
            precision: frame.precision,
            recall: frame.recall,
            f1: frame.f1,
            accuracy: frame.accuracy,
        },
        onset: onset.into(),
        onset_offset: onset_offset.into(),
    })
}

impl From<NoteScores> for NotePrf {
    fn from(scores: NoteScores) -> Self {
        NotePrf {
            precision: scores.precision,
            recall: scores.recall,
            f1: scores.f_measure,
        }
    }
}

/// mir_eval's `precision_recall_f1_overlap` on notes with MIDI pitches (converted to Hz).
pub fn note_scores(
    reference: &[Note],
    estimate: &[Note],
    options: &NoteMatchOptions,
) -> Result<NoteScores, ValidationError> {
    let (ref_intervals, ref_pitches) = intervals_and_hz(reference);
    let (est_intervals, est_pitches) = intervals_and_hz(estimate);
    precision_recall_f1_overlap(
        &ref_intervals,
        &ref_pitches,
        &est_intervals,
        &est_pitches,
        options,
    )
}

/// Note intervals and pitches in Hz, the form mir_eval takes.
pub fn intervals_and_hz(notes: &[Note]) -> (Vec<[f64; 2]>, Vec<f64>) {
    let intervals = notes.iter().map(|n| [n.onset, n.offset]).collect();
    let pitches = notes.iter().map(|n| midi_to_hz(n.pitch)).collect();
    (intervals, pitches)
}

/// mir_eval.multipitch's scores on both note lists rendered to frames (see [`crate::frames`])
/// on one shared grid that covers the later of the two last offsets, so no resampling occurs.
pub fn frame_scores(
    reference: &[Note],
    estimate: &[Note],
    fps: f64,
) -> Result<MultipitchScores, ValidationError> {
    // mir_eval.multipitch would reject such a frame anyway; name the note instead, and before
    // a frame grid is sized from its offset.
    check_frame_range(Side::Reference, reference)?;
    check_frame_range(Side::Estimate, estimate)?;
    let last_offset = reference
        .iter()
        .chain(estimate)
        .map(|n| n.offset)
        .fold(0.0, f64::max);
    let n_frames = frame_count(last_offset, fps);
    let times = frame_times(n_frames, fps);
    let ref_hz = frames_in_hz(reference, n_frames, fps);
    let est_hz = frames_in_hz(estimate, n_frames, fps);
    multipitch::metrics(
        MultipitchSeries {
            times: &times,
            frequencies: &ref_hz,
        },
        MultipitchSeries {
            times: &times,
            frequencies: &est_hz,
        },
    )
}

fn check_frame_range(side: Side, notes: &[Note]) -> Result<(), ValidationError> {
    for (index, note) in notes.iter().enumerate() {
        if note.offset.is_nan() || note.offset > MULTIPITCH_MAX_TIME {
            return Err(ValidationError::NoteTooLate {
                side,
                index,
                offset: note.offset,
                max: MULTIPITCH_MAX_TIME,
            });
        }
        let hz = midi_to_hz(f64::from(note.key()));
        if !(MULTIPITCH_MIN_FREQ..=MULTIPITCH_MAX_FREQ).contains(&hz) {
            return Err(ValidationError::PitchOutOfFrameRange {
                side,
                index,
                pitch: note.pitch,
                hz,
                min: MULTIPITCH_MIN_FREQ,
                max: MULTIPITCH_MAX_FREQ,
            });
        }
    }
    Ok(())
}

fn frames_in_hz(notes: &[Note], n_frames: usize, fps: f64) -> Vec<Vec<f64>> {
    // Hz only because mir_eval.multipitch takes Hz; it converts back to MIDI numbers.
    active_pitches(notes, n_frames, fps)
        .into_iter()
        .map(|frame| {
            frame
                .into_iter()
                .map(|m| midi_to_hz(f64::from(m)))
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(onset: f64, offset: f64, pitch: f64) -> Note {
        Note {
            onset,
            offset,
            pitch,
            velocity: 90,
        }
    }

    /// A note ending past mir_eval.multipitch's 30,000 s is refused by name before a frame
    /// grid is sized from it (an offset of 1e6 s asked for gigabytes).
    #[test]
    fn a_note_past_the_frame_limit_is_refused_before_frames_are_made() {
        let reference = [note(0.0, 0.5, 60.0)];
        for offset in [1e6, 30_000.5, f64::INFINITY] {
            let late = [note(0.0, 0.5, 60.0), note(1.0, offset, 62.0)];
            let error = frame_scores(&reference, &late, FRAMES_PER_SECOND).unwrap_err();
            assert!(
                matches!(error, ValidationError::NoteTooLate { index: 1, .. }),
                "{error}"
            );
        }
        assert!(frame_scores(&reference, &reference, FRAMES_PER_SECOND).is_ok());
    }

    #[test]
    fn mean_averages_each_score_over_files() {
        let reference = [note(0.0, 0.5, 60.0), note(0.5, 1.0, 64.0)];
        let perfect = evaluate_transcription(&reference, &reference).unwrap();
        let half = evaluate_transcription(&reference, &reference[..1]).unwrap();
        let mean = TranscriptionReport::mean(&[perfect, half]).unwrap();
        assert_eq!(mean.onset.precision, 1.0);
        assert_eq!(mean.onset.recall, (1.0 + 0.5) / 2.0);
        assert_eq!(mean.onset.f1, (1.0 + 2.0 / 3.0) / 2.0);
        assert_eq!(mean.frame.recall, (1.0 + half.frame.recall) / 2.0);
        assert_eq!(TranscriptionReport::mean(&[]), None);
    }

    #[test]
    fn report_json_has_the_documented_shape_and_reads_back() {
        let reference = [note(0.0, 0.5, 60.0), note(0.5, 1.0, 64.0)];
        let estimate = [note(0.01, 0.5, 60.0), note(0.5, 0.6, 64.0)];
        let report = evaluate_transcription(&reference, &estimate).unwrap();
        let json = report.to_json();
        assert!(json.starts_with(r#"{"frame":{"precision":"#), "{json}");
        assert!(json.contains(r#""onset":{"precision":1.0,"recall":1.0,"f1":1.0}"#));
        assert!(json.contains(r#""onset_offset":{"precision":0.5,"recall":0.5,"f1":0.5}"#));
        assert_eq!(TranscriptionReport::from_json(&json).unwrap(), report);
    }

    #[test]
    fn pitches_outside_multipitch_range_name_the_note() {
        let reference = [note(0.0, 0.5, 60.0), note(0.5, 1.0, 15.0)];
        let error = evaluate_transcription(&reference, &reference).unwrap_err();
        assert!(matches!(
            error,
            ValidationError::PitchOutOfFrameRange {
                side: Side::Reference,
                index: 1,
                ..
            }
        ));
        assert!(evaluate_transcription(&[note(0.0, 0.5, 16.0)], &[note(0.0, 0.5, 111.0)]).is_ok());
    }
}
