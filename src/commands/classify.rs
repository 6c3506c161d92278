//! `polyphon classify`: which instrument families sound in each audio file, or in each
//! segment of a long one.

use std::path::{Path, PathBuf};

use crate::progress::report;

use anyhow::{Context, Result};
use clap::Args;
use polyphon::{Classifier, Segments};

#[derive(Args)]
#[command(
    about = "Instrument families in audio files, with probabilities",
    long_about = "Runs an instrument model on each file: by default the bundled 6-family \
        multi-label network (bass, flute, guitar, keyboard, organ, vocal), the bundled \
        4-family single-label network with `--model frame-mlp-instruments-single` or trees with \
        `--model gbdt-instruments-single`, or any run of \
        `polyphon train instruments` (trees or network) with --model. Models look at the \
        first 4 s of a file, as they were trained; --segment classifies a long file in \
        consecutive segments instead. A multi-label model lists every family whose \
        probability reaches its threshold (the model's thresholds.json, as the bundled model \
        has, else 0.5; --threshold sets one for all); a single-label model names the most \
        probable family.",
    after_help = "Examples:\n  \
        polyphon classify note.wav\n  \
        polyphon classify note.wav --model frame-mlp-instruments-single\n  \
        polyphon classify note.wav --model gbdt-instruments-single\n  \
        polyphon classify a.wav b.flac --model runs/gbdt-single --json\n  \
        polyphon classify --list files.txt --shard 1/8 --json --status classify-1.jsonl\n  \
        polyphon classify mix.wav --model runs/gbdt-multi/model.json --threshold 0.3\n  \
        polyphon classify song.wav --segment 4s --timeline song-instruments.png\n\n\
        --json prints one object per line and file with every family's probability:\n  \
        {\"file\": \"a.wav\", \"labels\": {\"bass\": 0.01, \"flute\": 0.93, ...}}\n\
        and with --segment a list of {\"start\": s, \"end\": s, \"labels\": {...}} as \"segments\"."
)]
pub struct ClassifyArgs {
    /// Audio files (WAV, FLAC, MP3, Ogg Vorbis)
    #[arg(value_name = "IN", required_unless_present = "list")]
    inputs: Vec<PathBuf>,
    /// Run folder or model.json of `polyphon train instruments`, or a bundled model:
    /// frame-mlp-instruments-multi (default), frame-mlp-instruments-single or
    /// gbdt-instruments-single
    #[arg(long, value_name = "RUN")]
    model: Option<PathBuf>,
    /// Multi-label: probability at which every family is listed (default: the model's
    /// thresholds.json, fitted by `eval instruments --fit-thresholds`, else 0.5)
    #[arg(long)]
    threshold: Option<f64>,
    /// One JSON object per line and file: {"file": .., "labels": {"<family>": p, ...}}
    #[arg(long)]
    json: bool,
    /// Classify consecutive segments of this length (e.g. 4s, 2.5s) instead of the file's start
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    segment: Option<f64>,
    /// With --segment: draw each family's probability over time into this PNG (one file only)
    #[arg(long, value_name = "PNG", requires = "segment")]
    timeline: Option<PathBuf>,
    #[command(flatten)]
    batch: polyphon::batch::BatchOptions,
}

fn parse_seconds(text: &str) -> std::result::Result<f64, String> {
    let number = text.strip_suffix('s').unwrap_or(text);
    match number.parse::<f64>() {
        Ok(seconds) if seconds >= 0.5 && seconds.is_finite() => Ok(seconds),
        _ => Err(format!(
            "'{text}' is not a length of at least 0.5 s (e.g. 4s)"
        )),
    }
}

pub fn run(args: ClassifyArgs) -> Result<()> {
    if args.timeline.is_some() && args.inputs.len() != 1 {
        anyhow::bail!("--timeline draws one file: give one input");
    }
    let choice = args.model.as_deref().map(|path| path.to_string_lossy());
    let choice = choice
        .as_deref()
        .unwrap_or(polyphon::bundled::DEFAULT_INSTRUMENTS);
    let model = Classifier::from_name_or_path(choice)?;
    let thresholds = model.thresholds(args.threshold)?;
    match args.segment {
        Some(seconds) => run_segments(&args, &model, &thresholds, seconds),
        None => run_files(&args, &model, &thresholds),
    }
}

fn run_files(args: &ClassifyArgs, model: &Classifier, thresholds: &[f64]) -> Result<()> {
    let inputs = args.batch.inputs(&args.inputs)?;
    if let ([input], false) = (&inputs[..], args.batch.is_batch()) {
        let p = model.classify_files(std::slice::from_ref(input))?;
        println!("{}", line(args, model, thresholds, input, &p)?);
        return Ok(());
    }
    // Classified in parallel, then reported in order.
    let mut results = model.classify_each(&inputs).into_iter();
    let job = |input: &Path| -> Result<String> {
        let p = results.next().expect("one result per input")?;
        line(args, model, thresholds, input, &p)
    };
    let no_outputs = |_: &Path| Vec::new();
    args.batch.run(&inputs, no_outputs, job, report)?.check()?;
    Ok(())
}

fn line(
    args: &ClassifyArgs,
    model: &Classifier,
    thresholds: &[f64],
    file: &Path,
    p: &[f64],
) -> Result<String> {
    if args.json {
        let line =
            serde_json::json!({"file": file.display().to_string(), "labels": model.labels_json(p)});
        return Ok(serde_json::to_string(&line)?);
    }
    Ok(format!(
        "{}: {}",
        file.display(),
        model.describe(p, thresholds)
    ))
}

fn run_segments(
    args: &ClassifyArgs,
    model: &Classifier,
    thresholds: &[f64],
    seconds: f64,
) -> Result<()> {
    let classes = model.classes();
    let inputs = args.batch.inputs(&args.inputs)?;
    let all: Vec<Segments> = inputs
        .iter()
        .map(|file| model.classify_segments(file, seconds).map_err(Into::into))
        .collect::<Result<_>>()?;
    if let Some(png) = &args.timeline {
        let name = inputs[0].file_name().unwrap_or_default().to_string_lossy();
        let title = format!("instruments in {name}");
        polyphon::instruments::plot::timeline_png(png, &title, &classes, &all[0], thresholds)
            .with_context(|| format!("writing the timeline {}", png.display()))?;
    }
    for (file, segments) in inputs.iter().zip(&all) {
        if args.json {
            let list: Vec<_> = segments
                .iter()
                .map(|(start, end, p)| {
                    serde_json::json!({"start": start, "end": end, "labels": model.labels_json(p)})
                })
                .collect();
            let line = serde_json::json!({"file": file.display().to_string(), "segments": list});
            println!("{}", serde_json::to_string(&line)?);
        } else {
            println!("{}:", file.display());
            for (start, end, p) in segments {
                let listed = model.describe(p, thresholds);
                println!("  {start:>7.2} - {end:>7.2} s  {listed}");
            }
        }
    }
    if let Some(png) = &args.timeline {
        eprintln!("timeline -> {}", png.display());
    }
    Ok(())
}
