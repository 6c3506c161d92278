//! A model scored on a data set, and the files `polyphon eval instruments` writes.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::dataset::{Dataset, Task};
use crate::gbdt::GbdtModel;
use crate::metrics::{accuracy, confusion_matrix, multi_label_report, MultiLabelReport};
use crate::{InstrumentError, Result};

/// Scores of one model on one split.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "task", rename_all = "lowercase")]
pub enum Evaluation {
    Single {
        classes: Vec<String>,
        files: usize,
        accuracy: f64,
        /// Rows: true class, columns: predicted class.
        confusion: Vec<Vec<u64>>,
    },
    Multi {
        classes: Vec<String>,
        files: usize,
        /// The decision threshold of each class.
        thresholds: Vec<f64>,
        #[serde(flatten)]
        report: MultiLabelReport,
    },
}

/// Scores `model` on `data`: the most probable class for single-label models, every class at
/// or above `threshold` for multi-label ones.
pub fn evaluate(model: &GbdtModel, data: &Dataset, threshold: f64) -> Result<Evaluation> {
    let proba = model.predict_proba(&data.features)?;
    let thresholds = vec![threshold; model.classes.len()];
    score(model.task, &model.classes, &proba, data, &thresholds)
}

/// Scores class probabilities `(files, classes)` of any model of `task` against `data`;
/// multi-label models decide each class at its own threshold (one per class).
pub fn score(
    task: Task,
    classes: &[String],
    proba: &[f64],
    data: &Dataset,
    thresholds: &[f64],
) -> Result<Evaluation> {
    if task != data.task {
        return Err(InstrumentError::Invalid(format!(
            "the model is {}-label, the data was loaded for the {}-label task",
            task.name(),
            data.task.name()
        )));
    }
    let k = classes.len();
    if k != data.num_classes() || proba.len() != data.len() * k || thresholds.len() != k {
        return Err(InstrumentError::Invalid(format!(
            "{} probabilities for {} files of {} classes",
            proba.len(),
            data.len(),
            data.num_classes()
        )));
    }
    let classes = classes.to_vec();
    Ok(match task {
        Task::Single => {
            let predicted: Vec<usize> = proba.chunks(k).map(argmax).collect();
            let truth = data.class_indices();
            Evaluation::Single {
                classes,
                files: data.len(),
                accuracy: accuracy(&truth, &predicted),
                confusion: confusion_matrix(&truth, &predicted, k),
            }
        }
        Task::Multi => {
            let predicted = decide(proba, thresholds);
            Evaluation::Multi {
                classes,
                files: data.len(),
                thresholds: thresholds.to_vec(),
                report: multi_label_report(&data.target_bools(), &predicted, proba, k),
            }
        }
    })
}

/// Multi-label decisions of row-major probabilities `(files, classes)`: each class present
/// at or above its threshold.
pub fn decide(proba: &[f64], thresholds: &[f64]) -> Vec<bool> {
    proba
        .chunks(thresholds.len())
        .flat_map(|row| row.iter().zip(thresholds).map(|(p, t)| p >= t))
        .collect()
}

/// Index of the largest value (the first among equals).
pub fn argmax(values: &[f64]) -> usize {
    values
        .iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, &v)| {
            if v > best.1 {
                (i, v)
            } else {
                best
            }
        })
        .0
}

/// One file's prediction, for [`predictions_csv`].
pub struct FilePrediction<'a> {
    pub file: &'a str,
    /// The manifest's `synthesizer` and `source`.
    pub synthesizer: &'a str,
    pub source: &'a str,
    pub target: &'a [f32],
    pub proba: &'a [f64],
}

/// Per-file predictions as CSV, for error analysis: file, synthesizer, source, the true and
/// the predicted families (joined by `+`; single-label: the most probable, multi-label:
/// those at or above their threshold), then each class's probability.
pub fn predictions_csv(
    task: Task,
    classes: &[String],
    thresholds: &[f64],
    rows: &[FilePrediction],
) -> String {
    let mut text = format!(
        "file,synthesizer,source,truth,predicted,p_{}\n",
        classes.join(",p_")
    );
    let names = |chosen: &mut dyn Iterator<Item = usize>| -> String {
        chosen
            .map(|i| classes[i].as_str())
            .collect::<Vec<_>>()
            .join("+")
    };
    for row in rows {
        let truth = names(&mut (0..classes.len()).filter(|&i| row.target[i] > 0.5));
        let predicted = match task {
            Task::Single => classes[argmax(row.proba)].clone(),
            Task::Multi => {
                names(&mut (0..classes.len()).filter(|&i| row.proba[i] >= thresholds[i]))
            }
        };
        let fields = [row.file, row.synthesizer, row.source, &truth, &predicted];
        let quoted: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        let proba: Vec<String> = row.proba.iter().map(|p| format!("{p:.6}")).collect();
        text.push_str(&format!("{},{}\n", quoted.join(","), proba.join(",")));
    }
    text
}

/// A CSV field, quoted (RFC 4180) when it holds a comma, quote or line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// The confusion matrix as CSV: a header of predicted classes, one row per true class.
pub fn confusion_csv(classes: &[String], matrix: &[Vec<u64>]) -> String {
    let mut text = format!("true\\predicted,{}\n", classes.join(","));
    for (class, row) in classes.iter().zip(matrix) {
        let counts: Vec<String> = row.iter().map(u64::to_string).collect();
        text.push_str(&format!("{class},{}\n", counts.join(",")));
    }
    text
}

/// Writes `text` to `path` atomically.
pub fn write_text(path: &Path, text: &str) -> Result<PathBuf> {
    Ok(polyphon_core::write_atomically(path, text.as_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_csv_has_a_header_and_a_row_per_class() {
        let classes = vec!["bass".to_string(), "flute".to_string()];
        let csv = confusion_csv(&classes, &[vec![3, 1], vec![0, 4]]);
        assert_eq!(csv, "true\\predicted,bass,flute\nbass,3,1\nflute,0,4\n");
    }

    #[test]
    fn predictions_csv_names_true_and_predicted_families() {
        let classes = vec!["bass".to_string(), "flute".to_string()];
        let rows = [
            FilePrediction {
                file: "a,b.wav",
                synthesizer: "A:000:001+B:000:002",
                source: "x",
                target: &[1.0, 1.0],
                proba: &[0.9, 0.3],
            },
            FilePrediction {
                file: "c.wav",
                synthesizer: "A:000:001",
                source: "y",
                target: &[0.0, 1.0],
                proba: &[0.2, 0.1],
            },
        ];
        let csv = predictions_csv(Task::Multi, &classes, &[0.5, 0.25], &rows);
        assert_eq!(
            csv,
            "file,synthesizer,source,truth,predicted,p_bass,p_flute\n\
             \"a,b.wav\",A:000:001+B:000:002,x,bass+flute,bass+flute,0.900000,0.300000\n\
             c.wav,A:000:001,y,flute,,0.200000,0.100000\n"
        );
        let single = predictions_csv(Task::Single, &classes, &[0.5, 0.5], &rows[1..]);
        assert!(single.ends_with("c.wav,A:000:001,y,flute,bass,0.200000,0.100000\n"));
    }

    #[test]
    fn argmax_takes_the_first_of_equals() {
        assert_eq!(argmax(&[0.2, 0.5, 0.5]), 1);
    }
}
