//! `polyphon eval instruments`: a trained instrument classifier scored on a data-set split.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use polyphon::evaluation::instruments::{evaluate_instruments, InstrumentsEvaluation};
use polyphon::notes::Split;

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
    let report = evaluate_instruments(&InstrumentsEvaluation {
        run: &args.model,
        manifest: &args.data,
        split: args.split,
        threshold: args.threshold,
        fit_thresholds: args.fit_thresholds,
    })?;
    if let Some(path) = &report.fitted_to {
        eprintln!(
            "thresholds fitted on this split, written to {}",
            path.display()
        );
    }
    if args.json {
        println!("{}", serde_json::to_string(&report.to_json())?);
    } else {
        print!("{report}");
    }
    Ok(())
}
