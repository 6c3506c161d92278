//! Piano transcription: audio to notes, through the Kelz et al. 2016 front-end, a frame-wise
//! network and the note rule of [`NoteDecoder`].

use std::path::{Path, PathBuf};

use polyphon_audio::StreamResampler;
use polyphon_core::{write_csv, write_midi, Note, OutputGroup};
use polyphon_decode::{NoteDecoder, NoteStream, PianoRoll};
use polyphon_features::{Extractor, FeatureSpec, FeatureStream, NpyWriter};
use polyphon_models::transcription::{Architecture, Engine, TranscriptionModel, INPUT_BINS};

use crate::{invalid, Context, Error, Result};

/// Frames per network call in [`Transcriber`]'s pipelines; each chunk borrows real
/// neighbouring frames as context, so the result equals a whole-file prediction.
const CHUNK_FRAMES: usize = 2048;

/// A transcription model and the note rule applied to its frame probabilities.
///
/// ```
/// # fn main() -> polyphon::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let (piece, midi) = (concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/piano_chord.wav"), dir.path().join("chord.mid"));
/// let transcriber = polyphon::Transcriber::bundled()?;
/// let notes = transcriber.transcribe_file(piece)?; // a C major chord
/// polyphon::notes::write_midi(&midi, &notes, 0, "piano")?;
/// let keys: Vec<u8> = notes.iter().map(|note| note.key()).collect();
/// assert!([60, 64, 67].iter().all(|key| keys.contains(key)));
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Transcriber {
    model: TranscriptionModel,
    rule: NoteDecoder,
}

/// What [`Transcriber::transcribe_file_to`] writes; `None` skips that output.
#[derive(Debug, Clone, Default)]
pub struct TranscriptionOutputs {
    /// The notes as a MIDI file.
    pub midi: Option<PathBuf>,
    /// The notes as CSV (`onset,offset,pitch,velocity`).
    pub notes: Option<PathBuf>,
    /// The probabilities drawn with the notes outlined over them (PNG).
    pub roll: Option<PathBuf>,
    /// The raw frame probabilities, float32 `(frames, keys)`, as `.npy`.
    pub frames: Option<PathBuf>,
}

impl TranscriptionOutputs {
    /// An error where an output would overwrite `input` or another output.
    pub fn check_apart_from(&self, input: &Path) -> Result<()> {
        let paths = [&self.midi, &self.notes, &self.roll, &self.frames];
        let outputs: Vec<&PathBuf> = paths.into_iter().flatten().collect();
        let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        };
        for (index, output) in outputs.iter().enumerate() {
            if same(output, input) {
                return invalid!("{}: the output would overwrite the input", output.display());
            }
            if outputs[..index].iter().any(|earlier| same(output, earlier)) {
                return invalid!("{}: given for two outputs", output.display());
            }
        }
        Ok(())
    }

    /// The paths asked for.
    pub fn paths(&self) -> Vec<PathBuf> {
        [&self.midi, &self.notes, &self.roll, &self.frames]
            .into_iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// `input`'s outputs inside `folder`, named after its stem: `<stem>.mid`, and
    /// `<stem>.csv`, `<stem>.png`, `<stem>.npy` for the notes, roll and frames asked for.
    pub fn in_folder(folder: &Path, input: &Path, [notes, roll, frames]: [bool; 3]) -> Self {
        let stem = input.file_stem().unwrap_or_default().to_string_lossy();
        let named = |wanted: bool, extension: &str| {
            wanted.then(|| folder.join(format!("{stem}.{extension}")))
        };
        Self {
            midi: named(true, "mid"),
            notes: named(notes, "csv"),
            roll: named(roll, "png"),
            frames: named(frames, "npy"),
        }
    }
}

/// One chunk of frame probabilities: rows of [`Transcriber::keys`] values, in time order.
pub struct ProbabilityChunk<'a> {
    /// The chunk's probabilities, row-major `(frames, keys)`.
    pub rows: &'a [f32],
    /// Frames the whole input will have, where the file's header tells.
    pub expected_frames: Option<usize>,
}

impl Transcriber {
    /// `model` with the default note rule ([`NoteDecoder::default`]) on its keys.
    pub fn new(model: TranscriptionModel) -> Self {
        let rule = NoteDecoder {
            lowest_pitch: model.architecture().lowest_pitch(),
            ..NoteDecoder::default()
        };
        Self { model, rule }
    }

    /// The bundled ConvNet (`convnet-pieces`).
    #[cfg(feature = "bundled")]
    pub fn bundled() -> Result<Self> {
        Self::from_name_or_path(crate::bundled::DEFAULT_TRANSCRIPTION)
    }

    /// A bundled model by name, else the sidecar (`model.json`) `polyphon train
    /// transcription` wrote at that path.
    pub fn from_name_or_path(choice: &str) -> Result<Self> {
        #[cfg(feature = "bundled")]
        if let Some((name, sidecar, weights)) = crate::bundled::transcription(choice) {
            let device = polyphon_models::default_device();
            let model = TranscriptionModel::from_memory(name, sidecar, weights, &device);
            return Ok(Self::new(model.context(crate::bundled::loading(name))?));
        }
        let path = crate::model_file(choice, &bundled_names())?;
        Self::load(path)
    }

    /// The model whose sidecar `polyphon train transcription` wrote at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let model = TranscriptionModel::load(path)
            .context(|| format!("loading the model {}", path.display()))?;
        Ok(Self::new(model))
    }

    /// The same model with another note rule: a key sounds in a frame when its probability
    /// is at least `threshold`, gaps of at most `max_gap` frames are filled, notes shorter
    /// than `min_frames` frames are dropped.
    pub fn with_note_rule(mut self, threshold: f32, min_frames: usize, max_gap: usize) -> Self {
        self.rule = NoteDecoder {
            threshold,
            min_frames,
            max_gap_frames: max_gap,
            ..self.rule
        };
        self
    }

    /// The same model computed by `engine` ([`Engine::Native`], the ConvNet's default,
    /// [`Engine::Ort`] or [`Engine::Burn`]); the native and ONNX Runtime engines run the
    /// ConvNet only.
    pub fn with_engine(mut self, engine: Engine) -> Result<Self> {
        self.model = self.model.with_engine(engine)?;
        Ok(self)
    }

    /// The engine `choice` names; [`EngineChoice::Auto`] is ONNX Runtime where its library
    /// loads and the model is a ConvNet, else the model's default. Returns, beside the
    /// transcriber, why `Auto` did not take ONNX Runtime.
    pub fn with_engine_choice(self, choice: EngineChoice) -> Result<(Self, Option<String>)> {
        let engine = match choice {
            EngineChoice::Auto => {
                return Ok(match self.clone().with_engine(Engine::Ort) {
                    Ok(on_ort) => (on_ort, None),
                    Err(error) => (self, Some(error.to_string())),
                })
            }
            EngineChoice::Native => Engine::Native,
            EngineChoice::Ort => Engine::Ort,
            EngineChoice::Burn => Engine::Burn,
        };
        Ok((self.with_engine(engine)?, None))
    }

    /// The engine that computes the network.
    pub fn engine(&self) -> Engine {
        self.model.engine()
    }

    /// The transcription network and how it is run.
    pub fn model(&self) -> &TranscriptionModel {
        &self.model
    }

    /// The note rule applied to the frame probabilities.
    pub fn note_rule(&self) -> &NoteDecoder {
        &self.rule
    }

    /// Outputs per frame (88 piano keys from A0 for the ConvNet and the AUNet).
    pub fn keys(&self) -> usize {
        self.model.num_outputs()
    }

    /// The notes of mono `samples` at `sample_rate` (resampled to the front-end's 44.1 kHz).
    pub fn transcribe(&self, samples: &[f32], sample_rate: u32) -> Result<Vec<Note>> {
        let mut stream = self.stream(sample_rate)?;
        stream.push(samples)?;
        stream.finish()
    }

    /// A transcription fed blocks of mono samples at `sample_rate`, in bounded memory.
    pub fn stream(&self, sample_rate: u32) -> Result<TranscriptionStream<'_>> {
        let extractor = Extractor::new(FeatureSpec::kelz2016())?;
        let target = extractor.spec().sample_rate;
        let resampler = match sample_rate == target {
            true => None,
            false => Some(StreamResampler::new(sample_rate, target)?),
        };
        Ok(TranscriptionStream {
            transcriber: self,
            extractor,
            features: FeatureStream::default(),
            resampler,
            resampled: Vec::new(),
            chunker: Chunker::new(context_frames(self.model.architecture())),
            notes: self.rule.stream(self.keys())?,
        })
    }

    /// The notes of an audio file (WAV, FLAC, MP3, Ogg Vorbis), streamed in bounded memory.
    pub fn transcribe_file(&self, path: impl AsRef<Path>) -> Result<Vec<Note>> {
        let mut notes = self.rule.stream(self.keys())?;
        self.probabilities_of_file(path, |chunk| {
            chunk
                .rows
                .chunks_exact(self.keys())
                .for_each(|row| notes.push(row));
            Ok(())
        })?;
        Ok(notes.finish())
    }

    /// Transcribes a file and writes the `outputs` asked for (each appears whole or not at
    /// all); `progress` gets the frames done and, where the header tells, the frames in all.
    pub fn transcribe_file_to(
        &self,
        path: impl AsRef<Path>,
        outputs: &TranscriptionOutputs,
        mut progress: impl FnMut(usize, Option<usize>),
    ) -> Result<Vec<Note>> {
        outputs.check_apart_from(path.as_ref())?;
        // Every output is staged before any work, so a path that cannot be written fails
        // first, and all of them appear together at the end.
        let mut group = OutputGroup::new();
        let mut stage = |target: &Option<PathBuf>| -> Result<Option<PathBuf>> {
            Ok(match target {
                Some(target) => Some(group.stage(target)?),
                None => None,
            })
        };
        let staged = TranscriptionOutputs {
            midi: stage(&outputs.midi)?,
            notes: stage(&outputs.notes)?,
            roll: stage(&outputs.roll)?,
            frames: stage(&outputs.frames)?,
        };
        let keys = self.keys();
        let mut notes = self.rule.stream(keys)?;
        let mut roll = staged
            .roll
            .as_ref()
            .map(|_| PianoRoll::new(self.rule.lowest_pitch, self.rule.fps));
        let mut frames = match &staged.frames {
            Some(path) => Some(NpyWriter::create(path, &[keys])?),
            None => None,
        };
        let mut done = 0;
        self.probabilities_of_file(path, |chunk| {
            for row in chunk.rows.chunks_exact(keys) {
                notes.push(row);
                if let Some(roll) = roll.as_mut() {
                    roll.push(row);
                }
            }
            if let Some(frames) = frames.as_mut() {
                frames.write_rows(chunk.rows)?;
            }
            done += chunk.rows.len() / keys;
            progress(done, chunk.expected_frames);
            Ok(())
        })?;
        let notes = notes.finish();
        if let Some(path) = &staged.notes {
            write_csv(path, &notes)?;
        }
        if let (Some(roll), Some(path)) = (roll, &staged.roll) {
            roll.write_png(&notes, path)?;
        }
        if let Some(frames) = frames {
            frames.finish()?;
        }
        if let Some(path) = &staged.midi {
            write_midi(path, &notes, 0, "polyphon transcription")?;
        }
        group.publish()?;
        Ok(notes)
    }

    /// Streams a file through the front-end and the network, handing each chunk of frame
    /// probabilities to `sink` as it is computed (for rolls, raw activations, progress).
    /// Returns the number of frames.
    pub fn probabilities_of_file(
        &self,
        path: impl AsRef<Path>,
        mut sink: impl FnMut(ProbabilityChunk) -> Result<()>,
    ) -> Result<usize> {
        let extractor = Extractor::new(FeatureSpec::kelz2016())?;
        let mut audio = extractor.open(path)?;
        let expected_frames = audio
            .expected_len()
            .map(|samples| extractor.spec().grid.num_frames(samples));
        let mut chunker = Chunker::new(context_frames(self.model.architecture()));
        let mut frames = 0;
        let mut consume = |rows: &[f32]| {
            frames += rows.len() / self.keys();
            sink(ProbabilityChunk {
                rows,
                expected_frames,
            })
        };
        // The front-end's sink returns its own error type: a failure of ours travels through
        // it as a message, and the first one is kept to be returned as it was.
        let mut failure = None;
        extractor
            .run(&mut audio, |rows| {
                chunker
                    .push(rows, &self.model, &mut consume)
                    .map_err(|error| stop_features(&mut failure, error))
            })
            .map_err(|error| failure.take().unwrap_or(error.into()))?;
        chunker.finish(&self.model, &mut consume)?;
        Ok(frames)
    }
}

/// Keeps `error` to be returned in place of the front-end's, and stops the front-end.
fn stop_features(kept: &mut Option<Error>, error: Error) -> polyphon_features::FeatureError {
    let message = error.to_string();
    *kept = Some(error);
    polyphon_features::FeatureError::InvalidParameter(message)
}

#[cfg(feature = "bundled")]
fn bundled_names() -> Vec<&'static str> {
    crate::bundled::transcription_names()
}

#[cfg(not(feature = "bundled"))]
fn bundled_names() -> Vec<&'static str> {
    Vec::new()
}

/// A transcription in progress: [`push`](Self::push) blocks of samples, then
/// [`finish`](Self::finish) for the notes. Memory holds one chunk of frames and the notes.
pub struct TranscriptionStream<'a> {
    transcriber: &'a Transcriber,
    extractor: Extractor,
    features: FeatureStream,
    resampler: Option<StreamResampler>,
    resampled: Vec<f32>,
    chunker: Chunker,
    notes: NoteStream,
}

impl TranscriptionStream<'_> {
    /// Takes the next block of mono samples.
    pub fn push(&mut self, samples: &[f32]) -> Result<()> {
        if let Some(bad) = samples.iter().position(|x| !x.is_finite()) {
            return invalid!("sample {bad} is not a finite number ({})", samples[bad]);
        }
        match &mut self.resampler {
            Some(resampler) => {
                self.resampled.clear();
                resampler.push(samples, &mut self.resampled)?;
                let block = std::mem::take(&mut self.resampled);
                self.features_of(&block, false)?;
                self.resampled = block;
            }
            None => self.features_of(samples, false)?,
        }
        Ok(())
    }

    /// Transcribes what is left and returns every note, sorted by onset then pitch.
    pub fn finish(mut self) -> Result<Vec<Note>> {
        if let Some(resampler) = self.resampler.take() {
            let mut rest = Vec::new();
            resampler.finish(&mut rest)?;
            self.features_of(&rest, false)?;
        }
        self.features_of(&[], true)?;
        let Self {
            transcriber,
            mut chunker,
            mut notes,
            ..
        } = self;
        let keys = transcriber.keys();
        chunker.finish(&transcriber.model, &mut |rows: &[f32]| {
            rows.chunks_exact(keys).for_each(|row| notes.push(row));
            Ok(())
        })?;
        Ok(notes.finish())
    }

    /// Feature rows of `samples` (and, at the `end`, of what the front-end still holds) into
    /// the chunker, and the probabilities it gives into the note decoder.
    fn features_of(&mut self, samples: &[f32], end: bool) -> Result<()> {
        let Self {
            transcriber,
            extractor,
            features,
            chunker,
            notes,
            ..
        } = self;
        let keys = transcriber.keys();
        let mut consume = |rows: &[f32]| {
            rows.chunks_exact(keys).for_each(|row| notes.push(row));
            Ok(())
        };
        let mut failure = None;
        let mut sink = |rows: &[f32]| {
            chunker
                .push(rows, &transcriber.model, &mut consume)
                .map_err(|error| stop_features(&mut failure, error))
        };
        let fed = match end {
            false => features.push(extractor, samples, &mut sink),
            true => features.finish(extractor, &mut sink).map(|_| ()),
        };
        fed.map_err(|error| failure.take().unwrap_or(error.into()))
    }
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

/// Which engine computes the transcription network, as `polyphon transcribe --engine` takes
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum EngineChoice {
    /// ONNX Runtime where its library loads (`ORT_DYLIB_PATH`), else the native path where
    /// the model has one, else burn.
    #[default]
    Auto,
    /// The ConvNet's native path: folded batch norm, shared convolutions, `gemm`.
    Native,
    /// ONNX Runtime, loaded at run time from `ORT_DYLIB_PATH` (or `libonnxruntime.so`).
    Ort,
    /// burn's forward pass (every architecture).
    Burn,
}
