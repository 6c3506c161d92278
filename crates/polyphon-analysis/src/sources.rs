//! Reading reference frames from disk: `polyphon synth` manifests and note list files.

use std::path::Path;

use polyphon_core::manifest::{read_manifest, ManifestEntry, Split};
use polyphon_core::read_notes;
use polyphon_core::{frame_labels, read_csv};

use crate::frames::{combinations_from_labels, combinations_from_notes, frames_covering};
use crate::{AnalysisError, Combination, Result, TrainingSet};

/// Parses a split name: `train`, `valid` or `test`.
pub fn parse_split(name: &str) -> Result<Split> {
    match name {
        "train" => Ok(Split::Train),
        "valid" => Ok(Split::Valid),
        "test" => Ok(Split::Test),
        other => Err(AnalysisError::Invalid(format!(
            "unknown split {other:?} (expected train, valid or test)"
        ))),
    }
}

/// The reference combinations of one manifest entry: its `labels_csv` (relative to
/// `root`, the manifest's folder) through polyphon-synth's label rule, on the frames of its
/// audio (`ceil(duration · fps)`, as many as the feature front-end gives; at least enough to
/// cover the notes if the duration is missing).
pub fn entry_frames(root: &Path, entry: &ManifestEntry, fps: f64) -> Result<Vec<Combination>> {
    let notes = read_csv(root.join(&entry.labels_csv))?;
    let audio_frames = (entry.duration * fps).ceil();
    let n_frames = if audio_frames.is_finite() && audio_frames > 0.0 {
        audio_frames as usize
    } else {
        let last_offset = polyphon_core::notes_end(&notes);
        polyphon_eval::frames::frame_count(last_offset, fps)
    };
    let labels = frame_labels(&notes, fps, n_frames, 128, 0);
    Ok(combinations_from_labels(&labels))
}

/// Adds the reference frames of every entry of `split` in a manifest; returns how many files
/// were read. A manifest without entries in that split is an error (a mistyped split would
/// otherwise make every combination unshared).
pub fn add_manifest(
    training: &mut TrainingSet,
    manifest: &Path,
    split: Split,
    fps: f64,
) -> Result<usize> {
    let entries = read_manifest(manifest)?;
    let root = manifest.parent().unwrap_or(Path::new("."));
    let mut files = 0;
    for entry in entries.iter().filter(|e| e.split == split) {
        training.add_frames(&entry_frames(root, entry, fps)?);
        files += 1;
    }
    if files == 0 {
        return Err(AnalysisError::Invalid(format!(
            "{}: no entries in the {} split ({} entries in all)",
            manifest.display(),
            split.name(),
            entries.len()
        )));
    }
    Ok(files)
}

/// Adds the frames of a note list (CSV `onset,offset,pitch,velocity` or MIDI), rasterised at
/// `fps` up to its last offset.
pub fn add_note_file(training: &mut TrainingSet, path: &Path, fps: f64) -> Result<()> {
    let notes = read_notes(path)?;
    let n_frames = frames_covering(&notes, fps);
    training.add_frames(&combinations_from_notes(&notes, n_frames, fps));
    Ok(())
}

/// The training set of `paths`: the `split` entries of each manifest (`.jsonl`, see
/// [`add_manifest`]) and every other path as a note list ([`add_note_file`]).
pub fn training_set(paths: &[impl AsRef<Path>], split: Split, fps: f64) -> Result<TrainingSet> {
    let mut training = TrainingSet::new();
    for path in paths.iter().map(AsRef::as_ref) {
        if is_manifest(path) {
            add_manifest(&mut training, path, split, fps)?;
        } else {
            add_note_file(&mut training, path, fps)?;
        }
    }
    Ok(training)
}

/// Whether a path names a manifest (`.jsonl`) rather than a note list.
pub fn is_manifest(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyphon_core::manifest::write_manifest;
    use polyphon_core::{write_csv, Note};

    fn entry(file: &str, split: Split, labels: &str, duration: f64) -> ManifestEntry {
        ManifestEntry {
            file: file.into(),
            split,
            synthesizer: "x:000:000".into(),
            labels_csv: labels.into(),
            labels_midi: String::new(),
            duration,
            sample_rate: 44_100,
            source: None,
            instruments: vec![],
            families: vec![],
            stems: vec![],
        }
    }

    #[test]
    fn a_manifest_split_gives_the_training_combinations() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("labels")).unwrap();
        write_csv(
            dir.path().join("labels/a.csv"),
            &[Note::new(0.0, 0.1, 60, 90), Note::new(0.05, 0.1, 64, 90)],
        )
        .unwrap();
        write_csv(
            dir.path().join("labels/b.csv"),
            &[Note::new(0.0, 0.1, 67, 90)],
        )
        .unwrap();
        let manifest = dir.path().join("set.jsonl");
        write_manifest(
            &manifest,
            &[
                entry("a.wav", Split::Train, "labels/a.csv", 0.2),
                entry("b.wav", Split::Test, "labels/b.csv", 0.2),
            ],
        )
        .unwrap();
        let mut training = TrainingSet::new();
        assert_eq!(
            add_manifest(&mut training, &manifest, Split::Train, 100.0).unwrap(),
            1
        );
        // 20 frames of audio: C4 in 0..5, C4+E4 in 5..10, silence after.
        assert_eq!(training.frames(), 20);
        assert_eq!(training.frames_of("C4".parse().unwrap()), 5);
        assert_eq!(training.frames_of("C4,E4".parse().unwrap()), 5);
        assert!(!training.is_shared("G4".parse().unwrap()));

        let error = add_manifest(&mut training, &manifest, Split::Valid, 100.0).unwrap_err();
        assert!(
            error.to_string().contains("no entries in the valid split"),
            "{error}"
        );
        assert!(is_manifest(&manifest) && !is_manifest(Path::new("a.csv")));
        assert!(parse_split("tset").is_err());
    }
}
