//! `polyphon features` as a user runs it: real files in, .npy out, clear failures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polyphon::spectra::read_npy_f32;

fn polyphon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(args)
        .output()
        .expect("polyphon runs")
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("crates/polyphon-features/tests/fixtures")
        .join(name)
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn logfilt_of_a_stereo_wav_matches_madmom_frame_count_included() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("chord.npy");
    let png = dir.path().join("chord.png");
    let input = fixture("piano_chord.wav");
    let result = polyphon(&[
        "features",
        arg(&input),
        "--kind",
        "logfilt",
        "--out",
        arg(&out),
        "--png",
        arg(&png),
    ]);
    assert!(result.status.success(), "{result:?}");
    let (shape, ours) = read_npy_f32(&out).unwrap();
    let (expected_shape, expected) = read_npy_f32(fixture("piano_chord.logfilt.npy")).unwrap();
    assert_eq!(shape, expected_shape);
    let diff = ours
        .iter()
        .zip(&expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    assert!(diff <= 1e-4, "max abs diff {diff}");
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("200 frames x 229 bins"), "{stdout}");
}

#[test]
fn context_windows_add_a_middle_axis() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ctx.npy");
    let input = fixture("sweep.wav");
    let result = polyphon(&[
        "features",
        arg(&input),
        "--context",
        "2",
        "--out",
        arg(&out),
    ]);
    assert!(result.status.success(), "{result:?}");
    let (shape, stacked) = read_npy_f32(&out).unwrap();
    assert_eq!(shape, vec![200, 5, 229]);
    let (_, plain) = read_npy_f32(fixture("sweep.logfilt.npy")).unwrap();
    // Window 10 holds frames 8..=12 (centre 10); window 0 repeats frame 0 twice on its left.
    let max_diff = |window: usize, position: usize, frame: usize| {
        let start = (window * 5 + position) * 229;
        (0..229)
            .map(|b| (stacked[start + b] - plain[frame * 229 + b]).abs())
            .fold(0.0, f32::max)
    };
    for (position, frame) in (8..=12).enumerate() {
        assert!(max_diff(10, position, frame) <= 1e-4);
    }
    for (position, frame) in [0, 0, 0, 1, 2].into_iter().enumerate() {
        assert!(max_diff(0, position, frame) <= 1e-4);
    }
}

/// Runs `features` on a bad input: exit status 2, one line naming the file, no output left.
fn assert_fails_cleanly(input: &Path, expected_words: &str) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let result = polyphon(&["features", arg(input), "--out", arg(&out)]);
    assert_eq!(result.status.code(), Some(2), "{result:?}");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains(&input.display().to_string()), "{stderr}");
    assert!(stderr.contains(expected_words), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "output left behind"
    );
}

#[test]
fn bad_inputs_fail_with_one_line_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    assert_fails_cleanly(&dir.path().join("missing.wav"), "No such file");
    assert_fails_cleanly(&write("empty.wav", b""), "empty");
    assert_fails_cleanly(
        &write("text.wav", b"hello, not audio"),
        "not a recognised audio file",
    );
    let whole = std::fs::read(fixture("sweep.wav")).unwrap();
    assert_fails_cleanly(&write("cut.wav", &whole[..whole.len() / 2]), "truncated");
    // Random bytes, and an MP4 container (its first box, `ftyp`, then nothing readable).
    let noise: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    assert_fails_cleanly(
        &write("noise.wav", &noise),
        "reads WAV, FLAC, MP3 and Ogg Vorbis",
    );
    let mut m4a = b"\0\0\0\x20ftypM4A \0\0\x02\0M4A isommp42".to_vec();
    m4a.extend_from_slice(&noise[..4096]);
    assert_fails_cleanly(&write("song.m4a", &m4a), "MP4/M4A file (AAC or ALAC)");
}

/// A context that would make every output row hundreds of megabytes is refused up front.
#[test]
fn a_huge_context_is_refused_before_anything_is_computed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ctx.npy");
    let input = fixture("sweep.wav");
    let result = polyphon(&[
        "features",
        arg(&input),
        "--context",
        "100000",
        "--out",
        arg(&out),
    ]);
    assert_eq!(result.status.code(), Some(2), "{result:?}");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("100000") && stderr.contains("500"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn nothing_to_write_is_an_error() {
    let result = polyphon(&["features", arg(&fixture("sweep.wav"))]);
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("--out"));
}

#[test]
fn help_shows_an_example() {
    let result = polyphon(&["features", "--help"]);
    assert!(result.status.success());
    assert!(String::from_utf8_lossy(&result.stdout).contains("polyphon features piece.wav"));
}
