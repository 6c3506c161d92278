//! `polyphon eval separation` run as a user runs it: scores checked against what museval
//! 0.4.1 computed for the same stems (tools/make_separation_fixtures.py), and bad folders
//! refused with a clear message and a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn fixture(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/polyphon-eval/tests/fixtures/separation")
        .join(case)
}

fn eval_separation(reference: &Path, estimate: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(["eval", "separation", "--ref"])
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

#[test]
fn json_scores_equal_museval() {
    for case in ["good", "short3"] {
        let dir = fixture(case);
        let output = eval_separation(&dir.join("ref"), &dir.join("est"), &["--json"]);
        assert!(output.status.success(), "{}", stderr(&output));
        let ours: Value = serde_json::from_str(stdout(&output).trim()).unwrap();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap())
                .unwrap();
        let sources = expected["sources"].as_array().unwrap();
        assert_eq!(ours.as_object().unwrap().len(), sources.len());
        for source in sources {
            let source = source.as_str().unwrap();
            let mut pairs: Vec<(&str, f64, f64)> = ["sdr", "sir", "sar", "isr"]
                .iter()
                .map(|m| {
                    (
                        *m,
                        ours[source][m].as_f64().unwrap(),
                        expected["median"][source][m].as_f64().unwrap(),
                    )
                })
                .collect();
            pairs.push((
                "si_sdr",
                ours[source]["si_sdr"].as_f64().unwrap(),
                expected["si_sdr"][source].as_f64().unwrap(),
            ));
            for (metric, got, want) in pairs {
                assert!(
                    (got - want).abs() <= 1e-3,
                    "{case} {source} {metric}: {got} vs museval {want}"
                );
            }
        }
    }
}

#[test]
fn text_output_is_a_table() {
    let dir = fixture("good");
    let output = eval_separation(&dir.join("ref"), &dir.join("est"), &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("SDR") && text.contains("SI-SDR"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("bass ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("flute ")), "{text}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

fn write_wav(path: &Path, channels: u16, rate: u32, frames: usize) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..frames * channels as usize {
        writer
            .write_sample(((n * 7919) % 2001) as i16 - 1000)
            .unwrap();
    }
    writer.finalize().unwrap();
}

/// Runs on a broken pair of folders and returns stderr, checking the exit status.
fn refused(reference: &Path, estimate: &Path) -> String {
    let output = eval_separation(reference, estimate, &["--json"]);
    assert!(!output.status.success(), "accepted: {}", stdout(&output));
    assert!(stdout(&output).is_empty());
    stderr(&output)
}

#[test]
fn bad_folders_are_refused_clearly() {
    let good = fixture("good");
    let tmp = tempfile::tempdir().unwrap();

    // missing folder
    let err = refused(&good.join("ref"), &tmp.path().join("nowhere"));
    assert!(
        err.contains("nowhere") && err.contains("does not exist"),
        "{err}"
    );

    // a folder without stems
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = refused(&good.join("ref"), &empty);
    assert!(err.contains("no <source>.wav"), "{err}");

    // different source names
    let renamed = tmp.path().join("renamed");
    copy_dir(&good.join("est"), &renamed);
    std::fs::rename(renamed.join("flute.wav"), renamed.join("piano.wav")).unwrap();
    let err = refused(&good.join("ref"), &renamed);
    assert!(
        err.contains("no estimate for flute") && err.contains("no reference for piano"),
        "{err}"
    );

    // estimates shorter than the references (fixture "silent")
    let silent = fixture("silent");
    let err = refused(&silent.join("ref"), &silent.join("est"));
    assert!(err.contains("29600") && err.contains("32000"), "{err}");

    // another sample rate, another channel count (the good case: stereo, 8 kHz, 3 s)
    let rate = tmp.path().join("rate");
    copy_dir(&good.join("est"), &rate);
    write_wav(&rate.join("bass.wav"), 2, 16_000, 24_000);
    let err = refused(&good.join("ref"), &rate);
    assert!(err.contains("16000 Hz") && err.contains("8000 Hz"), "{err}");

    let mono = tmp.path().join("mono");
    copy_dir(&good.join("est"), &mono);
    write_wav(&mono.join("flute.wav"), 1, 8000, 24_000);
    let err = refused(&good.join("ref"), &mono);
    assert!(err.contains("1 channels") && err.contains("has 2"), "{err}");

    // a silent estimate: museval refuses it too
    let quiet = tmp.path().join("quiet");
    copy_dir(&good.join("est"), &quiet);
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(quiet.join("bass.wav"), spec).unwrap();
    for _ in 0..2 * 24_000 {
        writer.write_sample(0i16).unwrap();
    }
    writer.finalize().unwrap();
    let err = refused(&good.join("ref"), &quiet);
    assert!(err.contains("silent"), "{err}");
}

/// MUSDB18's layout: a track folder's `mixture.wav` is not a source, and a folder of track
/// folders is scored track by track with the median over tracks, as museval's eval_mus_dir.
#[test]
fn a_folder_of_musdb18_tracks_is_scored_track_by_track_with_medians() {
    let tmp = tempfile::tempdir().unwrap();
    let (references, estimates) = (tmp.path().join("test"), tmp.path().join("estimates"));
    let mut expected = Vec::new();
    for case in ["good", "short3"] {
        let dir = fixture(case);
        copy_dir(&dir.join("ref"), &references.join(case));
        copy_dir(&dir.join("est"), &estimates.join(case));
        std::fs::copy(
            dir.join("ref/bass.wav"),
            references.join(case).join("mixture.wav"),
        )
        .unwrap();
        let json = std::fs::read_to_string(dir.join("expected.json")).unwrap();
        expected.push(serde_json::from_str::<Value>(&json).unwrap());
    }
    // One track folder, its mixture beside the sources.
    let one = eval_separation(
        &references.join("good"),
        &estimates.join("good"),
        &["--json"],
    );
    assert!(one.status.success(), "{}", stderr(&one));
    let one: Value = serde_json::from_str(stdout(&one).trim()).unwrap();
    assert_eq!(one.as_object().unwrap().len(), 2, "{one}");
    // The whole folder.
    let all = eval_separation(&references, &estimates, &["--json"]);
    assert!(all.status.success(), "{}", stderr(&all));
    let all: Value = serde_json::from_str(stdout(&all).trim()).unwrap();
    let sdr = |e: &Value, source: &str| e["median"][source]["sdr"].as_f64();
    for (case, want) in ["good", "short3"].iter().zip(&expected) {
        let got = all["tracks"][case]["bass"]["sdr"].as_f64().unwrap();
        assert!(
            (got - sdr(want, "bass").unwrap()).abs() <= 1e-3,
            "{case}: {got}"
        );
    }
    let bass = (sdr(&expected[0], "bass").unwrap() + sdr(&expected[1], "bass").unwrap()) / 2.0;
    let median = all["median"]["bass"]["sdr"].as_f64().unwrap();
    assert!((median - bass).abs() <= 1e-3, "{median} vs {bass}");
    // piano sounds in one track only: its median is that track's score.
    let piano = all["median"]["piano"]["sdr"].as_f64().unwrap();
    assert!((piano - sdr(&expected[1], "piano").unwrap()).abs() <= 1e-3);
    let text = stdout(&eval_separation(&references, &estimates, &[]));
    assert!(text.contains("median over 2 tracks"), "{text}");
    // A track without estimates is named.
    std::fs::create_dir(references.join("extra")).unwrap();
    copy_dir(&fixture("good").join("ref"), &references.join("extra"));
    assert!(refused(&references, &estimates).contains("no estimates for track extra"));
}
