//! polyphon-eval against the scores mir_eval 0.8.2 itself produced
//! (fixtures written by `tools/make_eval_fixtures.py`).

use std::path::{Path, PathBuf};

use polyphon_eval::evaluate::{frame_scores, intervals_and_hz, note_scores};
use polyphon_eval::multipitch::{self, MultipitchSeries};
use polyphon_eval::transcription::{match_notes, NoteMatchOptions, NoteScores};
use polyphon_eval::Note;
use serde_json::Value;

const TOLERANCE: f64 = 1e-6;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn load_cases(name: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    let root: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(root["mir_eval"], "0.8.2");
    root["cases"].as_array().unwrap().clone()
}

fn notes(value: &Value) -> Vec<Note> {
    let row = |n: &Value| Note {
        onset: n[0].as_f64().unwrap(),
        offset: n[1].as_f64().unwrap(),
        pitch: n[2].as_f64().unwrap(),
        velocity: n[3].as_u64().unwrap() as u8,
    };
    value.as_array().unwrap().iter().map(row).collect()
}

/// Collects the largest difference seen, and every comparison beyond the tolerance.
#[derive(Default)]
struct Comparison {
    max_abs_diff: f64,
    count: usize,
    failures: Vec<String>,
}

impl Comparison {
    fn check(&mut self, case: &str, metric: &str, ours: f64, expected: &Value) {
        let expected = expected.as_f64().unwrap();
        let diff = (ours - expected).abs();
        self.count += 1;
        self.max_abs_diff = self.max_abs_diff.max(diff);
        if diff.is_nan() || diff > TOLERANCE {
            self.failures
                .push(format!("{case}: {metric} = {ours}, mir_eval {expected}"));
        }
    }

    fn check_notes(&mut self, case: &str, group: &str, ours: &NoteScores, expected: &Value) {
        self.check(
            case,
            &format!("{group}.precision"),
            ours.precision,
            &expected["precision"],
        );
        self.check(
            case,
            &format!("{group}.recall"),
            ours.recall,
            &expected["recall"],
        );
        self.check(
            case,
            &format!("{group}.f_measure"),
            ours.f_measure,
            &expected["f_measure"],
        );
        self.check(
            case,
            &format!("{group}.average_overlap_ratio"),
            ours.average_overlap_ratio,
            &expected["average_overlap_ratio"],
        );
    }

    fn finish(self, what: &str) {
        println!(
            "{what}: {} values, max |ours - mir_eval| = {:e}",
            self.count, self.max_abs_diff
        );
        assert!(self.failures.is_empty(), "{}", self.failures.join("\n"));
    }
}

fn note_options() -> [(&'static str, NoteMatchOptions); 4] {
    let strict = |options: NoteMatchOptions| NoteMatchOptions {
        strict: true,
        ..options
    };
    [
        ("onset_offset", NoteMatchOptions::default()),
        ("onset", NoteMatchOptions::onset_only()),
        ("onset_offset_strict", strict(NoteMatchOptions::default())),
        ("onset_strict", strict(NoteMatchOptions::onset_only())),
    ]
}

#[test]
fn note_level_scores_equal_mir_eval() {
    let cases = load_cases("transcription_cases.json");
    assert!(cases.len() >= 40);
    let mut comparison = Comparison::default();
    for case in &cases {
        let name = case["name"].as_str().unwrap();
        let (reference, estimate) = (notes(&case["reference"]), notes(&case["estimate"]));
        for (group, options) in note_options() {
            let ours = note_scores(&reference, &estimate, &options).unwrap();
            comparison.check_notes(name, group, &ours, &case["expected"][group]);
        }
    }
    comparison.finish("note-level");
}

#[test]
fn matchings_are_the_pairs_mir_eval_chooses() {
    for case in load_cases("transcription_cases.json") {
        let name = case["name"].as_str().unwrap();
        let (ref_intervals, ref_hz) = intervals_and_hz(&notes(&case["reference"]));
        let (est_intervals, est_hz) = intervals_and_hz(&notes(&case["estimate"]));
        for (key, options) in [
            ("matching_onset_offset", NoteMatchOptions::default()),
            ("matching_onset", NoteMatchOptions::onset_only()),
        ] {
            let ours = match_notes(&ref_intervals, &ref_hz, &est_intervals, &est_hz, &options);
            let expected: Vec<(usize, usize)> = case["expected"][key]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_u64().unwrap() as usize,
                        p[1].as_u64().unwrap() as usize,
                    )
                })
                .collect();
            assert_eq!(ours, expected, "{name}: {key}");
        }
    }
}

#[test]
fn frame_level_scores_equal_mir_eval() {
    let mut comparison = Comparison::default();
    for case in load_cases("transcription_cases.json") {
        let name = case["name"].as_str().unwrap();
        let (reference, estimate) = (notes(&case["reference"]), notes(&case["estimate"]));
        let ours = frame_scores(&reference, &estimate, 100.0).unwrap();
        let expected = &case["expected"]["frame"];
        comparison.check(
            name,
            "frame.precision",
            ours.precision,
            &expected["precision"],
        );
        comparison.check(name, "frame.recall", ours.recall, &expected["recall"]);
        comparison.check(name, "frame.accuracy", ours.accuracy, &expected["accuracy"]);
        comparison.check(name, "frame.f1", ours.f1, &expected["f1"]);
    }
    comparison.finish("frame-level");
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn frames(value: &Value) -> Vec<Vec<f64>> {
    value.as_array().unwrap().iter().map(floats).collect()
}

#[test]
fn multipitch_series_scores_equal_mir_eval_including_resampling() {
    let mut comparison = Comparison::default();
    for case in load_cases("multipitch_cases.json") {
        let name = case["name"].as_str().unwrap();
        let (ref_times, ref_freqs) = (floats(&case["ref_times"]), frames(&case["ref_freqs"]));
        let (est_times, est_freqs) = (floats(&case["est_times"]), frames(&case["est_freqs"]));
        let ours = multipitch::metrics(
            MultipitchSeries {
                times: &ref_times,
                frequencies: &ref_freqs,
            },
            MultipitchSeries {
                times: &est_times,
                frequencies: &est_freqs,
            },
        )
        .unwrap();
        let expected = &case["expected"];
        comparison.check(name, "precision", ours.precision, &expected["precision"]);
        comparison.check(name, "recall", ours.recall, &expected["recall"]);
        comparison.check(name, "accuracy", ours.accuracy, &expected["accuracy"]);
        comparison.check(name, "f1", ours.f1, &expected["f1"]);
    }
    comparison.finish("multipitch");
}

#[test]
fn midi_with_tempo_changes_reads_as_mido_plays_it() {
    let ours = polyphon_core::read_notes(fixture("midi_tempo.mid")).unwrap();
    let expected = polyphon_core::read_notes(fixture("midi_tempo_notes.csv")).unwrap();
    assert_eq!(ours.len(), expected.len());
    for (a, b) in ours.iter().zip(&expected) {
        assert!((a.onset - b.onset).abs() < 1e-9, "{a:?} vs {b:?}");
        assert!((a.offset - b.offset).abs() < 1e-9, "{a:?} vs {b:?}");
        assert_eq!((a.pitch, a.velocity), (b.pitch, b.velocity));
    }
}
