//! `polyphon eval`: score outputs against references with mir_eval's metrics.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use polyphon_decode::NoteDecoder;
use polyphon_eval::{evaluate_transcription, read_notes, TranscriptionReport};

#[derive(Args)]
#[command(about = "Score outputs against references with mir_eval's metrics")]
pub struct EvalArgs {
    #[command(subcommand)]
    task: EvalTask,
}

#[derive(Subcommand)]
enum EvalTask {
    /// Transcription: frame-level (100 frames/s) and note-level precision, recall, F1
    #[command(
        long_about = "Transcription scores equal to mir_eval 0.8.2:\n\
            * frame: mir_eval.multipitch precision, recall, accuracy on 100 frames/s piano \
            rolls (pitches quantised to MIDI numbers; a note sounds in frame k when \
            onset <= k/100 < offset), F1 = 2PR/(P+R);\n\
            * onset: mir_eval.transcription.precision_recall_f1_overlap with offsets ignored \
            (onset within 50 ms, pitch within 50 cents);\n\
            * onset_offset: the same, and the offset within 20 % of the reference duration \
            or 50 ms, whichever is larger.\n\
            Notes are matched by mir_eval's maximum bipartite matching.",
        after_help = "Examples:\n  \
            polyphon eval transcription --ref piece.mid --est piece.notes.csv\n  \
            polyphon eval transcription --ref piece.csv --est piece.est.mid --json\n  \
            polyphon eval transcription --data data/pieces/pieces.jsonl --split test --model convnet-pieces\n  \
            polyphon eval transcription --data data/pieces/pieces.jsonl --split test --est-dir basic-pitch/ --files 24\n\n\
            CSV note lists: rows onset,offset,pitch,velocity (seconds, MIDI pitch); \
            the header row is optional. With --data, every file of the split is scored \
            (or --files of them, spread evenly) and the scores are averaged over files."
    )]
    Transcription(TranscriptionArgs),
    Separation(super::eval_separation::SeparationArgs),
    Instruments(super::eval_instruments::InstrumentsArgs),
}

#[derive(Args)]
struct TranscriptionArgs {
    /// Reference notes: CSV (onset,offset,pitch,velocity) or MIDI file
    #[arg(
        long = "ref",
        value_name = "REF.csv|REF.mid",
        required_unless_present = "data",
        requires = "estimate"
    )]
    reference: Option<PathBuf>,
    /// Estimated notes: CSV (onset,offset,pitch,velocity) or MIDI file
    #[arg(long = "est", value_name = "EST.csv|EST.mid", conflicts_with = "data")]
    estimate: Option<PathBuf>,
    /// Score a data set instead: a `polyphon synth` manifest (references: its note lists)
    #[arg(long, value_name = "MANIFEST", conflicts_with = "reference")]
    data: Option<PathBuf>,
    /// Split of --data to score: train, valid or test
    #[arg(long, default_value = "test", requires = "data")]
    split: String,
    /// With --data: transcribe with this model, a bundled name or a sidecar path
    /// [default: the bundled convnet-pieces]
    #[arg(
        long,
        value_name = "NAME|PATH",
        requires = "data",
        conflicts_with = "est_dir"
    )]
    model: Option<String>,
    /// With --data: read another system's estimates, <DIR>/<audio stem>.csv or .mid
    #[arg(long, value_name = "DIR", requires = "data")]
    est_dir: Option<PathBuf>,
    /// With --data: score this many files, spread evenly over the split (0: all)
    #[arg(long, default_value_t = 0, requires = "data")]
    files: usize,
    /// With --data: also write every file's scores to this CSV
    #[arg(long, value_name = "CSV", requires = "data")]
    per_file: Option<PathBuf>,
    /// With --model: the note rule of `polyphon transcribe` (probability threshold)
    #[arg(long, default_value_t = NoteDecoder::default().threshold, requires = "data")]
    threshold: f32,
    /// With --model: shortest note kept, in frames
    #[arg(long, default_value_t = NoteDecoder::default().min_frames, requires = "data")]
    min_frames: usize,
    /// With --model: longest gap inside one note, in frames
    #[arg(long, default_value_t = NoteDecoder::default().max_gap_frames, requires = "data")]
    max_gap: usize,
    /// Print one JSON object {"frame": {...}, "onset": {...}, "onset_offset": {...}}
    #[arg(long)]
    json: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.task {
        EvalTask::Transcription(args) => run_transcription(&args),
        EvalTask::Separation(args) => super::eval_separation::run(&args),
        EvalTask::Instruments(args) => super::eval_instruments::run(&args),
    }
}

fn run_transcription(args: &TranscriptionArgs) -> anyhow::Result<()> {
    if let Some(manifest) = &args.data {
        return super::eval_dataset::run(&super::eval_dataset::DatasetEval {
            manifest,
            split: &args.split,
            estimates: match &args.est_dir {
                Some(folder) => super::eval_dataset::Estimates::Folder(folder),
                None => super::eval_dataset::Estimates::Model(args.model.as_deref()),
            },
            files: args.files,
            per_file_csv: args.per_file.as_deref(),
            json: args.json,
            note_rule: (args.threshold, args.min_frames, args.max_gap),
        });
    }
    let (Some(reference_path), Some(estimate_path)) = (&args.reference, &args.estimate) else {
        anyhow::bail!("give --ref and --est, or --data");
    };
    let reference = read_notes(reference_path)?;
    let estimate = read_notes(estimate_path)?;
    let report = evaluate_transcription(&reference, &estimate).with_context(|| {
        format!(
            "cannot score {} against {}",
            estimate_path.display(),
            reference_path.display()
        )
    })?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        println!(
            "{} ({} notes) against {} ({} notes)",
            estimate_path.display(),
            estimate.len(),
            reference_path.display(),
            reference.len()
        );
        print_scores(&report);
    }
    Ok(())
}

/// The scores as a table: frame, onset and onset+offset rows.
pub fn print_scores(report: &TranscriptionReport) {
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>9}",
        "", "precision", "recall", "F1", "accuracy"
    );
    let frame = &report.frame;
    println!(
        "{:<14} {:>9.4} {:>9.4} {:>9.4} {:>9.4}",
        "frame", frame.precision, frame.recall, frame.f1, frame.accuracy
    );
    for (label, scores) in [
        ("onset", &report.onset),
        ("onset+offset", &report.onset_offset),
    ] {
        println!(
            "{:<14} {:>9.4} {:>9.4} {:>9.4} {:>9}",
            label, scores.precision, scores.recall, scores.f1, "-"
        );
    }
}
