//! An instrument model scored on one split of a manifest, with scikit-learn's definitions:
//! accuracy and confusion (single-label) or per-family P/R/F1, exact match, Hamming accuracy
//! and mAP (multi-label), the same score per SoundFont, preset and mixture size, and the
//! report files a run folder keeps.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polyphon_core::manifest::{ManifestEntry, Split};
use polyphon_instruments::breakdown::{group_scores, groups_csv, GroupScore, Level};
use polyphon_instruments::evaluate::{confusion_csv, predictions_csv, write_text, FilePrediction};
use polyphon_instruments::metrics::MultiLabelReport;
use polyphon_instruments::{
    fit_thresholds, score, task_entries, Dataset, Evaluation, Task, Thresholds,
};

use crate::{decision_thresholds, invalid, run_folder, Context, InstrumentModel, Result};

/// What to score.
pub struct InstrumentsEvaluation<'a> {
    /// Run folder (or its model.json): where the reports go.
    pub run: &'a Path,
    /// The data set's manifest, as `polyphon synth` writes it.
    pub manifest: &'a Path,
    /// The split of the manifest to score.
    pub split: Split,
    /// One threshold for every family (multi-label); `None`: the run's fitted ones, else 0.5.
    pub threshold: Option<f64>,
    /// Fit each family's threshold on this split and save them in the run (multi-label).
    pub fit_thresholds: bool,
}

/// The scores, and how long features and prediction took; prints as the text report of
/// `polyphon eval instruments`.
pub struct InstrumentsReport {
    /// The manifest scored.
    pub manifest: PathBuf,
    /// The split scored.
    pub split: Split,
    /// Single-label or multi-label, as the model was trained.
    pub task: Task,
    /// The scores over the whole split.
    pub evaluation: Evaluation,
    /// The same score by SoundFont, preset, number of stems and number of families.
    pub breakdown: Breakdown,
    /// Wall time of computing the split's features, seconds.
    pub feature_seconds: f64,
    /// Wall time of prediction and scoring (threshold fitting included), seconds.
    pub predict_seconds: f64,
    /// Files scored.
    pub files: usize,
    /// Where `--fit-thresholds` wrote the thresholds, when it did.
    pub fitted_to: Option<PathBuf>,
}

impl InstrumentsReport {
    /// The report as one JSON object (the evaluation, timings and every breakdown).
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = serde_json::to_value(&self.evaluation).expect("plain data serialises");
        json["seconds"] = serde_json::json!({
            "features": self.feature_seconds, "predict": self.predict_seconds
        });
        let groups = |scores: &[GroupScore]| serde_json::to_value(scores).expect("plain data");
        json["by_soundfont"] = groups(&self.breakdown.fonts);
        json["by_preset"] = groups(&self.breakdown.presets);
        json["by_stems"] = groups(&self.breakdown.notes);
        json["by_families"] = groups(&self.breakdown.families);
        json
    }
}

/// Scores a model from `polyphon train instruments` on a split; writes
/// `RUN/confusion-<split>.csv` and `.png` (single-label), `RUN/groups-<split>.csv`,
/// `RUN/predictions-<split>.csv` and, when fitting, `RUN/thresholds.json`.
pub fn evaluate_instruments(what: &InstrumentsEvaluation) -> Result<InstrumentsReport> {
    let model = InstrumentModel::load(what.run)?;
    let classes = model.classes();
    let run_dir = run_folder(what.run);
    if what.fit_thresholds && model.task() != Task::Multi {
        return invalid!("fitting thresholds is for multi-label models; this one is single-label");
    }
    let fitted = Thresholds::load_from_run(&run_dir)?;
    let mut thresholds = decision_thresholds(what.threshold, fitted.as_ref(), &classes)?;
    let started = Instant::now();
    let data = model.load_split(what.manifest, what.split)?;
    let feature_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let proba = model.predict(&data.features)?;
    let mut fitted_to = None;
    if what.fit_thresholds {
        thresholds = fit_and_save_thresholds(what, &run_dir, &classes, &data, &proba)?;
        fitted_to = Some(run_dir.join(polyphon_instruments::thresholds::THRESHOLDS_FILE));
    }
    let evaluation = score(model.task(), &classes, &proba, &data, &thresholds)?;
    let predict_seconds = started.elapsed().as_secs_f64();
    let entries: Vec<ManifestEntry> = task_entries(what.manifest, what.split, model.task())?
        .into_iter()
        .map(|(entry, _)| entry)
        .collect();
    let synthesizers: Vec<String> = entries.iter().map(|e| e.synthesizer.clone()).collect();
    let by = |level| group_scores(&data, &synthesizers, &proba, &thresholds, level);
    let breakdown = Breakdown {
        fonts: by(Level::SoundFont),
        presets: by(Level::Preset),
        notes: by(Level::Stems),
        families: by(Level::Families),
    };
    if let Evaluation::Single {
        classes, confusion, ..
    } = &evaluation
    {
        write_confusion(&run_dir, what.split, classes, confusion)?;
    }
    let split = what.split.name();
    write_text(
        &run_dir.join(format!("groups-{split}.csv")),
        &groups_csv(&breakdown.all()),
    )?;
    let rows: Vec<FilePrediction> = (0..data.len())
        .map(|i| FilePrediction {
            file: &entries[i].file,
            synthesizer: &entries[i].synthesizer,
            source: entries[i].source.as_deref().unwrap_or(""),
            target: data.target(i),
            proba: &proba[i * classes.len()..(i + 1) * classes.len()],
        })
        .collect();
    let predictions = predictions_csv(model.task(), &classes, &thresholds, &rows);
    write_text(
        &run_dir.join(format!("predictions-{split}.csv")),
        &predictions,
    )?;
    Ok(InstrumentsReport {
        manifest: what.manifest.to_path_buf(),
        split: what.split,
        task: model.task(),
        evaluation,
        breakdown,
        feature_seconds,
        predict_seconds,
        files: data.len(),
        fitted_to,
    })
}

/// Each class's threshold fitted on the scored split, saved in the run.
fn fit_and_save_thresholds(
    args: &InstrumentsEvaluation,
    run_dir: &Path,
    classes: &[String],
    data: &Dataset,
    proba: &[f64],
) -> Result<Vec<f64>> {
    let thresholds = fit_thresholds(&data.target_bools(), proba, classes.len());
    let fitted = Thresholds {
        classes: classes.to_vec(),
        thresholds: thresholds.clone(),
        fitted_on: format!(
            "{}, {} split ({} files)",
            args.manifest.display(),
            args.split.name(),
            data.len()
        ),
    };
    fitted.save_to_run(run_dir)?;
    Ok(thresholds)
}

/// RUN/confusion-<split>.csv and .png.
fn write_confusion(
    dir: &Path,
    split: Split,
    classes: &[String],
    matrix: &[Vec<u64>],
) -> Result<()> {
    let stem = dir.join(format!("confusion-{}", split.name()));
    write_text(&stem.with_extension("csv"), &confusion_csv(classes, matrix))?;
    let title = format!("confusion matrix ({} split)", split.name());
    polyphon_instruments::plot::confusion_png(&stem.with_extension("png"), matrix, classes, &title)
        .context(|| "confusion matrix PNG".to_string())?;
    Ok(())
}

fn table(evaluation: &Evaluation, data: &Path, split: Split) -> String {
    match evaluation {
        Evaluation::Single {
            classes,
            files,
            accuracy,
            confusion,
        } => single_table(classes, *files, *accuracy, confusion, data, split),
        Evaluation::Multi {
            classes,
            files,
            thresholds,
            report,
        } => multi_table(classes, *files, thresholds, report, data, split),
    }
}

fn single_table(
    classes: &[String],
    files: usize,
    accuracy: f64,
    confusion: &[Vec<u64>],
    data: &Path,
    split: Split,
) -> String {
    let mut text = format!(
        "{} ({} split, {files} files): accuracy {accuracy:.4}\nconfusion (rows: true, columns: predicted)\n{:>10}",
        data.display(),
        split.name(),
        ""
    );
    for class in classes {
        text.push_str(&format!("{class:>10}"));
    }
    text.push('\n');
    for (class, row) in classes.iter().zip(confusion) {
        text.push_str(&format!("{class:>10}"));
        for count in row {
            text.push_str(&format!("{count:>10}"));
        }
        text.push('\n');
    }
    text
}

fn multi_table(
    classes: &[String],
    files: usize,
    thresholds: &[f64],
    report: &MultiLabelReport,
    data: &Path,
    split: Split,
) -> String {
    let mut text = format!(
        "{} ({} split, {files} files)\n{:<10}{:>10}{:>10}{:>10}{:>10}{:>9}{:>11}\n",
        data.display(),
        split.name(),
        "family",
        "precision",
        "recall",
        "F1",
        "AP",
        "support",
        "threshold"
    );
    for (((class, scores), ap), threshold) in classes
        .iter()
        .zip(&report.per_class)
        .zip(&report.average_precision)
        .zip(thresholds)
    {
        text.push_str(&format!(
            "{class:<10}{:>10.4}{:>10.4}{:>10.4}{ap:>10.4}{:>9}{threshold:>11.2}\n",
            scores.precision, scores.recall, scores.f1, scores.support
        ));
    }
    text.push_str(&format!(
        "exact match {:.4}, Hamming accuracy {:.4}, macro F1 {:.4}, mAP {:.4}\n",
        report.exact_match, report.hamming_accuracy, report.macro_f1, report.mean_average_precision
    ));
    text
}

/// The scores by group, one list per [`Level`].
pub struct Breakdown {
    /// By SoundFont ([`Level::SoundFont`]).
    pub fonts: Vec<GroupScore>,
    /// By preset: SoundFont, bank and program ([`Level::Preset`]).
    pub presets: Vec<GroupScore>,
    /// By number of stems (notes) in the file ([`Level::Stems`]).
    pub notes: Vec<GroupScore>,
    /// By number of families present ([`Level::Families`]).
    pub families: Vec<GroupScore>,
}

impl Breakdown {
    fn all(&self) -> Vec<GroupScore> {
        [&self.fonts, &self.presets, &self.notes, &self.families]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }
}

/// Every SoundFont's score, the five worst presets' and, for mixtures, the score by number of
/// notes and of families.
fn groups_table(task: Task, breakdown: &Breakdown) -> String {
    let metric = match task {
        Task::Single => "accuracy",
        Task::Multi => "Hamming accuracy",
    };
    let rows = |heading: String, scores: &[&GroupScore]| {
        let mut text = heading + "\n";
        for s in scores {
            text.push_str(&format!(
                "  {:<32}{:>6} files{:>9.4}\n",
                s.group, s.files, s.score
            ));
        }
        text
    };
    let mut worst: Vec<&GroupScore> = breakdown.presets.iter().collect();
    worst.sort_by(|a, b| {
        a.score
            .total_cmp(&b.score)
            .then_with(|| a.group.cmp(&b.group))
    });
    worst.truncate(5);
    let mut text = rows(
        format!("{metric} by SoundFont (files with a stem from it)"),
        &breakdown.fonts.iter().collect::<Vec<_>>(),
    );
    text += &rows(format!("worst presets by {metric}"), &worst);
    if breakdown.notes.len() > 1 || breakdown.families.len() > 1 {
        for (count, scores) in [
            ("notes", &breakdown.notes),
            ("families", &breakdown.families),
        ] {
            text += &rows(
                format!("{metric} by number of {count}"),
                &scores.iter().collect::<Vec<_>>(),
            );
        }
    }
    text
}

impl fmt::Display for InstrumentsReport {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", table(&self.evaluation, &self.manifest, self.split))?;
        write!(f, "{}", groups_table(self.task, &self.breakdown))?;
        let files = self.files as f64;
        writeln!(
            f,
            "features {:.2} s ({:.0} files/s), prediction {:.3} s ({:.0} files/s)",
            self.feature_seconds,
            files / self.feature_seconds,
            self.predict_seconds,
            files / self.predict_seconds
        )
    }
}
