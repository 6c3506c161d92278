//! `polyphon train instruments`, `eval instruments` and `classify` run as a user runs them, on
//! tiny synthetic "families" (different spectra and envelopes) that a few trees separate.

use std::f32::consts::TAU;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polyphon::audio::{write_wav, WavFormat};
use polyphon::notes::manifest::{write_manifest, ManifestEntry, Split};

const RATE: u32 = 16_000;
const FAMILIES: [&str; 6] = ["bass", "flute", "guitar", "keyboard", "organ", "vocal"];

fn polyphon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(args)
        .output()
        .expect("polyphon runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The JSON a successful command printed (its stderr shown when it failed).
fn success_json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", text(&output.stderr));
    serde_json::from_slice(&output.stdout).unwrap()
}

/// `polyphon eval instruments --model RUN --data MANIFEST` and `extra`.
fn eval(run: &str, data: &str, extra: &[&str]) -> Output {
    let mut args = vec!["eval", "instruments", "--model", run, "--data", data];
    args.extend(extra);
    polyphon(&args)
}

/// One second of a family's sound at a pitch offset `variant` (0..): each family has its own
/// register, harmonics and envelope.
fn tone(family: usize, variant: usize) -> Vec<f32> {
    let base = [55.0, 1760.0, 220.0, 660.0, 110.0, 440.0][family] * (1.0 + 0.02 * variant as f32);
    let harmonics: &[f32] = match family {
        0 => &[1.0, 0.5],
        1 => &[1.0, 0.1],
        2 => &[1.0, 0.7, 0.5, 0.4, 0.3],
        3 => &[1.0, 0.0, 0.3, 0.0, 0.1],
        4 => &[1.0, 1.0, 1.0, 1.0],
        _ => &[1.0, 0.3, 0.6, 0.2],
    };
    (0..RATE as usize)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let envelope = match family {
                2 | 3 => (-4.0 * t).exp(),
                5 => 0.6 + 0.4 * (TAU * 5.0 * t).sin(),
                _ => 1.0,
            };
            let sum: f32 = harmonics
                .iter()
                .enumerate()
                .map(|(h, a)| a * (TAU * base * (h + 1) as f32 * t).sin())
                .sum();
            0.1 * envelope * sum
        })
        .collect()
}

fn entry(file: &str, split: Split, families: &[usize]) -> ManifestEntry {
    ManifestEntry {
        file: file.into(),
        split,
        synthesizer: "test:000:000".into(),
        labels_csv: String::new(),
        labels_midi: String::new(),
        duration: 1.0,
        sample_rate: RATE,
        source: None,
        instruments: Vec::new(),
        families: families.iter().map(|&f| FAMILIES[f].to_string()).collect(),
        stems: Vec::new(),
    }
}

fn split_of(variant: usize) -> Split {
    match variant % 4 {
        0 => Split::Valid,
        1 => Split::Test,
        _ => Split::Train,
    }
}

/// Notes of all six families, 12 variants each (6 train, 3 valid, 3 test).
fn notes_set(dir: &Path) -> PathBuf {
    let mut entries = Vec::new();
    for (family, name) in FAMILIES.iter().enumerate() {
        for variant in 0..12 {
            let file = format!("{name}-{variant}.wav");
            write_wav(
                dir.join(&file),
                &tone(family, variant),
                RATE,
                1,
                WavFormat::Int16,
            )
            .unwrap();
            entries.push(entry(&file, split_of(variant), &[family]));
        }
    }
    let manifest = dir.join("notes.jsonl");
    write_manifest(&manifest, &entries).unwrap();
    manifest
}

/// Mixtures of one to three families, plus a `pair-*` entry the multi-label task skips.
fn mixtures_set(dir: &Path) -> PathBuf {
    let mut entries = Vec::new();
    for index in 0..48 {
        let families: Vec<usize> = (0..1 + index % 3).map(|j| (index + 2 * j) % 6).collect();
        let mut mix = vec![0f32; RATE as usize];
        for &family in &families {
            for (m, s) in mix.iter_mut().zip(tone(family, index % 5)) {
                *m += s;
            }
        }
        let file = format!("mix-{index:05}.wav");
        write_wav(dir.join(&file), &mix, RATE, 1, WavFormat::Int16).unwrap();
        entries.push(entry(&file, split_of(index / 6), &families));
    }
    entries.push(entry("pair-00000/missing.wav", Split::Train, &[0, 1]));
    let manifest = dir.join("mixtures.jsonl");
    write_manifest(&manifest, &entries).unwrap();
    manifest
}

fn train(task: &str, manifest: &Path, run: &Path) -> Output {
    polyphon(&[
        "train",
        "instruments",
        "--model",
        "gbdt",
        "--task",
        task,
        "--data",
        manifest.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--max-trees",
        "40",
    ])
}

#[test]
fn single_label_trains_evaluates_and_classifies() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = notes_set(dir.path());
    let run = dir.path().join("run");
    let output = train("single", &manifest, &run);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for file in ["model.json", "config.json", "log.txt", "valid_loss.png"] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    assert!(text(&output.stdout).contains("features: 24 train + 12 valid files"));

    let (run_arg, data_arg) = (run.to_str().unwrap(), manifest.to_str().unwrap());
    let scored = eval(run_arg, data_arg, &["--json"]);
    let scores = success_json(&scored);
    assert_eq!(scores["task"], "single");
    assert_eq!(scores["files"], 12);
    assert!(scores["accuracy"].as_f64().unwrap() >= 0.9, "{scores}");
    // Every note comes from the one preset "test:000:000": its group's score is the accuracy.
    let fonts = scores["by_soundfont"].as_array().unwrap();
    assert_eq!(fonts.len(), 1, "{scores}");
    assert_eq!(
        (&fonts[0]["group"], &fonts[0]["files"]),
        (&"test".into(), &12.into())
    );
    assert_eq!(fonts[0]["score"], scores["accuracy"]);
    assert_eq!(scores["by_preset"][0]["group"], "test:000:000");
    let groups = std::fs::read_to_string(run.join("groups-test.csv")).unwrap();
    assert!(
        groups.starts_with("level,group,files,score\nsoundfont,test,12,"),
        "{groups}"
    );
    let predictions = std::fs::read_to_string(run.join("predictions-test.csv")).unwrap();
    let lines: Vec<&str> = predictions.lines().collect();
    assert_eq!(lines.len(), 13, "{predictions}");
    assert_eq!(
        lines[0],
        "file,synthesizer,source,truth,predicted,p_bass,p_flute,p_guitar,p_keyboard"
    );
    let right = lines[1..]
        .iter()
        .filter(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            fields[3] == fields[4]
        })
        .count();
    let accuracy = scores["accuracy"].as_f64().unwrap();
    assert_eq!(right as f64 / 12.0, accuracy);
    let csv = std::fs::read_to_string(run.join("confusion-test.csv")).unwrap();
    assert_eq!(
        csv.lines().next(),
        Some("true\\predicted,bass,flute,guitar,keyboard")
    );
    assert!(run.join("confusion-test.png").is_file());
    let fit = eval(run_arg, data_arg, &["--fit-thresholds"]);
    assert_eq!(fit.status.code(), Some(2), "{}", text(&fit.stderr));
    assert!(text(&fit.stderr).contains("multi-label"));
    assert!(!run.join("thresholds.json").exists());

    let flute = dir.path().join("flute-1.wav");
    let classify = polyphon(&[
        "classify",
        flute.to_str().unwrap(),
        "--model",
        run_arg,
        "--json",
    ]);
    let line = success_json(&classify);
    let labels = line["labels"].as_object().unwrap();
    assert_eq!(labels.len(), 4);
    assert!(labels["flute"].as_f64().unwrap() > 0.5, "{line}");
    let plain = polyphon(&["classify", flute.to_str().unwrap(), "--model", run_arg]);
    assert!(
        text(&plain.stdout).contains("flute-1.wav: flute"),
        "{}",
        text(&plain.stdout)
    );
}

#[test]
fn trees_on_the_log_band_scale_are_saved_with_it_and_classify_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = notes_set(dir.path());
    let run = dir.path().join("run");
    let (run_arg, data_arg) = (run.to_str().unwrap(), manifest.to_str().unwrap());
    let output = polyphon(&[
        "train",
        "instruments",
        "--task",
        "single",
        "--data",
        data_arg,
        "--out",
        run_arg,
        "--max-trees",
        "40",
        "--bands",
        "log",
    ]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("config.json")).unwrap()).unwrap();
    let pooling = &config["pooling"];
    assert_eq!(
        (&pooling["bands"], &pooling["scale"]["kind"]),
        (&146.into(), &"log".into()),
        "{config}"
    );
    let scores = success_json(&eval(run_arg, data_arg, &["--json"]));
    // Far above chance (0.25) on the toy tones; the features are what this test is about.
    assert!(scores["accuracy"].as_f64().unwrap() >= 0.75, "{scores}");
    let flute = dir.path().join("flute-1.wav");
    let line = success_json(&polyphon(&[
        "classify",
        flute.to_str().unwrap(),
        "--model",
        run_arg,
        "--json",
    ]));
    assert!(line["labels"]["flute"].as_f64().unwrap() > 0.5, "{line}");
}

#[test]
fn multi_label_trains_and_reports_every_family() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = mixtures_set(dir.path());
    let run = dir.path().join("run");
    let output = train("multi", &manifest, &run);
    assert!(output.status.success(), "{}", text(&output.stderr));

    let (run_arg, data_arg) = (run.to_str().unwrap(), manifest.to_str().unwrap());
    let scored = eval(run_arg, data_arg, &["--json"]);
    let scores = success_json(&scored);
    assert_eq!(scores["task"], "multi");
    assert_eq!(scores["per_class"].as_array().unwrap().len(), 6);
    for field in ["exact_match", "hamming_accuracy", "mean_average_precision"] {
        let value = scores[field].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&value), "{field} {value}");
    }
    assert!(
        scores["hamming_accuracy"].as_f64().unwrap() > 0.8,
        "{scores}"
    );

    // Each mixture holds 1 to 3 distinct families.
    let by_families: Vec<&str> = scores["by_families"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert_eq!(by_families, ["1", "2", "3"], "{scores}");

    let table = eval(run_arg, data_arg, &[]);
    for heading in [
        "Hamming accuracy",
        "by number of notes",
        "by number of families",
    ] {
        assert!(
            text(&table.stdout).contains(heading),
            "{heading}: {}",
            text(&table.stdout)
        );
    }
    let mix = dir.path().join("mix-00000.wav");
    let classify = polyphon(&[
        "classify",
        mix.to_str().unwrap(),
        "--model",
        run_arg,
        "--json",
    ]);
    let line = success_json(&classify);
    assert_eq!(line["labels"].as_object().unwrap().len(), 6);

    // Thresholds fitted on valid are written beside the model and used by later runs.
    assert_eq!(scores["thresholds"], serde_json::json!(vec![0.5; 6]));
    let fit = eval(
        run_arg,
        data_arg,
        &["--split", "valid", "--fit-thresholds", "--json"],
    );
    assert!(fit.status.success(), "{}", text(&fit.stderr));
    let fitted: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("thresholds.json")).unwrap())
            .unwrap();
    assert_eq!(fitted["classes"].as_array().unwrap().len(), 6);
    assert!(fitted["fitted_on"]
        .as_str()
        .unwrap()
        .contains("valid split"));
    let fit_scores = success_json(&fit);
    assert_eq!(fit_scores["thresholds"], fitted["thresholds"]);
    let later = success_json(&eval(run_arg, data_arg, &["--json"]));
    assert_eq!(later["thresholds"], fitted["thresholds"]);
    let overridden = success_json(&eval(run_arg, data_arg, &["--threshold", "0.4", "--json"]));
    assert_eq!(overridden["thresholds"], serde_json::json!(vec![0.4; 6]));
    let both = eval(
        run_arg,
        data_arg,
        &["--threshold", "0.4", "--fit-thresholds"],
    );
    assert!(!both.status.success());
}

#[test]
fn bad_input_is_one_line_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = notes_set(dir.path());
    let run = dir.path().join("run");
    assert!(train("single", &manifest, &run).status.success());
    let run_arg = run.to_str().unwrap();

    // Each file answers for itself: the good one is classified, the others say why not.
    let fake = dir.path().join("notes.wav");
    std::fs::write(&fake, "not audio").unwrap();
    let short = dir.path().join("one-sample.wav");
    write_wav(&short, &[0.5], RATE, 1, WavFormat::Int16).unwrap();
    let good = dir.path().join("bass-2.wav");
    for model in [run_arg, "frame-mlp-instruments-multi"] {
        let classify = polyphon(&[
            "classify",
            fake.to_str().unwrap(),
            good.to_str().unwrap(),
            short.to_str().unwrap(),
            "--model",
            model,
        ]);
        assert_eq!(classify.status.code(), Some(2));
        let stdout = text(&classify.stdout);
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        assert!(stdout.starts_with(good.to_str().unwrap()), "{stdout}");
        let stderr = text(&classify.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 3, "{stderr}");
        assert!(lines[0].starts_with("error: ") && lines[0].contains("notes.wav"));
        assert!(lines[1].contains("one-sample.wav: too short to classify: 0.000 s"));
        assert_eq!(lines[2], "error: 2 of 3 inputs failed");
    }

    let no_model = polyphon(&["classify", good.to_str().unwrap(), "--model", "nowhere"]);
    assert_eq!(no_model.status.code(), Some(2));
    assert!(text(&no_model.stderr).contains("nowhere"));

    // A manifest without a valid split: training fails and leaves no run folder.
    let only_train = dir.path().join("only-train.jsonl");
    let lines: Vec<String> = std::fs::read_to_string(&manifest)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"train\""))
        .map(String::from)
        .collect();
    std::fs::write(&only_train, lines.join("\n")).unwrap();
    let failed_run = dir.path().join("failed");
    let output = train("single", &only_train, &failed_run);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("no files in split 'valid'"),
        "{}",
        text(&output.stderr)
    );
    assert!(!failed_run.exists());

    // A missing manifest is an error naming it.
    let missing = eval(run_arg, "missing.jsonl", &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(text(&missing.stderr).contains("missing.jsonl"));
}

#[test]
fn every_command_has_an_example() {
    for args in [
        &["train", "instruments", "--help"][..],
        &["eval", "instruments", "--help"],
        &["classify", "--help"],
    ] {
        let output = polyphon(args);
        assert!(output.status.success());
        assert!(text(&output.stdout).contains("Examples:"), "{args:?}");
    }
}

fn train_net(model: &str, task: &str, manifest: &Path, run: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train",
        "instruments",
        "--model",
        model,
        "--task",
        task,
        "--data",
        manifest.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--batch-size",
        "8",
        "--lr",
        "0.003",
    ];
    args.extend_from_slice(extra);
    polyphon(&args)
}

#[test]
fn a_network_trains_resumes_evaluates_and_classifies_over_time() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = notes_set(dir.path());
    let run = dir.path().join("mlp");
    let output = train_net("mlp", "single", &manifest, &run, &["--epochs", "2"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("valid accuracy"));
    for file in [
        "model.json",
        "model.bpk",
        "log.csv",
        "loss.png",
        "checkpoint.bpk",
    ] {
        assert!(run.join(file).is_file(), "{file} missing");
    }
    // An existing run is kept unless resumed; resuming continues to the new epoch limit.
    let again = train_net("mlp", "single", &manifest, &run, &["--epochs", "2"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("--resume"),
        "{}",
        text(&again.stderr)
    );
    let resumed = train_net(
        "mlp",
        "single",
        &manifest,
        &run,
        &["--epochs", "8", "--resume"],
    );
    assert!(resumed.status.success(), "{}", text(&resumed.stderr));
    let log = std::fs::read_to_string(run.join("log.csv")).unwrap();
    assert_eq!(log.lines().count(), 1 + 8, "{log}");

    let (run_arg, data_arg) = (run.to_str().unwrap(), manifest.to_str().unwrap());
    let scored = eval(run_arg, data_arg, &["--json"]);
    let scores = success_json(&scored);
    assert_eq!(
        (scores["task"].as_str(), scores["files"].as_u64()),
        (Some("single"), Some(12))
    );
    assert!(scores["accuracy"].as_f64().unwrap() >= 0.5, "{scores}");

    // Three seconds of flute, bass, flute: one label per one-second segment, and a timeline.
    let long: Vec<f32> = [1, 0, 1].iter().flat_map(|&f| tone(f, 2)).collect();
    let song = dir.path().join("song.wav");
    write_wav(&song, &long, RATE, 1, WavFormat::Int16).unwrap();
    let png = dir.path().join("timeline.png");
    let args = ["classify", song.to_str().unwrap(), "--model", run_arg];
    let segments = polyphon(
        &[
            &args[..],
            &[
                "--segment",
                "1s",
                "--timeline",
                png.to_str().unwrap(),
                "--json",
            ],
        ]
        .concat(),
    );
    let line = success_json(&segments);
    let list = line["segments"].as_array().unwrap();
    assert_eq!(list.len(), 3, "{line}");
    assert_eq!(list[2]["end"].as_f64(), Some(3.0));
    assert_eq!(list[0]["labels"].as_object().unwrap().len(), 4);
    assert!(png.is_file());
    let plain = polyphon(&[&args[..], &["--segment", "1.5s"]].concat());
    assert!(
        text(&plain.stdout).contains("1.50 -    3.00 s"),
        "{}",
        text(&plain.stdout)
    );
}

#[test]
fn an_ensemble_trains_its_members_and_is_scored_as_one_model() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = notes_set(dir.path());
    let run = dir.path().join("ensemble");
    let extra = ["--epochs", "2", "--ensemble", "2", "--eq-augment", "6"];
    let output = train_net("mlp", "single", &manifest, &run, &extra);
    assert!(output.status.success(), "{}", text(&output.stderr));
    for member in ["member-0", "member-1"] {
        assert!(run.join(member).join("model.bpk").is_file(), "{member}");
    }
    let sidecar: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("model.json")).unwrap()).unwrap();
    assert_eq!(sidecar["format"], "polyphon-instrument-ensemble");
    assert_eq!(sidecar["members"].as_array().unwrap().len(), 2);
    let (run_arg, data_arg) = (run.to_str().unwrap(), manifest.to_str().unwrap());
    let scores = success_json(&eval(run_arg, data_arg, &["--json"]));
    assert_eq!(scores["files"].as_u64(), Some(12), "{scores}");
    let note = dir.path().join("bass-2.wav");
    let line = success_json(&polyphon(&[
        "classify",
        note.to_str().unwrap(),
        "--model",
        run_arg,
        "--json",
    ]));
    let labels = line["labels"].as_object().unwrap();
    let total: f64 = labels.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((total - 1.0).abs() < 1e-3, "{line}");

    // Training again needs --resume; a single network may not go into the ensemble's folder.
    let again = train_net("mlp", "single", &manifest, &run, &extra);
    assert_eq!(again.status.code(), Some(2));
    let single = train_net(
        "mlp",
        "single",
        &manifest,
        &run,
        &["--epochs", "1", "--resume"],
    );
    assert_eq!(single.status.code(), Some(2));
    assert!(
        text(&single.stderr).contains("ensemble"),
        "{}",
        text(&single.stderr)
    );
    let none = train_net(
        "mlp",
        "single",
        &manifest,
        &dir.path().join("e0"),
        &["--ensemble", "0"],
    );
    assert_eq!(none.status.code(), Some(2));

    // A cut-short sidecar is named as such, not taken for a broken GBDT model.
    let sidecar = run.join("model.json");
    let whole = std::fs::read_to_string(&sidecar).unwrap();
    std::fs::write(&sidecar, &whole[..whole.len() / 2]).unwrap();
    let cut = polyphon(&["classify", note.to_str().unwrap(), "--model", run_arg]);
    assert_eq!(cut.status.code(), Some(2));
    let message = text(&cut.stderr);
    assert!(
        message.contains("cut short") && !message.contains("GBDT"),
        "{message}"
    );
}

#[test]
fn the_log_band_networks_train_and_score_mixtures() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = mixtures_set(dir.path());
    let models = [
        "frame-mlp",
        "frame-mlp-segments",
        "frame-conv-segments",
        "band-conv",
        "mlp-norm",
        "mlp-onset",
    ];
    for model in models {
        let run = dir.path().join(model);
        let extra = ["--epochs", "2", "--bands", "log"];
        let output = train_net(model, "multi", &manifest, &run, &extra);
        assert!(output.status.success(), "{}", text(&output.stderr));
        let sidecar = std::fs::read_to_string(run.join("model.json")).unwrap();
        let description: serde_json::Value = serde_json::from_str(&sidecar).unwrap();
        assert_eq!(description["spec"]["architecture"], model, "{sidecar}");
        // The log scale's 146 bands are the network's input and are saved with it.
        let frontend = &description["frontend"];
        assert_eq!(
            (
                &frontend["bands"],
                &frontend["scale"]["kind"],
                &frontend["n_fft"]
            ),
            (&146.into(), &"log".into(), &2048.into()),
            "{sidecar}"
        );
        let scores = success_json(&eval(
            run.to_str().unwrap(),
            manifest.to_str().unwrap(),
            &["--json"],
        ));
        assert_eq!(scores["task"], "multi", "{scores}");
    }
}

#[test]
fn mixed_examples_draw_families_or_instruments_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = mixtures_set(dir.path());
    let notes = notes_set(dir.path());
    let mix = |run: &Path, draw: &str| {
        let extra = [
            "--epochs",
            "1",
            "--mix-notes",
            notes.to_str().unwrap(),
            "--mixed-per-epoch",
            "64",
            "--mix-draw",
            draw,
        ];
        train_net("mlp", "multi", &manifest, run, &extra)
    };
    let run = dir.path().join("instruments");
    let output = mix(&run, "instruments");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(config.contains("\"mix_draw\": \"instruments\""), "{config}");
    let unknown = mix(&dir.path().join("unknown"), "voices");
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("voices"),
        "{}",
        text(&unknown.stderr)
    );
}

#[test]
fn network_options_are_checked_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = notes_set(dir.path());
    let run = dir.path().join("run");
    // An unknown network is refused with the list of names, the trees' and the networks'.
    let unknown = train_net("vgg", "single", &manifest, &run, &[]);
    assert_eq!(unknown.status.code(), Some(2));
    let message = text(&unknown.stderr);
    assert!(
        ["gbdt", "mlp-norm", "band-conv", "resnet18"]
            .iter()
            .all(|name| message.contains(name)),
        "{message}"
    );
    let wrong_loss = train_net("cnn", "multi", &manifest, &run, &["--loss", "ce"]);
    assert_eq!(wrong_loss.status.code(), Some(2));
    assert!(
        text(&wrong_loss.stderr).contains("loss ce"),
        "{}",
        text(&wrong_loss.stderr)
    );
    let mixed_single = train_net(
        "mlp",
        "single",
        &manifest,
        &run,
        &["--mix-notes", manifest.to_str().unwrap()],
    );
    assert_eq!(mixed_single.status.code(), Some(2));
    let negative_eq = train_net("mlp", "single", &manifest, &run, &["--eq-augment=-3"]);
    assert_eq!(negative_eq.status.code(), Some(2));
    assert!(
        text(&negative_eq.stderr).contains("-3 dB"),
        "{}",
        text(&negative_eq.stderr)
    );
    // Checked before the data loads: the manifest named here does not exist.
    let missing = dir.path().join("missing.jsonl");
    let far_shift = train_net("mlp", "single", &missing, &run, &["--shift-augment", "500"]);
    assert_eq!(far_shift.status.code(), Some(2));
    assert!(
        text(&far_shift.stderr).contains("a shift of up to 500 bands"),
        "{}",
        text(&far_shift.stderr)
    );
    assert!(!run.join("model.json").exists());

    let note = dir.path().join("bass-2.wav");
    let short = polyphon(&["classify", note.to_str().unwrap(), "--segment", "0.1s"]);
    assert_eq!(short.status.code(), Some(2));
    assert!(text(&short.stderr).contains("0.1s"));
    let two = polyphon(&[
        "classify",
        note.to_str().unwrap(),
        note.to_str().unwrap(),
        "--segment",
        "1s",
        "--timeline",
        "t.png",
    ]);
    assert_eq!(two.status.code(), Some(2));
    assert!(
        text(&two.stderr).contains("one input"),
        "{}",
        text(&two.stderr)
    );
}

#[test]
fn the_bundled_single_label_trees_name_the_examples_instruments() {
    for (file, family) in EXAMPLE_FAMILIES {
        let output = polyphon(&[
            "classify",
            &example(file),
            "--model",
            "gbdt-instruments-single",
            "--json",
        ]);
        let line = success_json(&output);
        let labels = line["labels"].as_object().unwrap();
        let families: Vec<&str> = labels.keys().map(String::as_str).collect();
        assert_eq!(families, ["bass", "flute", "guitar", "keyboard"]);
        assert!(labels[family].as_f64().unwrap() > 0.9, "{file}: {line}");
    }
}

/// The single-instrument examples and their families.
const EXAMPLE_FAMILIES: [(&str, &str); 3] = [
    ("piano_chord.wav", "keyboard"),
    ("bass_flute_stems/bass.wav", "bass"),
    ("bass_flute_stems/flute.wav", "flute"),
];

fn example(file: &str) -> String {
    format!("{}/examples/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// The families `classify` lists for one file in its plain output.
fn listed_families(model: Option<&str>, file: &str) -> Vec<String> {
    let path = example(file);
    let mut args = vec!["classify", path.as_str()];
    args.extend(model.map(|m| ["--model", m]).into_iter().flatten());
    let output = polyphon(&args);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    let listed = stdout.trim().rsplit(": ").next().unwrap();
    listed
        .split(", ")
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect()
}

#[test]
fn the_bundled_single_label_networks_name_the_examples_instruments() {
    for (file, family) in EXAMPLE_FAMILIES {
        let named = listed_families(Some("frame-mlp-instruments-single"), file);
        assert_eq!(named, [family], "{file}");
    }
}

#[cfg(unix)]
#[test]
fn output_into_a_closed_pipe_ends_quietly_instead_of_panicking() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let piano = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/piano_chord.wav");
    let mut child = Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(["classify", piano, "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Nobody reads: the first line written meets a closed pipe (as with `| head -0`).
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    assert!(
        !text(&output.stderr).contains("panicked"),
        "{}",
        text(&output.stderr)
    );
    assert_eq!(output.status.signal(), Some(libc::SIGPIPE));
}

#[test]
fn the_bundled_multi_label_model_lists_the_examples_families_and_no_others() {
    assert_eq!(listed_families(None, "piano_chord.wav"), ["keyboard"]);
    assert_eq!(
        listed_families(None, "bass_flute_mix.wav"),
        ["bass", "flute"]
    );
    for (file, family) in &EXAMPLE_FAMILIES[1..] {
        assert_eq!(listed_families(None, file), [*family], "{file}");
    }
}
