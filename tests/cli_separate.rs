//! `polyphon separate` with the bundled bass + flute model, run as a user runs it.

use std::path::Path;
use std::process::{Command, Output};

fn separate(input: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .arg("separate")
        .arg(input)
        .arg("-o")
        .arg(out)
        .output()
        .expect("polyphon runs")
}

/// A bass-like 82 Hz tone and a flute-like 880 Hz tone, per channel with its own gains.
fn tones(rate: u32, seconds: f32, gains: &[(f32, f32)]) -> Vec<Vec<f32>> {
    let n = (rate as f32 * seconds) as usize;
    gains
        .iter()
        .map(|&(low, high)| {
            (0..n)
                .map(|i| {
                    let t = i as f32 / rate as f32;
                    let tau = 2.0 * std::f32::consts::PI;
                    low * (tau * 82.0 * t).sin() + high * (tau * 880.0 * t).sin()
                })
                .collect()
        })
        .collect()
}

fn write(path: &Path, rate: u32, channels: &[Vec<f32>]) {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for n in 0..channels[0].len() {
        for channel in channels {
            writer.write_sample(channel[n]).unwrap();
        }
    }
    writer.finalize().unwrap();
}

fn read(path: &Path) -> (hound::WavSpec, Vec<f32>) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let samples = reader.samples::<f32>().map(Result::unwrap).collect();
    (reader.spec(), samples)
}

#[test]
fn stems_keep_rate_channels_and_length_and_sum_back_to_a_16k_mixture() {
    let dir = tempfile::tempdir().unwrap();
    // 65 s: three 30 s segments with two cross-fades.
    let mix = tones(16_000, 65.0, &[(0.3, 0.2)]);
    let input = dir.path().join("long.wav");
    write(&input, 16_000, &mix);
    let out = dir.path().join("stems");
    let output = separate(&input, &out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (spec, bass) = read(&out.join("long_bass.wav"));
    let (_, flute) = read(&out.join("long_flute.wav"));
    assert_eq!((spec.sample_rate, spec.channels), (16_000, 1));
    assert_eq!(bass.len(), mix[0].len());
    let worst = (0..bass.len())
        .map(|n| (bass[n] + flute[n] - mix[0][n]).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-4, "stems differ from the mixture by {worst}");
}

#[test]
fn stereo_44k_input_gives_stereo_44k_stems_with_the_low_tone_in_the_bass() {
    let dir = tempfile::tempdir().unwrap();
    let mix = tones(44_100, 3.0, &[(0.4, 0.1), (0.2, 0.3)]);
    let input = dir.path().join("duo.wav");
    write(&input, 44_100, &mix);
    let out = dir.path().join("stems");
    let output = separate(&input, &out);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (spec, bass) = read(&out.join("duo_bass.wav"));
    let (_, flute) = read(&out.join("duo_flute.wav"));
    assert_eq!((spec.sample_rate, spec.channels), (44_100, 2));
    assert_eq!(bass.len(), 2 * mix[0].len());
    // Correlation with the 82 Hz tone: larger in the bass stem than in the flute stem.
    let low = |stem: &[f32]| -> f32 {
        stem.chunks(2)
            .enumerate()
            .map(|(n, frame)| {
                let t = n as f32 / 44_100.0;
                frame[0] * (2.0 * std::f32::consts::PI * 82.0 * t).sin()
            })
            .sum::<f32>()
            .abs()
    };
    assert!(
        low(&bass) > 2.0 * low(&flute),
        "{} vs {}",
        low(&bass),
        low(&flute)
    );
}

#[test]
fn unreadable_input_is_one_line_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("notes.wav");
    std::fs::write(&input, "not audio").unwrap();
    let out = dir.path().join("stems");
    let output = separate(&input, &out);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(!out.exists());
}

#[test]
fn a_file_cut_short_fails_after_streaming_and_leaves_no_stems() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cut.wav");
    write(&input, 16_000, &tones(16_000, 40.0, &[(0.3, 0.2)]));
    // The header still announces 40 s: the decoder notices only at the end, after a first
    // 30 s segment has been separated and written to the temporary files.
    let bytes = std::fs::read(&input).unwrap();
    std::fs::write(&input, &bytes[..bytes.len() * 7 / 8]).unwrap();
    let existing = dir.path().join("existing");
    std::fs::create_dir(&existing).unwrap();
    for out in [dir.path().join("stems"), existing.clone()] {
        let output = separate(&input, &out);
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        if out == existing {
            assert_eq!(
                std::fs::read_dir(&out).unwrap().count(),
                0,
                "no stem, no temporary file"
            );
        } else {
            assert!(!out.exists(), "the folder it made is gone again");
        }
    }
}

/// Several mixtures in one run: each gets its stems, a rerun with --list skips them, and
/// two inputs with one stem are refused before anything is written.
#[test]
fn several_mixtures_are_separated_and_a_listed_rerun_skips_them() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["one", "two"] {
        write(
            &dir.path().join(format!("{name}.wav")),
            16_000,
            &tones(16_000, 1.0, &[(0.3, 0.2)]),
        );
    }
    let stems = dir.path().join("stems");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_polyphon"))
            .arg("separate")
            .args(args)
            .current_dir(dir.path())
            .output()
            .expect("polyphon runs")
    };
    let first = run(&["one.wav", "two.wav", "-o", "stems"]);
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let mut names: Vec<String> = std::fs::read_dir(&stems)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "one_bass.wav",
            "one_flute.wav",
            "two_bass.wav",
            "two_flute.wav"
        ]
    );
    std::fs::write(dir.path().join("list.txt"), "one.wav\ntwo.wav\n").unwrap();
    let again = run(&["--list", "list.txt", "-o", "stems"]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success());
    assert_eq!(
        stdout.matches("skipped, its outputs exist").count(),
        2,
        "{stdout}"
    );
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::copy(dir.path().join("one.wav"), dir.path().join("sub/one.wav")).unwrap();
    let same = run(&["one.wav", "sub/one.wav", "-o", "other"]);
    assert_eq!(same.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&same.stderr).contains("would both be written as one.*"));
    assert!(!dir.path().join("other").exists());
}
