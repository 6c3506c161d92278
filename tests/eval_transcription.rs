//! `polyphon eval transcription` run as a user runs it, checked against scores that
//! mir_eval 0.8.2 computed for the same files (tools/make_eval_fixtures.py).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polyphon::metrics::TranscriptionReport;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/polyphon-eval/tests/fixtures")
        .join(name)
}

fn eval_transcription(reference: &Path, estimate: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(["eval", "transcription", "--ref"])
        .arg(reference)
        .arg("--est")
        .arg(estimate)
        .args(extra)
        .output()
        .expect("polyphon runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn assert_close(ours: &TranscriptionReport, expected: &TranscriptionReport) {
    let pairs = [
        (ours.frame.precision, expected.frame.precision),
        (ours.frame.recall, expected.frame.recall),
        (ours.frame.f1, expected.frame.f1),
        (ours.frame.accuracy, expected.frame.accuracy),
        (ours.onset.precision, expected.onset.precision),
        (ours.onset.recall, expected.onset.recall),
        (ours.onset.f1, expected.onset.f1),
        (ours.onset_offset.precision, expected.onset_offset.precision),
        (ours.onset_offset.recall, expected.onset_offset.recall),
        (ours.onset_offset.f1, expected.onset_offset.f1),
    ];
    for (a, b) in pairs {
        assert!((a - b).abs() <= 1e-6, "{ours:?}\nmir_eval: {expected:?}");
    }
}

fn expected_report(name: &str) -> TranscriptionReport {
    TranscriptionReport::from_json(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap()
}

/// Runs with `--json` and checks that stdout is exactly one JSON object.
fn json_report(reference: &Path, estimate: &Path) -> TranscriptionReport {
    let output = eval_transcription(reference, estimate, &["--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    TranscriptionReport::from_json(text.trim()).expect("stdout is the report object")
}

#[test]
fn csv_json_scores_equal_mir_eval() {
    let ours = json_report(&fixture("cli_ref.csv"), &fixture("cli_est.csv"));
    assert_close(&ours, &expected_report("cli_expected.json"));
}

#[test]
fn midi_reference_json_scores_equal_mir_eval() {
    let ours = json_report(&fixture("midi_tempo.mid"), &fixture("cli_midi_est.csv"));
    assert_close(&ours, &expected_report("cli_midi_expected.json"));
}

#[test]
fn human_output_is_a_table_of_the_same_scores() {
    let output = eval_transcription(&fixture("cli_ref.csv"), &fixture("cli_est.csv"), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let expected = expected_report("cli_expected.json");
    let frame_row = text.lines().find(|l| l.starts_with("frame")).expect(&text);
    assert!(
        frame_row.contains(&format!("{:.4}", expected.frame.f1)),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("onset+offset")),
        "{text}"
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn assert_fails_naming(output: &Output, needles: &[&str]) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    let message = stderr(output);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    for needle in needles {
        assert!(message.contains(needle), "{needle:?} missing in: {message}");
    }
}

#[test]
fn malformed_csv_row_fails_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "bad.csv",
        "onset,offset,pitch,velocity\n0.1,0.5,60,80\n0.6,oops,62,80\n",
    );
    let output = eval_transcription(&fixture("cli_ref.csv"), &bad, &["--json"]);
    assert_fails_naming(&output, &["bad.csv", "line 3", "offset"]);
    assert!(stdout(&output).is_empty());
}

#[test]
fn negative_duration_fails_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        dir.path(),
        "backwards.csv",
        "0.1,0.5,60,80\n0.9,0.6,62,80\n",
    );
    let output = eval_transcription(&bad, &fixture("cli_est.csv"), &[]);
    assert_fails_naming(&output, &["backwards.csv", "line 2", "negative duration"]);
}

#[test]
fn missing_file_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere.mid");
    let output = eval_transcription(&missing, &fixture("cli_est.csv"), &[]);
    assert_fails_naming(&output, &["nowhere.mid"]);
}
