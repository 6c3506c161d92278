//! `polyphon transcribe`: audio files to notes (MIDI, CSV), piano rolls and activations.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use polyphon::decode::NoteDecoder;
use polyphon::notes::Note;
use polyphon::{EngineChoice, Transcriber, TranscriptionOutputs as Outputs};

/// Transcribe polyphonic piano audio to notes.
///
/// The audio goes through the Kelz et al. 2016 front-end (229-bin log-filtered spectrogram,
/// 100 fps) and the network, in chunks, so memory stays flat however long the file. Frame
/// probabilities become notes by one rule: a key sounds in a frame when its probability is at
/// least --threshold; gaps of at most --max-gap frames are filled; notes shorter than
/// --min-frames frames are dropped; velocity encodes the note's mean probability.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  polyphon transcribe examples/piano_chord.wav
  polyphon transcribe piece.wav -o piece.mid --notes piece.csv --roll piece.png
  polyphon transcribe *.wav -o transcriptions/ --model runs/convnet/model.json
  polyphon transcribe --list files.txt --shard 0/4 -o midi/ --status status-0.jsonl

Without --model, the bundled ConvNet (convnet-pieces, trained on synthesized piano; see the
README) is used. Without -o, one input is written to <input stem>.mid in the current folder.
Several inputs must have distinct file stems, as their outputs share one folder.")]
pub struct TranscribeArgs {
    /// Input audio files (WAV, FLAC, MP3, Ogg Vorbis).
    #[arg(required_unless_present = "list")]
    pub inputs: Vec<PathBuf>,
    /// Output MIDI file, or a folder for several inputs (then `<stem>.mid` and, with the
    /// other flags, `<stem>.csv`, `<stem>.png`, `<stem>.npy` inside it)
    /// [default: <input stem>.mid, or the current folder for several inputs].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Bundled model name (convnet-pieces) or the `.json` sidecar written by
    /// `polyphon train transcription` [default: convnet-pieces].
    #[arg(long, value_name = "NAME|PATH")]
    pub model: Option<String>,
    /// Also write the notes as CSV (onset,offset,pitch,velocity; seconds).
    #[arg(long)]
    pub notes: Option<PathBuf>,
    /// Also draw the probabilities with the notes outlined (PNG).
    #[arg(long)]
    pub roll: Option<PathBuf>,
    /// Also write the raw frame probabilities, float32 (frames, keys), as .npy.
    #[arg(long)]
    pub frames: Option<PathBuf>,
    /// Probability at which a key counts as sounding.
    #[arg(long, default_value_t = NoteDecoder::default().threshold)]
    pub threshold: f32,
    /// Shortest note kept, in frames (10 ms each).
    #[arg(long, default_value_t = NoteDecoder::default().min_frames)]
    pub min_frames: usize,
    /// Longest silent gap inside one note, in frames.
    #[arg(long, default_value_t = NoteDecoder::default().max_gap_frames)]
    pub max_gap: usize,
    /// What computes the network; all give the same probabilities to within 1e-4.
    #[arg(long, value_enum, default_value = "auto")]
    pub engine: EngineChoice,
    /// Say which engine runs, and why auto did not take ONNX Runtime.
    #[arg(short, long)]
    pub verbose: bool,
    #[command(flatten)]
    pub batch: polyphon::batch::BatchOptions,
}

/// `--model NAME|PATH` (the bundled default without it) with the note rule of the flags.
pub fn transcriber(
    model: Option<&str>,
    threshold: f32,
    min_frames: usize,
    max_gap: usize,
) -> Result<Transcriber> {
    let choice = model.unwrap_or(polyphon::bundled::DEFAULT_TRANSCRIPTION);
    let transcriber = Transcriber::from_name_or_path(choice)?;
    Ok(transcriber.with_note_rule(threshold, min_frames, max_gap))
}

pub fn run(args: TranscribeArgs) -> Result<()> {
    let mut transcriber = transcriber(
        args.model.as_deref(),
        args.threshold,
        args.min_frames,
        args.max_gap,
    )?;
    let fallback;
    (transcriber, fallback) = transcriber.with_engine_choice(args.engine)?;
    if args.verbose {
        match fallback {
            Some(why) => eprintln!("engine: {} ({why})", transcriber.engine().name()),
            None => eprintln!("engine: {}", transcriber.engine().name()),
        }
    }
    let inputs = args.batch.inputs(&args.inputs)?;
    let several = inputs.len() > 1
        || args.batch.is_batch()
        || args.output.as_ref().is_some_and(|o| o.is_dir());
    let job = |input: &Path| -> Result<String> {
        let outputs = outputs_for(&args, input, several);
        let notes = transcribe_file(&transcriber, input, &outputs)?;
        let midi = outputs.midi.unwrap_or_default().display().to_string();
        Ok(format!(
            "{}: {} notes -> {midi}",
            input.display(),
            notes.len()
        ))
    };
    if !several {
        println!("{}", job(&inputs[0])?);
        return Ok(());
    }
    polyphon::batch::check_distinct_stems(&inputs)?;
    if let Some(folder) = &args.output {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
    }
    let paths = |input: &Path| outputs_for(&args, input, true).paths();
    let summary = args
        .batch
        .run(&inputs, paths, job, crate::progress::report)?;
    Ok(summary.check()?)
}

fn outputs_for(args: &TranscribeArgs, input: &Path, several: bool) -> Outputs {
    let asked = [&args.notes, &args.roll, &args.frames].map(Option::is_some);
    let folder = args.output.clone().unwrap_or_default();
    if several {
        return Outputs::in_folder(&folder, input, asked);
    }
    let stem = input.file_stem().unwrap_or_default().to_string_lossy();
    Outputs {
        midi: Some(
            args.output
                .clone()
                .unwrap_or_else(|| format!("{stem}.mid").into()),
        ),
        notes: args.notes.clone(),
        roll: args.roll.clone(),
        frames: args.frames.clone(),
    }
}

/// Streams one file through the transcriber with a progress bar, writes the outputs asked
/// for and returns the notes.
fn transcribe_file(
    transcriber: &Transcriber,
    input: &Path,
    outputs: &Outputs,
) -> Result<Vec<Note>> {
    let progress = crate::progress::frames_bar();
    let notes = transcriber.transcribe_file_to(input, outputs, |done, total| {
        progress.set_length(total.unwrap_or(done) as u64);
        progress.set_position(done as u64);
    })?;
    progress.finish_and_clear();
    Ok(notes)
}
