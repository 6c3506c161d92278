//! `polyphon eval transcription`: note lists scored with mir_eval's definitions, one pair or
//! a whole data-set split (a model of ours, or a folder of another system's outputs).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use polyphon::decode::NoteDecoder;
use polyphon::evaluation::transcription::{evaluate_split, mean, write_per_file_csv, Estimates};
use polyphon::metrics::evaluate_transcription;
use polyphon::notes::{read_notes, Split};

#[derive(Args)]
pub struct TranscriptionArgs {
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

pub fn run(args: &TranscriptionArgs) -> anyhow::Result<()> {
    if let Some(manifest) = &args.data {
        return run_dataset(args, manifest);
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
        print!("{report}");
    }
    Ok(())
}

/// `--data`: every file of a split (or `--files` of them), the mean of their scores.
fn run_dataset(args: &TranscriptionArgs, manifest: &std::path::Path) -> anyhow::Result<()> {
    let split: Split = args.split.parse().map_err(anyhow::Error::msg)?;
    let transcriber;
    let estimates = match &args.est_dir {
        Some(folder) => Estimates::Folder(folder),
        None => {
            transcriber = crate::commands::transcribe::transcriber(
                args.model.as_deref(),
                args.threshold,
                args.min_frames,
                args.max_gap,
            )?;
            Estimates::Model(&transcriber)
        }
    };
    let reports = evaluate_split(
        manifest,
        split,
        &estimates,
        args.files,
        |done, total, file| {
            if !args.json {
                eprintln!(
                    "[{done}/{total}] {}: frame F1 {:.3}, onset F1 {:.3}",
                    file.entry.file, file.report.frame.f1, file.report.onset.f1
                );
            }
        },
    )?;
    if let Some(path) = &args.per_file {
        write_per_file_csv(path, &reports)?;
    }
    let mean = mean(&reports).expect("a split has files");
    if args.json {
        println!("{}", mean.to_json());
    } else {
        print!("{mean}");
        println!(
            "mean over {} files of split '{}' in {}",
            reports.len(),
            args.split,
            manifest.display()
        );
    }
    Ok(())
}
