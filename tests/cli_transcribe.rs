//! `polyphon transcribe` and `polyphon eval transcription` as a user runs them, with the
//! bundled model on the bundled held-out example.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polyphon::metrics::TranscriptionReport;

fn polyphon(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("polyphon runs")
}

fn example(extension: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/maple_leaf_rag_timgm6mb")
        .with_extension(extension)
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn bundled_model_transcribes_the_held_out_example_and_scores_well() {
    let dir = tempfile::tempdir().unwrap();
    let wav = example("wav");
    let transcribed = polyphon(
        &[
            "transcribe",
            arg(&wav),
            "--notes",
            "rag.csv",
            "--roll",
            "rag.png",
            "--frames",
            "rag.npy",
        ],
        dir.path(),
    );
    assert!(transcribed.status.success(), "{}", stderr(&transcribed));
    // Without -o the MIDI file is named after the input, in the current folder.
    for name in [
        "maple_leaf_rag_timgm6mb.mid",
        "rag.csv",
        "rag.png",
        "rag.npy",
    ] {
        assert!(dir.path().join(name).exists(), "{name} missing");
    }
    let (shape, probabilities) =
        polyphon::spectra::read_npy_f32(dir.path().join("rag.npy")).unwrap();
    assert_eq!(shape, vec![3000, 88]);
    assert!(probabilities.iter().all(|p| (0.0..=1.0).contains(p)));

    let reference = example("csv");
    for estimate in ["rag.csv", "maple_leaf_rag_timgm6mb.mid"] {
        let scored = polyphon(
            &[
                "eval",
                "transcription",
                "--ref",
                arg(&reference),
                "--est",
                estimate,
                "--json",
            ],
            dir.path(),
        );
        assert!(scored.status.success(), "{}", stderr(&scored));
        let report =
            TranscriptionReport::from_json(String::from_utf8_lossy(&scored.stdout).trim()).unwrap();
        // A synthesizer that no training file used; the bundled model's README scores.
        assert!(report.frame.f1 > 0.6, "{estimate}: {report:?}");
        assert!(report.onset.f1 > 0.6, "{estimate}: {report:?}");
    }
}

#[test]
fn bad_inputs_fail_clearly_without_leaving_outputs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("text.wav"), "not audio").unwrap();
    let wav = example("wav");
    let cases: [(&[&str], &str); 3] = [
        (
            &["transcribe", "missing.wav", "-o", "out.mid"],
            "missing.wav",
        ),
        (&["transcribe", "text.wav", "-o", "out.mid"], "text.wav"),
        (
            &["transcribe", arg(&wav), "-o", "out.mid", "--model", "nope"],
            "no bundled model",
        ),
    ];
    for (args, needle) in cases {
        let output = polyphon(args, dir.path());
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(needle),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            !dir.path().join("out.mid").exists(),
            "{args:?} left out.mid"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name != "text.wav")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Outputs that would destroy something: the input itself, one path for two outputs, a
/// special file. Each is refused in one line and everything is left as it was.
#[test]
fn outputs_never_overwrite_the_input_each_other_or_a_special_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("piece.wav");
    std::fs::copy(example("wav"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    // A FIFO stands for any special file (a device is never risked in a test).
    let fifo = Command::new("mkfifo")
        .arg(dir.path().join("fifo.mid"))
        .status();
    assert!(fifo.is_ok_and(|status| status.success()), "mkfifo failed");
    std::fs::create_dir(dir.path().join("other")).unwrap();
    std::fs::copy(example("wav"), dir.path().join("other/piece.wav")).unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["transcribe", "piece.wav", "-o", "piece.wav"],
            "overwrite the input",
        ),
        (
            &["transcribe", "piece.wav", "other/piece.wav", "-o", "out"],
            "would both be written as piece.*",
        ),
        (
            &["transcribe", "piece.wav", "-o", "x.mid", "--notes", "x.mid"],
            "two outputs",
        ),
        (
            &["transcribe", "piece.wav", "-o", "fifo.mid"],
            "not a regular file",
        ),
    ];
    for (args, needle) in cases {
        let output = polyphon(args, dir.path());
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(message.contains(needle), "{args:?}: {message}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), before);
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["fifo.mid", "other", "piece.wav"]);
    let fifo = std::fs::symlink_metadata(dir.path().join("fifo.mid")).unwrap();
    assert!(!fifo.is_file(), "the FIFO was replaced by a file");
}

/// `polyphon transcribe` with `ORT_DYLIB_PATH` set to `library`.
fn transcribe_with_library(library: &Path, extra: &[&str], cwd: &Path) -> Output {
    let wav = example("wav");
    let mut args = vec!["transcribe", arg(&wav), "-o", "out.mid"];
    args.extend_from_slice(extra);
    Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(&args)
        .env("ORT_DYLIB_PATH", library)
        .current_dir(cwd)
        .output()
        .expect("polyphon runs")
}

/// A shared library that says it is ONNX Runtime 1.10 (older than the API the engine uses),
/// built with the system's C compiler; `None` where there is none.
fn old_onnxruntime(dir: &Path) -> Option<PathBuf> {
    let source = dir.join("old_ort.c");
    std::fs::write(
        &source,
        "typedef struct { const void *(*get_api)(unsigned); const char *(*version)(void); } Base;\n\
         static const void *get_api(unsigned v) { (void)v; return 0; }\n\
         static const char *version(void) { return \"1.10.0\"; }\n\
         static const Base base = { get_api, version };\n\
         const Base *OrtGetApiBase(void) { return &base; }\n",
    )
    .unwrap();
    let library = dir.join("libonnxruntime.so");
    let built = Command::new("cc")
        .args(["-shared", "-fPIC", "-o", arg(&library), arg(&source)])
        .status();
    match built {
        Ok(status) if status.success() => Some(library),
        _ => {
            eprintln!("skipped the wrong-version case: no C compiler");
            None
        }
    }
}

#[test]
fn the_ort_engine_without_a_usable_library_fails_in_one_line_and_auto_falls_back() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing/libonnxruntime.so");
    let mut libraries = vec![(missing.clone(), "No such file")];
    if let Some(old) = old_onnxruntime(dir.path()) {
        libraries.push((old, "but got '1.10.0'"));
    }
    for (library, reason) in &libraries {
        let failed = transcribe_with_library(library, &["--engine", "ort"], dir.path());
        let message = stderr(&failed);
        assert_eq!(failed.status.code(), Some(2), "{message}");
        assert_eq!(message.lines().count(), 1, "{message}");
        assert!(
            message.contains("ONNX Runtime could not be loaded"),
            "{message}"
        );
        assert!(message.contains(reason), "{message}");
        assert!(!dir.path().join("out.mid").exists());
    }
    let fallback = transcribe_with_library(&missing, &["--engine", "auto", "-v"], dir.path());
    let message = stderr(&fallback);
    assert!(fallback.status.success(), "{message}");
    assert!(
        message.contains("engine: native (ONNX Runtime could not be loaded"),
        "{message}"
    );
    assert!(dir.path().join("out.mid").exists());
}

/// An 8-bit copy of the chord example holds the chord's keys only: quantised to 8 bits, its
/// quiet tail would otherwise sound intermodulation tones (C2, C3) that read as notes.
#[test]
fn eight_bit_audio_transcribes_to_the_notes_of_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let chord = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/piano_chord.wav");
    let mut reader = hound::WavReader::open(chord).unwrap();
    let spec = reader.spec();
    let eight = dir.path().join("chord8.wav");
    let mut writer = hound::WavWriter::create(
        &eight,
        hound::WavSpec {
            bits_per_sample: 8,
            ..spec
        },
    )
    .unwrap();
    for sample in reader.samples::<i16>() {
        writer.write_sample((sample.unwrap() >> 8) as i8).unwrap();
    }
    writer.finalize().unwrap();
    let notes = polyphon::Transcriber::bundled()
        .unwrap()
        .transcribe_file(&eight)
        .unwrap();
    let keys: std::collections::BTreeSet<u8> = notes.iter().map(|note| note.key()).collect();
    assert_eq!(keys, [60, 64, 67].into(), "{notes:?}");
}

/// SIGTERM (as SIGINT and SIGHUP) in the middle of a transcription removes its temporary
/// files: nothing of the run is left, and the status says which signal ended it.
#[cfg(unix)]
#[test]
fn a_terminated_run_leaves_no_temporary_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("long.wav");
    let mut reader = hound::WavReader::open(example("wav")).unwrap();
    let spec = reader.spec();
    let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
    let mut writer = hound::WavWriter::create(&input, spec).unwrap();
    for _ in 0..4 {
        samples
            .iter()
            .for_each(|&s| writer.write_sample(s).unwrap());
    }
    writer.finalize().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_polyphon"))
        .args(["transcribe", "long.wav", "--frames", "long.npy", "--notes"])
        .arg("long.csv")
        .current_dir(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let names = || -> Vec<String> {
        std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != "long.wav")
            .collect()
    };
    let started = std::time::Instant::now();
    while names().is_empty() && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(
        names().iter().all(|name| name.starts_with('.')),
        "{:?}",
        names()
    );
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(killed.is_ok_and(|status| status.success()));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(128 + 15), "{status:?}");
    assert!(names().is_empty(), "left behind: {:?}", names());
}

/// Two shards of one list write every output exactly once; a rerun skips what is done; a
/// bad file is reported in the status and the others complete.
#[test]
fn shards_of_a_list_transcribe_each_file_once_and_a_rerun_skips_them() {
    let dir = tempfile::tempdir().unwrap();
    let chord = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/piano_chord.wav");
    let mut list = String::from("# the inputs\n");
    for name in ["a", "b", "c", "d"] {
        std::fs::copy(&chord, dir.path().join(format!("{name}.wav"))).unwrap();
        list.push_str(&format!("{name}.wav\n"));
    }
    std::fs::write(dir.path().join("bad.wav"), "not audio").unwrap();
    list.push_str("bad.wav\n");
    std::fs::write(dir.path().join("files.txt"), list).unwrap();
    let shard = |k: usize| {
        let shard = format!("{k}/2");
        let status = format!("status-{k}.jsonl");
        let args = ["transcribe", "--list", "files.txt", "--shard", &shard];
        let output = polyphon(
            &[&args[..], &["-o", "midi", "--status", &status]].concat(),
            dir.path(),
        );
        let lines = std::fs::read_to_string(dir.path().join(status)).unwrap();
        (output, lines)
    };
    let (first, second) = (shard(0), shard(1));
    let failed = [&first, &second]
        .iter()
        .filter(|(o, _)| o.status.code() == Some(2))
        .count();
    assert_eq!(failed, 1, "bad.wav fails in exactly one shard");
    let mut written: Vec<String> = std::fs::read_dir(dir.path().join("midi"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written, ["a.mid", "b.mid", "c.mid", "d.mid"]);
    let count =
        |text: &str, status: &str| text.matches(&format!("\"status\":\"{status}\"")).count();
    let statuses = format!("{}{}", first.1, second.1);
    assert_eq!(
        (count(&statuses, "done"), count(&statuses, "failed")),
        (4, 1),
        "{statuses}"
    );
    // A rerun of both shards skips every finished file and tries the bad one again.
    let (again_first, again_second) = (shard(0), shard(1));
    let reruns = format!("{}{}", again_first.1, again_second.1);
    assert_eq!(
        (count(&reruns, "skipped"), count(&reruns, "failed")),
        (4, 2),
        "{reruns}"
    );
}
