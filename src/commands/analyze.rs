//! `polyphon analyze`: analyses of transcriptions beyond their scores.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use polyphon::analysis::frames::DEFAULT_FPS;
use polyphon::analysis::sources::{parse_split, training_set};
use polyphon::analysis::{write_report, Entanglement, EntanglementReport, ReportOptions};
use polyphon::bundled::DEFAULT_TRANSCRIPTION;
use polyphon::evaluation::entanglement::model_frames;
use polyphon::notes::read_notes;
use polyphon::Transcriber;

#[derive(Args)]
#[command(about = "Analyse transcriptions: which note combinations they get right")]
pub struct AnalyzeArgs {
    #[command(subcommand)]
    task: AnalyzeTask,
}

#[derive(Subcommand)]
enum AnalyzeTask {
    /// Entanglement analysis (Kelz & Widmer 2017): exact / added / omitted frames per note
    /// combination, for combinations shared with the training data and unshared ones
    #[command(
        long_about = "Entanglement analysis (Kelz & Widmer 2017).\n\n\
            Every frame (100 per second by default; a note sounds in frame k when \
            onset <= k/fps < offset) is filed under its reference note set, its combination. \
            Per combination: the share of its frames transcribed exactly (estimate = \
            reference), with notes added (a note the reference lacks) and with notes omitted \
            (a reference note missing); a frame can be both added and omitted. A combination \
            is shared when it occurs in the training data's reference frames, unshared \
            otherwise. Silent reference frames are reported apart. See docs/analysis.md.",
        after_help = "Examples:\n  \
            polyphon analyze entanglement --train data/pieces/pieces.jsonl \\\n      \
            --ref piece1.mid --est piece1.est.csv --ref piece2.mid --est piece2.est.csv \\\n      \
            --out analysis/\n  \
            polyphon analyze entanglement --train train1.mid --train train2.csv \\\n      \
            --ref test.csv --est test.est.mid --out analysis/ --top 20\n  \
            polyphon analyze entanglement --model runs/combi/model.json \\\n      \
            --train data/fluid/fluid-combi.jsonl --eval data/fluid/fluid-combi.jsonl --eval-split test --out combi-isol/\n\n\
            --ref and --est are paired in the order given. A --train ending in .jsonl is a \
            `polyphon synth` manifest: the label CSVs of its --train-split entries define the \
            shared combinations; any other --train is a note list.\n\
            Writes OUT/combinations.csv (one row per reference combination, most frames \
            first), OUT/summary.json (totals per group and number of notes), \
            OUT/shared.png and OUT/unshared.png (the --top most frequent combinations of each \
            group) and OUT/report.md (tables and both charts).\n\
            CSV note lists: rows onset,offset,pitch,velocity (seconds, MIDI pitch); the \
            header row is optional."
    )]
    Entanglement(EntanglementArgs),
}

#[derive(Args)]
struct EntanglementArgs {
    /// Reference notes of one evaluation piece: CSV or MIDI (repeat, paired with --est)
    #[arg(
        long = "ref",
        value_name = "REF.csv|REF.mid",
        required_unless_present = "eval"
    )]
    reference: Vec<PathBuf>,
    /// Estimated notes of the same piece: CSV or MIDI (repeat, in the order of --ref)
    #[arg(
        long = "est",
        value_name = "EST.csv|EST.mid",
        required_unless_present = "eval"
    )]
    estimate: Vec<PathBuf>,
    /// Instead of --ref/--est: run --model on every file of --eval-split of this
    /// `polyphon synth` manifest; a key sounds in a frame when its probability is at least
    /// --threshold (no note post-processing, as in Kelz & Widmer 2017)
    #[arg(long, value_name = "MANIFEST.jsonl", conflicts_with_all = ["reference", "estimate"])]
    eval: Option<PathBuf>,
    /// With --eval: the split to analyse
    #[arg(long, default_value = "test")]
    eval_split: String,
    /// With --eval: a bundled model name or a sidecar written by `polyphon train`
    /// [default: the bundled convnet-pieces]
    #[arg(long, value_name = "NAME|PATH", requires = "eval")]
    model: Option<String>,
    /// With --eval: frame probability at which a key counts as sounding
    #[arg(long, default_value_t = 0.5)]
    threshold: f32,
    /// Training data: a manifest (.jsonl) or note lists (.csv, .mid; repeat)
    #[arg(long, value_name = "MANIFEST.jsonl|NOTES", required = true)]
    train: Vec<PathBuf>,
    /// The split of a --train manifest that was trained on: train, valid or test
    #[arg(long, default_value = "train")]
    train_split: String,
    /// Output folder (created if missing; its report files are replaced)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// How many of the most frequent combinations of each group to chart
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Frames per second note lists are rasterised at
    #[arg(long, default_value_t = DEFAULT_FPS)]
    fps: f64,
}

pub fn run(args: AnalyzeArgs) -> anyhow::Result<()> {
    match args.task {
        AnalyzeTask::Entanglement(args) => run_entanglement(&args),
    }
}

fn run_entanglement(args: &EntanglementArgs) -> anyhow::Result<()> {
    if args.reference.len() != args.estimate.len() {
        bail!(
            "{} --ref but {} --est: give one estimate per reference, in the same order",
            args.reference.len(),
            args.estimate.len()
        );
    }
    if !(args.fps.is_finite() && args.fps > 0.0) {
        bail!("--fps must be a positive number, not {}", args.fps);
    }
    if args.top == 0 {
        bail!("--top must be at least 1");
    }
    let split = parse_split(&args.train_split)?;

    // Read everything before writing anything: bad input leaves no output behind.
    let mut analysis = Entanglement::new(training_set(&args.train, split, args.fps)?);
    if let Some(manifest) = &args.eval {
        add_model_frames(&mut analysis, args, manifest)?;
    }
    for (reference, estimate) in args.reference.iter().zip(&args.estimate) {
        let reference_notes = read_notes(reference)?;
        let estimate_notes = read_notes(estimate)?;
        analysis.add_notes(&reference_notes, &estimate_notes, args.fps);
    }
    let report = EntanglementReport::new(&analysis);
    let options = ReportOptions {
        top: args.top,
        inputs: vec![
            ("reference".into(), paths_json(&args.reference)),
            ("estimate".into(), paths_json(&args.estimate)),
            ("train".into(), paths_json(&args.train)),
            ("train_split".into(), split.name().into()),
            ("fps".into(), args.fps.into()),
            (
                "eval".into(),
                args.eval
                    .as_ref()
                    .map_or(serde_json::Value::Null, |m| m.display().to_string().into()),
            ),
            ("eval_split".into(), args.eval_split.clone().into()),
            (
                "model".into(),
                args.model
                    .clone()
                    .unwrap_or_else(|| DEFAULT_TRANSCRIPTION.into())
                    .into(),
            ),
            ("threshold".into(), f64::from(args.threshold).into()),
        ],
    };
    let written = write_report(&args.out, &report, &options)
        .with_context(|| format!("cannot write the analysis to {}", args.out.display()))?;
    print!("{}", report.summary);
    let files = written
        .iter()
        .map(|p| p.file_name().unwrap_or_default().to_string_lossy());
    let names: Vec<_> = files.collect();
    println!("wrote {}: {}", args.out.display(), names.join(", "));
    Ok(())
}

/// Runs the model on every file of the evaluation split and adds its thresholded frames.
fn add_model_frames(
    analysis: &mut Entanglement,
    args: &EntanglementArgs,
    manifest: &Path,
) -> anyhow::Result<()> {
    if args.fps != DEFAULT_FPS {
        bail!("--eval runs the models at 100 frames per second; leave --fps at 100");
    }
    let choice = args.model.as_deref();
    let transcriber = Transcriber::from_name_or_path(choice.unwrap_or(DEFAULT_TRANSCRIPTION))?;
    let split = parse_split(&args.eval_split)?;
    let bar = indicatif::ProgressBar::new(0);
    let files = model_frames(
        &transcriber,
        manifest,
        split,
        args.threshold,
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    for (reference, estimate) in files {
        analysis.add_frames(&reference, &estimate)?;
    }
    Ok(())
}

fn paths_json(paths: &[PathBuf]) -> serde_json::Value {
    paths.iter().map(|p| p.display().to_string()).collect()
}
