//! `polyphon eval`: score outputs against references with mir_eval's metrics.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use polyphon_eval::{evaluate_transcription, read_notes, Note, TranscriptionReport};

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
            polyphon eval transcription --ref piece.csv --est piece.est.mid --json\n\n\
            CSV note lists: rows onset,offset,pitch,velocity (seconds, MIDI pitch); \
            the header row is optional."
    )]
    Transcription(TranscriptionArgs),
}

#[derive(Args)]
struct TranscriptionArgs {
    /// Reference notes: CSV (onset,offset,pitch,velocity) or MIDI file
    #[arg(long = "ref", value_name = "REF.csv|REF.mid")]
    reference: PathBuf,
    /// Estimated notes: CSV (onset,offset,pitch,velocity) or MIDI file
    #[arg(long = "est", value_name = "EST.csv|EST.mid")]
    estimate: PathBuf,
    /// Print one JSON object {"frame": {...}, "onset": {...}, "onset_offset": {...}}
    #[arg(long)]
    json: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.task {
        EvalTask::Transcription(args) => run_transcription(&args),
    }
}

fn run_transcription(args: &TranscriptionArgs) -> anyhow::Result<()> {
    let reference = read_notes(&args.reference)?;
    let estimate = read_notes(&args.estimate)?;
    let report = evaluate_transcription(&reference, &estimate).with_context(|| {
        format!(
            "cannot score {} against {}",
            args.estimate.display(),
            args.reference.display()
        )
    })?;
    if args.json {
        println!("{}", report.to_json());
    } else {
        print_table(&report, args, &reference, &estimate);
    }
    Ok(())
}

fn print_table(
    report: &TranscriptionReport,
    args: &TranscriptionArgs,
    reference: &[Note],
    estimate: &[Note],
) {
    println!(
        "{} ({} notes) against {} ({} notes)",
        args.estimate.display(),
        estimate.len(),
        args.reference.display(),
        reference.len()
    );
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
