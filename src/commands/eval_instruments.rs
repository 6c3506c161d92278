//! `polyphon eval instruments`: a trained instrument classifier scored on a data-set split.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use polyphon_instruments::breakdown::{group_scores, groups_csv, GroupScore, Level};
use polyphon_instruments::evaluate::{confusion_csv, predictions_csv, write_text, FilePrediction};
use polyphon_instruments::metrics::MultiLabelReport;
use polyphon_instruments::thresholds::THRESHOLDS_FILE;
use polyphon_instruments::{
    fit_thresholds, score, task_entries, Dataset, Evaluation, Task, Thresholds,
};
use polyphon_synth::manifest::{ManifestEntry, Split};

pub mod classifier;
pub use classifier::{decision_thresholds, run_folder, InstrumentClassifier};

#[derive(Args)]
#[command(
    about = "Instrument recognition: accuracy and confusion matrix, or per-family P/R/F1, exact match, Hamming accuracy, mAP",
    long_about = "Scores a model from `polyphon train instruments` on one split of a manifest, \
        with scikit-learn's definitions:\n\
        * single-label: accuracy (accuracy_score) and the confusion matrix (rows: true family, \
        columns: predicted), written as RUN/confusion-<split>.csv and .png;\n\
        * multi-label (a family is predicted when its probability reaches its threshold: \
        --threshold for every family, else the run's thresholds.json, else 0.5): per-family \
        precision, recall, F1 (precision_recall_fscore_support, 0 where undefined), exact \
        match (the whole set right, accuracy_score), Hamming accuracy (1 - hamming_loss) and \
        mean average precision (average_precision_score, macro, from the probabilities).\n\
        The same score (accuracy, or Hamming accuracy) is also given per SoundFont and per \
        preset of the manifest's `synthesizer` (a mixture counts in each of its stems'), in \
        RUN/groups-<split>.csv; the text lists every SoundFont, the five worst presets and, for \
        mixtures, the score by number of notes and by number of families present (notes can \
        share a family). Every file's true and predicted families and \
        probabilities go to RUN/predictions-<split>.csv, for error analysis.\n\
        --fit-thresholds (multi-label) chooses each family's threshold for the best accuracy \
        on the scored split, among 0.05, 0.10, ..., 0.95, and writes RUN/thresholds.json, \
        which later `eval instruments` and `classify` runs use: fit on valid, score on test.\n\
        Also reports the time spent on features and on prediction.",
    after_help = "Examples:\n  \
        polyphon eval instruments --model runs/gbdt-single --data data/notes/notes.jsonl --split test\n  \
        polyphon eval instruments --model runs/gbdt-multi --data data/mixtures/mixtures.jsonl --split test --json\n  \
        polyphon eval instruments --model runs/resnet18-multi --data data/mixtures/mixtures.jsonl --split test\n  \
        polyphon eval instruments --model runs/mlp-multi --data data/mixtures/mixtures.jsonl --split valid --fit-thresholds\n\n\
        The files scored are those the model's task keeps (see `polyphon train instruments --help`)."
)]
pub struct InstrumentsArgs {
    /// Run folder of `polyphon train instruments` (or its model.json): trees or a network
    #[arg(long, value_name = "RUN")]
    model: PathBuf,
    /// Manifest (JSON lines)
    #[arg(long, value_name = "MANIFEST")]
    data: PathBuf,
    /// Split to score: train, valid or test
    #[arg(long, default_value = "test")]
    split: Split,
    /// Multi-label: probability at which every family counts as present (default: the run's
    /// thresholds.json, else 0.5)
    #[arg(long)]
    threshold: Option<f64>,
    /// Multi-label: fit each family's threshold on this split, write RUN/thresholds.json
    #[arg(long, conflicts_with = "threshold")]
    fit_thresholds: bool,
    /// Print the scores as one JSON object
    #[arg(long)]
    json: bool,
}

pub fn run(args: &InstrumentsArgs) -> Result<()> {
    let model = InstrumentClassifier::load(&args.model)?;
    let classes = model.classes();
    let run_dir = run_folder(&args.model);
    if args.fit_thresholds && model.task() != Task::Multi {
        anyhow::bail!("--fit-thresholds is for multi-label models; this one is single-label");
    }
    let fitted = Thresholds::load_from_run(&run_dir)?;
    let mut thresholds = decision_thresholds(args.threshold, fitted.as_ref(), &classes)?;
    let started = Instant::now();
    let data = model.load_split(&args.data, args.split)?;
    let feature_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let proba = model.predict(&data.features)?;
    if args.fit_thresholds {
        thresholds = fit_and_save_thresholds(args, &run_dir, &classes, &data, &proba)?;
    }
    let evaluation = score(model.task(), &classes, &proba, &data, &thresholds)?;
    let predict_seconds = started.elapsed().as_secs_f64();
    let entries: Vec<ManifestEntry> = task_entries(&args.data, args.split, model.task())?
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
        write_confusion(&run_dir, args.split, classes, confusion)?;
    }
    let split = args.split.name();
    let groups = breakdown.all();
    write_text(
        &run_dir.join(format!("groups-{split}.csv")),
        &groups_csv(&groups),
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
    if args.json {
        let mut json = serde_json::to_value(&evaluation)?;
        json["seconds"] =
            serde_json::json!({"features": feature_seconds, "predict": predict_seconds});
        json["by_soundfont"] = serde_json::to_value(&breakdown.fonts)?;
        json["by_preset"] = serde_json::to_value(&breakdown.presets)?;
        json["by_stems"] = serde_json::to_value(&breakdown.notes)?;
        json["by_families"] = serde_json::to_value(&breakdown.families)?;
        println!("{}", serde_json::to_string(&json)?);
    } else {
        print!("{}", table(&evaluation, &args.data, args.split));
        print!("{}", groups_table(model.task(), &breakdown));
        let files = data.len() as f64;
        println!(
            "features {feature_seconds:.2} s ({:.0} files/s), prediction {predict_seconds:.3} s ({:.0} files/s)",
            files / feature_seconds,
            files / predict_seconds
        );
    }
    Ok(())
}

/// `--fit-thresholds`: each class's threshold fitted on the scored split, saved in the run.
fn fit_and_save_thresholds(
    args: &InstrumentsArgs,
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
            args.data.display(),
            args.split.name(),
            data.len()
        ),
    };
    fitted.save_to_run(run_dir)?;
    eprintln!(
        "thresholds fitted on this split, written to {}",
        run_dir.join(THRESHOLDS_FILE).display()
    );
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
        .context("confusion matrix PNG")?;
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
struct Breakdown {
    fonts: Vec<GroupScore>,
    presets: Vec<GroupScore>,
    notes: Vec<GroupScore>,
    families: Vec<GroupScore>,
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
