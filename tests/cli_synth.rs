//! `polyphon synth` as a user runs it: a tiny data set, its summary, and one-line errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn polyphon(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(args)
        .output()
        .expect("polyphon runs")
}

fn soundfont() -> Option<PathBuf> {
    let path = polyphon::synth::soundfont::default_soundfont_path();
    if path.is_none() {
        eprintln!("no SoundFont (set POLYPHON_SOUNDFONT or install fluid-soundfont-gm); skipping");
    }
    path
}

#[test]
fn fluid_renders_a_tiny_set_and_prints_a_summary() {
    let Some(sf) = soundfont() else { return };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fluid");
    let args = [
        "synth",
        "fluid",
        "--soundfont",
        sf.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--lowest",
        "60",
        "--highest",
        "62",
        "--velocities",
        "90",
        "--durations",
        "0.2",
        "--tail",
        "0.2",
    ];
    let result = polyphon(&args);
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        result.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&result.stderr)
    );
    assert!(
        stdout.contains("fluid-combi") && stdout.contains("fluid-isol"),
        "{stdout}"
    );
    assert!(stdout.contains("6 audio files"), "{stdout}");
    let manifest = std::fs::read_to_string(out.join("fluid-combi.jsonl")).unwrap();
    assert_eq!(manifest.lines().count(), 6);

    let again = polyphon(&args);
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 rendered, 6 already there"));
}

#[test]
fn a_missing_soundfont_is_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let result = polyphon(&[
        "synth",
        "fluid",
        "--soundfont",
        "/nowhere/Grand.sf2",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.starts_with("error: /nowhere/Grand.sf2"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[test]
fn pieces_need_three_soundfonts_for_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let result = polyphon(&[
        "synth",
        "pieces",
        "--midi",
        dir.path().to_str().unwrap(),
        "--soundfonts",
        "a.sf2,b.sf2",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(result.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&result.stderr).contains("at least 3 SoundFonts"));
}

/// `synth ensembles` of the MIDI folder `midi` into `out` (with a SoundFont never reached).
fn ensembles_into(midi: &std::path::Path, out: &std::path::Path) -> Output {
    polyphon(&[
        "synth",
        "ensembles",
        "--midi",
        midi.to_str().unwrap(),
        "--soundfonts",
        "/nowhere/a.sf2",
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn ensembles_without_midi_files_are_one_line_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let result = ensembles_into(dir.path(), &out);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("no readable MIDI files"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(!out.exists());

    // A folder of broken files says why the first one failed.
    std::fs::write(dir.path().join("x.mid"), b"junk").unwrap();
    let result = ensembles_into(dir.path(), &out);
    assert_eq!(result.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(stderr.contains("x.mid: not a readable MIDI"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn every_recipe_help_shows_an_example() {
    for recipe in [
        "fluid",
        "pieces",
        "notes",
        "phrases",
        "ensembles",
        "mixtures",
        "levels",
    ] {
        let result = polyphon(&["synth", recipe, "--help"]);
        let help = String::from_utf8_lossy(&result.stdout);
        assert!(
            help.contains("Example:") && help.contains("polyphon synth"),
            "{recipe}: {help}"
        );
    }
}
