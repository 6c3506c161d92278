//! The JSON-lines manifest listing every file of a data set, and the split rules.

use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::rng::SeededRng;
use crate::{AtomicFile, CoreError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Valid,
    Test,
}

impl std::str::FromStr for Split {
    type Err = String;

    /// `train`, `valid` or `test`.
    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        [Split::Train, Split::Valid, Split::Test]
            .into_iter()
            .find(|split| split.name() == text)
            .ok_or_else(|| format!("unknown split '{text}' (train, valid or test)"))
    }
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }
}

/// One audio file of a data set. Paths are relative to the manifest's folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub file: String,
    pub split: Split,
    /// The instrument that rendered it, `<soundfont>:<bank>:<program>` (for mixtures, the
    /// stems' synthesizers joined with `+`).
    pub synthesizer: String,
    /// `onset,offset,pitch,velocity` note list; frame labels are derived from it at load time
    /// with [`crate::frame_labels`].
    pub labels_csv: String,
    pub labels_midi: String,
    /// Seconds of audio.
    pub duration: f64,
    pub sample_rate: u32,
    /// The piece or note the file renders.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// NSynth-style instrument names sounding in the file (notes and mixtures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instruments: Vec<String>,
    /// NSynth instrument families sounding in the file (notes and mixtures).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<String>,
    /// Separated sources beside a mixture, in the order of `instruments`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stems: Vec<String>,
}

/// Writes the entries sorted by file name, one JSON object a line, atomically. The same
/// entries always give the same bytes, whatever order parallel rendering finished in.
pub fn write_manifest(path: &Path, entries: &[ManifestEntry]) -> Result<()> {
    let mut sorted: Vec<&ManifestEntry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.file.cmp(&b.file));
    let mut text = String::new();
    for entry in sorted {
        let line = serde_json::to_string(entry).map_err(|e| CoreError::Json {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        text.push_str(&line);
        text.push('\n');
    }
    let mut file = AtomicFile::create(path)?;
    file.write_all(text.as_bytes())
        .map_err(CoreError::io(path))?;
    file.commit()?;
    Ok(())
}

pub fn read_manifest(path: &Path) -> Result<Vec<ManifestEntry>> {
    let text = std::fs::read_to_string(path).map_err(CoreError::io(path))?;
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            serde_json::from_str(line).map_err(|e| CoreError::Json {
                path: path.to_path_buf(),
                detail: format!("line {}: {e}", index + 1),
            })
        })
        .collect()
}

/// The entries of one split of a manifest, in manifest order. A split without entries is an
/// error: a mistyped or missing split should not pass as an empty data set.
pub fn read_split(path: &Path, split: Split) -> Result<Vec<ManifestEntry>> {
    let entries: Vec<_> = read_manifest(path)?
        .into_iter()
        .filter(|entry| entry.split == split)
        .collect();
    if entries.is_empty() {
        return Err(CoreError::Invalid(format!(
            "{}: no files in split '{}'",
            path.display(),
            split.name()
        )));
    }
    Ok(entries)
}

/// The split rule of the piece sets: synthesizers are never mixed across splits. With `n`
/// synthesizers in their given order, the last is the test set, the one before it the
/// validation set and the first `n - 2` the training set.
pub fn split_by_synthesizer(n: usize) -> Result<Vec<Split>> {
    if n < 3 {
        return Err(CoreError::Invalid(format!(
            "a split by synthesizer needs at least 3 synthesizers (train, valid, test); got {n}"
        )));
    }
    let mut splits = vec![Split::Train; n - 2];
    splits.extend([Split::Valid, Split::Test]);
    Ok(splits)
}

/// Assigns `n` items to train or valid: a seeded shuffle, then the first
/// `round(n * valid_fraction)` (at least one when `n >= 2` and the fraction is positive) go
/// to valid.
pub fn train_valid_split(n: usize, valid_fraction: f64, rng: &mut SeededRng) -> Vec<Split> {
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let mut n_valid = (n as f64 * valid_fraction.clamp(0.0, 1.0)).round() as usize;
    if n >= 2 && valid_fraction > 0.0 {
        n_valid = n_valid.clamp(1, n - 1);
    }
    let mut splits = vec![Split::Train; n];
    for &index in &order[..n_valid.min(n)] {
        splits[index] = Split::Valid;
    }
    splits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthesizer_split_trains_on_all_but_the_last_two() {
        use Split::*;
        assert_eq!(split_by_synthesizer(3).unwrap(), vec![Train, Valid, Test]);
        assert_eq!(
            split_by_synthesizer(5).unwrap(),
            vec![Train, Train, Train, Valid, Test]
        );
        assert!(split_by_synthesizer(2).is_err());
    }

    #[test]
    fn train_valid_split_is_seeded_and_sized() {
        let a = train_valid_split(253, 0.1, &mut SeededRng::new(1, "s"));
        let b = train_valid_split(253, 0.1, &mut SeededRng::new(1, "s"));
        let c = train_valid_split(253, 0.1, &mut SeededRng::new(2, "s"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.iter().filter(|&&s| s == Split::Valid).count(), 25);
    }

    #[test]
    fn manifest_round_trips_sorted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        let entry = |file: &str| ManifestEntry {
            file: file.into(),
            split: Split::Train,
            synthesizer: "x:000:000".into(),
            labels_csv: "a.csv".into(),
            labels_midi: "a.mid".into(),
            duration: 1.5,
            sample_rate: 44_100,
            source: None,
            instruments: vec![],
            families: vec![],
            stems: vec![],
        };
        write_manifest(&path, &[entry("b.wav"), entry("a.wav")]).unwrap();
        let back = read_manifest(&path).unwrap();
        assert_eq!(back, vec![entry("a.wav"), entry("b.wav")]);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("{\"file\":\"a.wav\",\"split\":\"train\""),
            "{text}"
        );
    }
}
