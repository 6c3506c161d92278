//! `polyphon eval`: score outputs against references with mir_eval's, museval's and
//! scikit-learn's metrics.

mod instruments;
mod separation;
mod transcription;

use clap::{Args, Subcommand};

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
    Transcription(transcription::TranscriptionArgs),
    Separation(separation::SeparationArgs),
    Instruments(instruments::InstrumentsArgs),
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    match args.task {
        EvalTask::Transcription(args) => transcription::run(&args),
        EvalTask::Separation(args) => separation::run(&args),
        EvalTask::Instruments(args) => instruments::run(&args),
    }
}
