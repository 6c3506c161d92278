//! `polyphon eval separation --data` run as a user runs it, on a tiny manifest of two
//! synthetic bass + flute pairs laid out as `polyphon synth mixtures` lays them out: the
//! baselines' table, JSON and per-file CSV, and bad data sets refused in one line.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const RATE: u32 = 16_000;
const SAMPLES: usize = 2 * RATE as usize;

fn polyphon(args: &[&str], manifest: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(["eval", "separation", "--data"])
        .arg(manifest)
        .args(args)
        .output()
        .expect("polyphon runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn write_wav(path: &Path, samples: &[f32]) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for &x in samples {
        writer.write_sample((x * 32767.0).round() as i16).unwrap();
    }
    writer.finalize().unwrap();
}

/// A low tone and a high tone with a little vibrato, `samples` long.
fn tone(freq: f32, amplitude: f32, samples: usize) -> Vec<f32> {
    let mut phase = 0.0f32;
    (0..samples)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            phase +=
                2.0 * std::f32::consts::PI * freq * (1.0 + 0.01 * (5.0 * t).sin()) / RATE as f32;
            amplitude * phase.sin()
        })
        .collect()
}

fn entry(folder: &str, stems: &[&str]) -> String {
    let stems: Vec<String> = stems.iter().map(|s| format!("\"{folder}/{s}\"")).collect();
    format!(
        "{{\"file\":\"{folder}/mix.wav\",\"split\":\"test\",\"synthesizer\":\"x\",\
         \"labels_csv\":\"{folder}/mix.csv\",\"labels_midi\":\"{folder}/mix.mid\",\
         \"duration\":2.0,\"sample_rate\":16000,\"families\":[\"bass\",\"flute\"],\
         \"stems\":[{}]}}",
        stems.join(",")
    )
}

/// Two pairs and one ordinary mixture (which the pair mode skips) under `root`.
fn make_data_set(root: &Path) -> std::path::PathBuf {
    let mut lines = Vec::new();
    for (index, (low, high)) in [(55.0, 880.0), (82.0, 1318.0)].into_iter().enumerate() {
        let folder = format!("mixtures/test/pair-{index:05}");
        std::fs::create_dir_all(root.join(&folder)).unwrap();
        let bass = tone(low, 0.4, SAMPLES);
        let flute = tone(high, 0.3, SAMPLES);
        let mix: Vec<f32> = bass.iter().zip(&flute).map(|(a, b)| a + b).collect();
        let names = [
            "stem-0-bass_electronic_001.wav",
            "stem-1-flute_acoustic_002.wav",
        ];
        write_wav(&root.join(&folder).join(names[0]), &bass);
        write_wav(&root.join(&folder).join(names[1]), &flute);
        write_wav(&root.join(&folder).join("mix.wav"), &mix);
        lines.push(entry(&folder, &names));
    }
    lines.push(entry(
        "mixtures/test/mix-00000",
        &["stem-0-organ_electronic_001.wav"],
    ));
    let manifest = root.join("mixtures.jsonl");
    std::fs::write(&manifest, lines.join("\n") + "\n").unwrap();
    manifest
}

#[test]
fn baselines_are_scored_per_system_and_source() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = make_data_set(tmp.path());
    let csv = tmp.path().join("per-file.csv");
    let output = polyphon(
        &[
            "--split",
            "test",
            "--json",
            "--per-file",
            csv.to_str().unwrap(),
        ],
        &manifest,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let json: Value = serde_json::from_str(text(&output.stdout).trim()).unwrap();
    assert_eq!(json["files"], 2);
    for source in ["bass", "flute"] {
        let input = &json["systems"]["mixture"][source];
        let irm = &json["systems"]["irm"][source];
        assert_eq!(input["sdr_improvement"].as_f64(), Some(0.0));
        let (input_sdr, irm_sdr) = (input["sdr"].as_f64().unwrap(), irm["sdr"].as_f64().unwrap());
        assert!(
            irm_sdr > 25.0 && irm_sdr > input_sdr + 10.0,
            "{source}: {json}"
        );
        let gain = irm["sdr_improvement"].as_f64().unwrap();
        assert!(gain > 10.0, "{source}: {json}");
        for metric in ["sir", "sar", "isr", "si_sdr"] {
            assert!(irm[metric].is_number(), "{source} {metric}: {json}");
        }
    }
    let rows = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = rows.lines().collect();
    assert_eq!(lines.len(), 1 + 2 * 2 * 2, "{rows}");
    assert!(lines[0].starts_with("file,system,source,sdr"));
    assert!(lines[1].starts_with("mixtures/test/pair-00000/mix.wav,mixture,bass,"));

    // The text table: one row per system and source, --files picks a subset.
    let output = polyphon(&["--files", "1"], &manifest);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let table = text(&output.stdout);
    assert!(
        table.contains("median over 1 pairs") && table.contains("dSDR"),
        "{table}"
    );
    let rows: Vec<(&str, &str)> = table
        .lines()
        .skip(2)
        .map(|line| {
            let mut words = line.split_whitespace();
            (words.next().unwrap(), words.next().unwrap())
        })
        .collect();
    let expected = [
        ("mixture", "bass"),
        ("mixture", "flute"),
        ("irm", "bass"),
        ("irm", "flute"),
    ];
    assert_eq!(rows, expected, "{table}");

    // The bundled model with and without Wiener refinement, as two more systems.
    let output = polyphon(
        &[
            "--files",
            "1",
            "--json",
            "--model",
            "unet-bass-flute",
            "--wiener",
            "1",
        ],
        &manifest,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let json: Value = serde_json::from_str(text(&output.stdout).trim()).unwrap();
    for system in ["unet-bass-flute", "unet-bass-flute+wiener1"] {
        let sdr = json["systems"][system]["bass"]["sdr"].as_f64();
        assert!(sdr.is_some_and(f64::is_finite), "{system}: {json}");
    }
}

/// Runs on a broken data set and returns the one-line error, checking the exit status.
fn refused(manifest: &Path) -> String {
    let output = polyphon(&["--json"], manifest);
    assert!(
        !output.status.success(),
        "accepted: {}",
        text(&output.stdout)
    );
    assert!(output.stdout.is_empty());
    let err = text(&output.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && !err.contains("panicked"),
        "{err}"
    );
    err
}

#[test]
fn bad_data_sets_are_refused_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let manifest = make_data_set(tmp.path());
    let pair = tmp.path().join("mixtures/test/pair-00001");

    // a manifest that is not there
    let err = refused(&tmp.path().join("nowhere.jsonl"));
    assert!(err.contains("nowhere.jsonl"), "{err}");

    // a split without pairs
    let no_pairs = tmp.path().join("no-pairs.jsonl");
    std::fs::write(
        &no_pairs,
        entry("mixtures/test/mix-00000", &["stem-0-organ_x.wav"]),
    )
    .unwrap();
    let err = refused(&no_pairs);
    assert!(err.contains("no pairs in split 'test'"), "{err}");

    // a stem of another length
    write_wav(
        &pair.join("stem-1-flute_acoustic_002.wav"),
        &tone(1318.0, 0.3, SAMPLES - 100),
    );
    let err = refused(&manifest);
    assert!(
        err.contains("stem-1-flute") && err.contains("31900"),
        "{err}"
    );

    // a missing stem
    std::fs::remove_file(pair.join("stem-1-flute_acoustic_002.wav")).unwrap();
    let err = refused(&manifest);
    assert!(err.contains("stem-1-flute_acoustic_002.wav"), "{err}");
}
