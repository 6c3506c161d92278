//! Per-family decision thresholds for multi-label models, fitted on a validation split.
//!
//! A sigmoid output of 0.5 is the right cut only when the network is calibrated for the data
//! it meets; trained on mixed notes and tested on unseen presets it is not (the bundled MLP
//! recalls every family more often than it is right about it). Choosing each family's cut
//! for the best accuracy on the valid split raises test Hamming accuracy, see
//! docs/instruments.md. Kept beside the model as `thresholds.json`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::evaluate::write_text;
use crate::{InstrumentError, Result};

/// File name of the thresholds in a run folder.
pub const THRESHOLDS_FILE: &str = "thresholds.json";

/// The cuts tried: 0.05, 0.10, ..., 0.95.
const STEPS: usize = 19;

/// One threshold per class, as fitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    pub classes: Vec<String>,
    pub thresholds: Vec<f64>,
    /// What they were fitted on, e.g. `data/mixtures/mixtures.jsonl, valid split (200 files)`.
    pub fitted_on: String,
}

impl Thresholds {
    /// Parses thresholds JSON; `name` labels the errors.
    pub fn from_json(name: &Path, text: &str) -> Result<Self> {
        let bad = |detail: String| InstrumentError::File {
            path: name.to_path_buf(),
            detail,
        };
        let parsed: Self =
            serde_json::from_str(text).map_err(|e| bad(format!("not a thresholds file ({e})")))?;
        if parsed.classes.len() != parsed.thresholds.len()
            || !parsed.thresholds.iter().all(|t| (0.0..=1.0).contains(t))
        {
            return Err(bad("one probability per class expected".into()));
        }
        Ok(parsed)
    }

    /// Reads `thresholds.json` of a run folder; `None` when there is none.
    pub fn load_from_run(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(THRESHOLDS_FILE);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(InstrumentError::io(&path))?;
        Self::from_json(&path, &text).map(Some)
    }

    /// Writes `thresholds.json` into a run folder, atomically.
    pub fn save_to_run(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_string_pretty(self).expect("plain data serializes");
        write_text(&dir.join(THRESHOLDS_FILE), &json)?;
        Ok(())
    }

    /// Removes a run folder's thresholds.json, if any: training calls this before it writes
    /// a new model, whose outputs the old thresholds were not fitted to.
    pub fn discard_from_run(dir: &Path) -> Result<()> {
        let path = dir.join(THRESHOLDS_FILE);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(InstrumentError::io(&path)(e))
            }
            _ => Ok(()),
        }
    }

    /// The thresholds in the order of `classes`; an error when the model's classes differ.
    pub fn for_classes(&self, classes: &[String]) -> Result<Vec<f64>> {
        if self.classes != classes {
            return Err(InstrumentError::Invalid(format!(
                "the thresholds are for {}, the model predicts {}",
                self.classes.join(", "),
                classes.join(", ")
            )));
        }
        Ok(self.thresholds.clone())
    }
}

/// For each of `k` classes, the cut among 0.05, 0.10, ..., 0.95 with the most right
/// decisions on `truth` (row-major `(files, k)`) given `proba`; among equals, the one
/// nearest 0.5, so that a tie keeps the untuned cut.
pub fn fit_thresholds(truth: &[bool], proba: &[f64], k: usize) -> Vec<f64> {
    assert!(k > 0 && truth.len() == proba.len() && truth.len().is_multiple_of(k));
    let cuts: Vec<f64> = (1..=STEPS).map(|i| i as f64 / 20.0).collect();
    (0..k)
        .map(|class| {
            let right = |cut: f64| {
                truth
                    .iter()
                    .zip(proba)
                    .skip(class)
                    .step_by(k)
                    .filter(|(&t, &p)| t == (p >= cut))
                    .count()
            };
            let mut best: (f64, usize) = (0.5, right(0.5));
            for &cut in &cuts {
                let count = right(cut);
                let nearer = (cut - 0.5).abs() < (best.0 - 0.5).abs();
                if count > best.1 || (count == best.1 && nearer) {
                    best = (cut, count);
                }
            }
            best.0
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_gets_the_cut_that_separates_it() {
        // Class 0 is present above 0.8; class 1 above 0.2.
        let proba = [0.9, 0.3, 0.7, 0.1, 0.85, 0.25, 0.6, 0.15];
        let truth = [true, true, false, false, true, true, false, false];
        let fitted = fit_thresholds(&truth, &proba, 2);
        // Class 0: every cut in (0.7, 0.85] separates it; 0.75 is the nearest to 0.5.
        assert!((fitted[0] - 0.75).abs() < 1e-12, "{fitted:?}");
        // Class 1: cuts in (0.15, 0.25]: 0.2 and 0.25; 0.25 is nearer 0.5.
        assert!((fitted[1] - 0.25).abs() < 1e-12, "{fitted:?}");
    }

    #[test]
    fn a_separable_class_at_one_half_keeps_one_half() {
        let fitted = fit_thresholds(&[true, false], &[0.9, 0.1], 1);
        assert_eq!(fitted, [0.5]);
    }

    #[test]
    fn thresholds_round_trip_and_check_their_classes() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Thresholds::load_from_run(dir.path()).unwrap(), None);
        let fitted = Thresholds {
            classes: vec!["bass".into(), "flute".into()],
            thresholds: vec![0.6, 0.35],
            fitted_on: "test".into(),
        };
        fitted.save_to_run(dir.path()).unwrap();
        let read = Thresholds::load_from_run(dir.path()).unwrap().unwrap();
        assert_eq!(read, fitted);
        let classes = ["bass".to_string(), "flute".to_string()];
        assert_eq!(read.for_classes(&classes).unwrap(), [0.6, 0.35]);
        assert!(read.for_classes(&classes[..1]).is_err());
        Thresholds::discard_from_run(dir.path()).unwrap();
        assert_eq!(Thresholds::load_from_run(dir.path()).unwrap(), None);
        Thresholds::discard_from_run(dir.path()).unwrap();
        let bad = r#"{"classes": ["bass"], "thresholds": [1.5], "fitted_on": ""}"#;
        assert!(Thresholds::from_json(Path::new("t.json"), bad).is_err());
    }
}
