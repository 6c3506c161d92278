//! `polyphon analyze entanglement` run as a user runs it, on note lists whose outcome is known
//! frame by frame.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polyphon::notes::manifest::{write_manifest, ManifestEntry, Split};
use polyphon::notes::{write_csv, write_midi, Note};

fn analyze(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(["analyze", "entanglement"])
        .args(args)
        .output()
        .expect("polyphon runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// At 100 fps: reference C4 in frames 0–49 with E4 joining in 25–49, then D4+F4 in 50–74,
/// then one silent frame (75). The estimate gets C4 right, drops E4, adds A4 to D4+F4.
/// Training holds C4 and C4+E4 but never D4+F4.
struct Example {
    dir: tempfile::TempDir,
}

impl Example {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let note = |on, off, pitch| Note::new(on, off, pitch, 90);
        write_csv(
            dir.path().join("ref.csv"),
            &[
                note(0.0, 0.5, 60),
                note(0.25, 0.5, 64),
                note(0.5, 0.75, 62),
                note(0.5, 0.75, 65),
            ],
        )
        .unwrap();
        write_midi(
            dir.path().join("est.mid"),
            &[
                note(0.0, 0.25, 60),
                note(0.25, 0.5, 60),
                note(0.5, 0.75, 62),
                note(0.5, 0.75, 65),
                note(0.5, 0.75, 69),
            ],
            0,
            "estimate",
        )
        .unwrap();
        write_csv(
            dir.path().join("train.csv"),
            &[note(0.0, 1.0, 60), note(0.5, 1.0, 64)],
        )
        .unwrap();
        Example { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn check_known_outcome(out: &Path) {
    assert_eq!(
        files_in(out),
        [
            "combinations.csv",
            "report.md",
            "shared.png",
            "summary.json",
            "unshared.png"
        ]
    );
    let csv = std::fs::read_to_string(out.join("combinations.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("combination,notes,frames,exact,added,omitted,shared"));
    assert_eq!(lines.len(), 5, "{csv}");
    // 25 frames each, ties in order of notes then pitch; silence last with one frame.
    assert!(
        lines[1].starts_with("60,\"C4\",25,1.000000,0.000000,0.000000,true,"),
        "{csv}"
    );
    assert!(
        lines[2].starts_with("60 64,\"C4,E4\",25,0.000000,0.000000,1.000000,true,"),
        "{csv}"
    );
    assert!(
        lines[3].starts_with("62 65,\"D4,F4\",25,0.000000,1.000000,0.000000,false,"),
        "{csv}"
    );
    assert!(lines[4].starts_with(",\"(silence)\",1,1.000000,"), "{csv}");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["frames"], 76);
    assert_eq!(summary["shared"]["frames"], 50);
    assert_eq!(summary["shared"]["combinations"], 2);
    assert_eq!(summary["shared"]["exact"], 0.5);
    assert_eq!(summary["shared"]["omitted"], 0.5);
    assert_eq!(summary["unshared"]["added"], 1.0);
    assert_eq!(summary["unshared"]["exact"], 0.0);
    assert_eq!(summary["all"]["by_polyphony"][1]["polyphony"], 2);
    assert_eq!(summary["all"]["by_polyphony"][1]["frames"], 50);
    assert_eq!(summary["silence"]["frames"], 1);

    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("![shared combinations: the 2 most frequent of 2](shared.png)"));
    assert!(
        report.contains("| unshared | 1 | 25 | 0.000 | 1.000 | 0.000 |"),
        "{report}"
    );
    for png in ["shared.png", "unshared.png"] {
        let bytes = std::fs::read(out.join(png)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    }
}

#[test]
fn note_lists_give_the_known_outcome() {
    let example = Example::new();
    let out = example.path("out");
    let output = analyze(&[
        Path::new("--ref"),
        &example.path("ref.csv"),
        Path::new("--est"),
        &example.path("est.mid"),
        Path::new("--train"),
        &example.path("train.csv"),
        Path::new("--out"),
        &out,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("wrote"), "{stdout}");
    assert!(stdout.contains("unshared"), "{stdout}");
    check_known_outcome(&out);
}

#[test]
fn a_manifest_split_defines_the_shared_combinations() {
    let example = Example::new();
    let entry = |file: &str, split, labels: &str| ManifestEntry {
        file: file.into(),
        split,
        synthesizer: "test:000:000".into(),
        labels_csv: labels.into(),
        labels_midi: String::new(),
        duration: 1.0,
        sample_rate: 44_100,
        source: None,
        instruments: vec![],
        families: vec![],
        stems: vec![],
    };
    let manifest = example.path("set.jsonl");
    write_manifest(
        &manifest,
        &[
            entry("train.wav", Split::Train, "train.csv"),
            // Holds D4+F4, but in the test split: it must not count as shared.
            entry("ref.wav", Split::Test, "ref.csv"),
        ],
    )
    .unwrap();
    let out = example.path("out");
    let output = analyze(&[
        Path::new("--train"),
        &manifest,
        Path::new("--ref"),
        &example.path("ref.csv"),
        Path::new("--est"),
        &example.path("est.mid"),
        Path::new("--out"),
        &out,
        Path::new("--top"),
        Path::new("3"),
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    check_known_outcome(&out);

    // With the test split as training data, D4+F4 becomes shared.
    let out = example.path("out-test-split");
    let output = analyze(&[
        Path::new("--train"),
        &manifest,
        Path::new("--train-split"),
        Path::new("test"),
        Path::new("--ref"),
        &example.path("ref.csv"),
        Path::new("--est"),
        &example.path("est.mid"),
        Path::new("--out"),
        &out,
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let csv = std::fs::read_to_string(out.join("combinations.csv")).unwrap();
    assert!(
        csv.contains("\"D4,F4\",25,0.000000,1.000000,0.000000,true,"),
        "{csv}"
    );
}

/// Runs a failing command and checks it names the cause, exits with 2 and leaves the output
/// folder as it was.
fn assert_fails_cleanly(example: &Example, args: &[&Path], expected: &str) {
    let out = example.path("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "earlier").unwrap();
    let mut all: Vec<&Path> = args.to_vec();
    all.extend([Path::new("--out"), out.as_path()]);
    let output = analyze(&all);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    assert_eq!(files_in(&out), ["keep.txt"]);
}

#[test]
fn bad_input_is_a_clear_error_and_writes_nothing() {
    let example = Example::new();
    std::fs::write(
        example.path("bad.csv"),
        "onset,offset,pitch,velocity\n0.5,0.25,60,90\n",
    )
    .unwrap();
    let (reference, estimate) = (example.path("ref.csv"), example.path("est.mid"));
    let train = example.path("train.csv");
    let flag = Path::new;

    // A broken estimate: the file and line are named.
    let bad = example.path("bad.csv");
    assert_fails_cleanly(
        &example,
        &[
            flag("--ref"),
            &reference,
            flag("--est"),
            &bad,
            flag("--train"),
            &train,
        ],
        "bad.csv, line 2: negative duration",
    );
    // A missing training file.
    let missing = example.path("missing.mid");
    assert_fails_cleanly(
        &example,
        &[
            flag("--ref"),
            &reference,
            flag("--est"),
            &estimate,
            flag("--train"),
            &missing,
        ],
        "missing.mid",
    );
    // Unpaired --ref and --est.
    assert_fails_cleanly(
        &example,
        &[
            flag("--ref"),
            &reference,
            flag("--ref"),
            &reference,
            flag("--est"),
            &estimate,
            flag("--train"),
            &train,
        ],
        "2 --ref but 1 --est",
    );
    // A split the manifest does not have.
    let manifest = example.path("empty.jsonl");
    std::fs::write(&manifest, "").unwrap();
    assert_fails_cleanly(
        &example,
        &[
            flag("--ref"),
            &reference,
            flag("--est"),
            &estimate,
            flag("--train"),
            &manifest,
        ],
        "no entries in the train split",
    );
    assert_fails_cleanly(
        &example,
        &[
            flag("--ref"),
            &reference,
            flag("--est"),
            &estimate,
            flag("--train"),
            &train,
            flag("--train-split"),
            flag("tset"),
        ],
        "unknown split",
    );
}

/// The model mode: the bundled model on the bundled example, whose training split is the
/// example itself, so every combination is shared and the exact share is the model's.
#[test]
fn model_mode_runs_the_model_on_a_manifest_split() {
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let entry = |split| ManifestEntry {
        file: "maple_leaf_rag_timgm6mb.wav".into(),
        split,
        synthesizer: "TimGM6mb:000:000".into(),
        labels_csv: "maple_leaf_rag_timgm6mb.csv".into(),
        labels_midi: String::new(),
        duration: 30.0,
        sample_rate: 44_100,
        source: None,
        instruments: vec![],
        families: vec![],
        stems: vec![],
    };
    let manifest = dir.path().join("set.jsonl");
    // The manifest names files beside it: copy the example in.
    for name in ["maple_leaf_rag_timgm6mb.wav", "maple_leaf_rag_timgm6mb.csv"] {
        std::fs::copy(examples.join(name), dir.path().join(name)).unwrap();
    }
    write_manifest(&manifest, &[entry(Split::Train), entry(Split::Test)]).unwrap();
    let out = dir.path().join("out");
    let output = Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(["analyze", "entanglement", "--eval"])
        .arg(&manifest)
        .arg("--train")
        .arg(&manifest)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["frames"], 3000);
    assert_eq!(summary["unshared"]["frames"], 0);
    let exact = summary["shared"]["exact"].as_f64().unwrap();
    assert!(exact > 0.3 && exact < 1.0, "exact share {exact}");
}
