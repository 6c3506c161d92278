//! `polyphon classify`: which instrument families sound in each audio file.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use polyphon_instruments::evaluate::argmax;
use polyphon_instruments::{features_of_files, GbdtModel, Task};

use super::eval_instruments::model_path;

#[derive(Args)]
#[command(
    about = "Instrument families in audio files, with probabilities",
    long_about = "Runs an instrument model from `polyphon train instruments` on each file: the \
        file's 128-band log-mel spectrogram is pooled (mean and standard deviation per band over \
        4 equal time segments) as in training, so the models fit clips of a few seconds such \
        as single notes or short mixtures. A multi-label model lists every family whose \
        probability reaches --threshold; a single-label model names the most probable family.",
    after_help = "Examples:\n  \
        polyphon classify note.wav --model runs/gbdt-multi\n  \
        polyphon classify a.wav b.flac --model runs/gbdt-single --json\n  \
        polyphon classify mix.wav --model runs/gbdt-multi/model.json --threshold 0.3\n\n\
        --json prints one object per line and file with every family's probability:\n  \
        {\"file\": \"a.wav\", \"labels\": {\"bass\": 0.01, \"flute\": 0.93, ...}}"
)]
pub struct ClassifyArgs {
    /// Audio files (WAV, FLAC, MP3, Ogg Vorbis)
    #[arg(value_name = "IN", required = true)]
    inputs: Vec<PathBuf>,
    /// Run folder or model.json of `polyphon train instruments`
    #[arg(long, value_name = "RUN")]
    model: Option<PathBuf>,
    /// Multi-label: probability at which a family is listed
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// One JSON object per line and file: {"file": .., "labels": {"<family>": p, ...}}
    #[arg(long)]
    json: bool,
}

pub fn run(args: ClassifyArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.threshold) {
        anyhow::bail!("--threshold {} is not a probability", args.threshold);
    }
    let Some(model) = &args.model else {
        anyhow::bail!(
            "no bundled instrument model yet: give --model RUN (a folder written by `polyphon train instruments`)"
        );
    };
    let model = GbdtModel::load(&model_path(model))?;
    // Every file is read before anything is printed, so a bad file leaves no partial output.
    let features = features_of_files(&args.inputs, &model.pooling)?;
    let proba = model.predict_proba(&features)?;
    let k = model.classes.len();
    for (file, p) in args.inputs.iter().zip(proba.chunks(k)) {
        let line = if args.json {
            json_line(file, &model.classes, p)?
        } else {
            text_line(file, &model, p, args.threshold)
        };
        println!("{line}");
    }
    Ok(())
}

/// Probabilities rounded to 4 decimals: more would suggest a precision the model lacks.
fn rounded(p: f64) -> f64 {
    (p * 1e4).round() / 1e4
}

fn json_line(file: &std::path::Path, classes: &[String], p: &[f64]) -> Result<String> {
    let labels: serde_json::Map<String, serde_json::Value> = classes
        .iter()
        .zip(p)
        .map(|(class, &p)| (class.clone(), serde_json::json!(rounded(p))))
        .collect();
    let line = serde_json::json!({"file": file.display().to_string(), "labels": labels});
    Ok(serde_json::to_string(&line)?)
}

fn text_line(file: &std::path::Path, model: &GbdtModel, p: &[f64], threshold: f64) -> String {
    let mut order: Vec<usize> = (0..p.len()).collect();
    order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    let shown: Vec<usize> = match model.task {
        Task::Single => vec![argmax(p)],
        Task::Multi => order
            .iter()
            .copied()
            .filter(|&i| p[i] >= threshold)
            .collect(),
    };
    let listed: Vec<String> = shown
        .iter()
        .map(|&i| format!("{} {:.2}", model.classes[i], p[i]))
        .collect();
    if listed.is_empty() {
        let top = order[0];
        format!(
            "{}: none at or above {threshold} (most likely {} {:.2})",
            file.display(),
            model.classes[top],
            p[top]
        )
    } else {
        format!("{}: {}", file.display(), listed.join(", "))
    }
}
