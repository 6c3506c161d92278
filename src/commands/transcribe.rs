//! `polyphon transcribe`: audio files to notes (MIDI, CSV), piano rolls and activations.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use polyphon_decode::{NoteDecoder, PianoRoll};
use polyphon_features::{Extractor, FeatureSpec, NpyWriter};
use polyphon_models::{Architecture, TranscriptionModel, INPUT_BINS};

use crate::bundled;
use polyphon_synth::notes::{write_csv, write_midi, Note};

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

Without --model, the bundled ConvNet (convnet-pieces, trained on synthesized piano; see the
README) is used. Without -o, one input is written to <input stem>.mid in the current folder.")]
pub struct TranscribeArgs {
    /// Input audio files (WAV, FLAC, MP3, Ogg Vorbis).
    #[arg(required = true)]
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
}

/// Frames per network call and how many real neighbours each chunk borrows on both sides.
const CHUNK_FRAMES: usize = 2048;

/// Where one input's outputs go; `None` skips that output.
#[derive(Default)]
pub struct Outputs {
    pub midi: Option<PathBuf>,
    pub notes: Option<PathBuf>,
    pub roll: Option<PathBuf>,
    pub frames: Option<PathBuf>,
}

/// The note rule of `transcribe`, for a model's outputs.
pub fn note_decoder(
    model: &TranscriptionModel,
    threshold: f32,
    min_frames: usize,
    max_gap: usize,
) -> NoteDecoder {
    NoteDecoder {
        threshold,
        min_frames,
        max_gap_frames: max_gap,
        fps: 100.0,
        lowest_pitch: model.architecture().lowest_pitch(),
    }
}

pub fn run(args: TranscribeArgs) -> Result<()> {
    let model = bundled::transcription_model(args.model.as_deref())?;
    let decoder = note_decoder(&model, args.threshold, args.min_frames, args.max_gap);
    let several =
        args.inputs.len() > 1 || args.output.as_ref().is_some_and(|output| output.is_dir());
    if let (true, Some(folder)) = (several, &args.output) {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
    }
    let mut failures = 0;
    for input in &args.inputs {
        let outputs = outputs_for(&args, input, several);
        let midi = outputs.midi.clone().unwrap_or_default();
        match transcribe_file(&model, &decoder, input, &outputs) {
            Ok(notes) => println!(
                "{}: {} notes -> {}",
                input.display(),
                notes.len(),
                midi.display()
            ),
            Err(error) if several => {
                eprintln!("error: {}: {error:#}", input.display());
                failures += 1;
            }
            Err(error) => return Err(error),
        }
    }
    if failures > 0 {
        bail!("{failures} of {} inputs failed", args.inputs.len());
    }
    Ok(())
}

fn outputs_for(args: &TranscribeArgs, input: &Path, several: bool) -> Outputs {
    let stem = input.file_stem().unwrap_or_default().to_string_lossy();
    if !several {
        return Outputs {
            midi: Some(
                args.output
                    .clone()
                    .unwrap_or_else(|| PathBuf::from(format!("{stem}.mid"))),
            ),
            notes: args.notes.clone(),
            roll: args.roll.clone(),
            frames: args.frames.clone(),
        };
    }
    let folder = args.output.clone().unwrap_or_default();
    let beside =
        |wanted: bool, extension: &str| wanted.then(|| folder.join(format!("{stem}.{extension}")));
    Outputs {
        midi: Some(folder.join(format!("{stem}.mid"))),
        notes: beside(args.notes.is_some(), "csv"),
        roll: beside(args.roll.is_some(), "png"),
        frames: beside(args.frames.is_some(), "npy"),
    }
}

/// Streams one file through features, network and decoder, writes the outputs asked for,
/// and returns the notes.
pub fn transcribe_file(
    model: &TranscriptionModel,
    decoder: &NoteDecoder,
    input: &Path,
    outputs: &Outputs,
) -> Result<Vec<Note>> {
    let extractor = Extractor::new(FeatureSpec::kelz2016())?;
    let mut audio = extractor.open(input)?;
    let keys = model.num_outputs();
    let progress = match audio.expected_len() {
        Some(n) => ProgressBar::new(FeatureSpec::kelz2016().grid.num_frames(n) as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} frames, {eta} left")?,
        ),
        None => ProgressBar::new_spinner(),
    };
    let mut notes = decoder.stream(keys)?;
    let mut roll = outputs
        .roll
        .as_ref()
        .map(|_| PianoRoll::new(decoder.lowest_pitch, 100.0));
    let mut frames = match &outputs.frames {
        Some(path) => Some(NpyWriter::create(path, &[keys])?),
        None => None,
    };
    let mut chunker = Chunker::new(context_frames(model.architecture()));
    let mut consume = |probabilities: &[f32]| -> Result<()> {
        for row in probabilities.chunks_exact(keys) {
            notes.push(row);
            if let Some(roll) = roll.as_mut() {
                roll.push(row);
            }
        }
        if let Some(frames) = frames.as_mut() {
            frames.write_rows(probabilities)?;
        }
        progress.inc((probabilities.len() / keys) as u64);
        Ok(())
    };
    extractor.run(&mut audio, |rows| {
        chunker
            .push(rows, model, &mut consume)
            .map_err(|e| polyphon_features::FeatureError::InvalidParameter(format!("{e:#}")))
    })?;
    chunker.finish(model, &mut consume)?;
    progress.finish_and_clear();

    let notes: Vec<Note> = notes.finish();
    if let Some(path) = &outputs.notes {
        write_csv(path, &notes)?;
    }
    if let (Some(roll), Some(path)) = (roll, &outputs.roll) {
        roll.write_png(&notes, path)?;
    }
    if let Some(frames) = frames {
        frames.finish()?;
    }
    if let Some(path) = &outputs.midi {
        write_midi(path, &notes, 0, "polyphon transcription")?;
    }
    Ok(notes)
}

/// The frame probabilities of one file, row-major `(frames, model outputs)`, computed in
/// chunks as [`transcribe_file`] does.
pub fn predict_file(model: &TranscriptionModel, input: &Path) -> Result<Vec<f32>> {
    let extractor = Extractor::new(FeatureSpec::kelz2016())?;
    let mut audio = extractor.open(input)?;
    let mut probabilities = Vec::new();
    let mut consume = |rows: &[f32]| -> Result<()> {
        probabilities.extend_from_slice(rows);
        Ok(())
    };
    let mut chunker = Chunker::new(context_frames(model.architecture()));
    extractor.run(&mut audio, |rows| {
        chunker
            .push(rows, model, &mut consume)
            .map_err(|e| polyphon_features::FeatureError::InvalidParameter(format!("{e:#}")))
    })?;
    chunker.finish(model, &mut consume)?;
    Ok(probabilities)
}

/// Real neighbouring frames each chunk needs on both sides: the ConvNets' context, or half
/// an AUNet patch.
fn context_frames(architecture: Architecture) -> usize {
    match architecture {
        Architecture::AuNet => 128,
        Architecture::ConvNet | Architecture::SmallConvNet => 2,
    }
}

/// Cuts a stream of feature rows into chunks for the network. Each chunk is predicted with
/// `context` real frames borrowed from its neighbours on both sides, and only its own rows'
/// outputs are kept, so the result equals a prediction on the whole file.
struct Chunker {
    context: usize,
    /// Rows not yet predicted, preceded by up to `context` rows already predicted.
    rows: Vec<f32>,
    /// How many leading rows of `rows` are left context only.
    left: usize,
}

impl Chunker {
    fn new(context: usize) -> Self {
        Self {
            context,
            rows: Vec::new(),
            left: 0,
        }
    }

    fn push(
        &mut self,
        rows: &[f32],
        model: &TranscriptionModel,
        consume: &mut impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        self.rows.extend_from_slice(rows);
        while self.frames() >= self.left + CHUNK_FRAMES + self.context {
            self.predict(CHUNK_FRAMES, model, consume)?;
        }
        Ok(())
    }

    fn finish(
        &mut self,
        model: &TranscriptionModel,
        consume: &mut impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let remaining = self.frames() - self.left;
        if remaining > 0 {
            self.predict(remaining, model, consume)?;
        }
        Ok(())
    }

    fn frames(&self) -> usize {
        self.rows.len() / INPUT_BINS
    }

    /// Predicts the next `count` own rows and keeps `context` of them as left context.
    fn predict(
        &mut self,
        count: usize,
        model: &TranscriptionModel,
        consume: &mut impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let end = (self.left + count + self.context).min(self.frames());
        let input = &self.rows[..end * INPUT_BINS];
        let probabilities = model.predict(input, end)?;
        let keys = model.num_outputs();
        consume(&probabilities[self.left * keys..(self.left + count) * keys])?;
        let keep_from = (self.left + count).saturating_sub(self.context);
        self.rows.drain(..keep_from * INPUT_BINS);
        self.left = self.left + count - keep_from;
        Ok(())
    }
}
