//! MAPS-MUS-like pieces (Configuration II): every piece rendered by every piano synthesizer,
//! split by synthesizer, never by chance.
//!
//! A synthesizer is one piano preset of one SoundFont. Per SoundFont, the candidates are the
//! GM piano programs given (default 0–3: acoustic grand, bright, electric grand, honky-tonk)
//! in bank 0, plus program 0 of every other melodic bank (variation grands); presets that
//! render a reference note identically to one already kept count once. The split follows the
//! SoundFonts' order on the command line: the grand piano (bank 0, program 0) of the last
//! SoundFont is the test synthesizer, that of the one before it the validation synthesizer,
//! and the other presets of those two SoundFonts are left out because they share samples with
//! them; every preset of the other SoundFonts trains.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::levels::{
    check_velocity_response, match_level, measure_level, reference_note, same_sound, Level,
    REFERENCE_PITCH, REFERENCE_VELOCITY,
};
use crate::output::{finished_example, run_jobs, write_example, Example, ExamplePaths};
use crate::recipes::fluid::round_micro;
use crate::recipes::{path_safe, RecipeReport};
use crate::render::{prevent_clipping, render_notes, Instrument, RenderSettings};
use crate::soundfont::LoadedSoundFont;
use crate::{Result, SynthError};
use polyphon_core::manifest::{split_by_synthesizer, write_manifest, ManifestEntry, Split};
use polyphon_core::{normalize_notes, read_midi_parts, CoreError, Note};

/// The piano's keys, A0 to C8.
pub const PIANO_LOWEST: u8 = 21;
pub const PIANO_HIGHEST: u8 = 108;
/// Peak ceiling of a rendered piece; louder pieces are scaled down rather than clipped.
const CLIP_CEILING: f32 = 0.99;

#[derive(Debug, Clone)]
pub struct PiecesOptions {
    pub midi_dir: PathBuf,
    /// In split order: the last is the test SoundFont, the one before it validation.
    pub soundfonts: Vec<PathBuf>,
    pub out_dir: PathBuf,
    /// GM programs taken from bank 0 of each SoundFont.
    pub programs: Vec<u8>,
    /// Also take program 0 of the other melodic banks (e.g. FluidR3's or MuseScore's
    /// variation grands).
    pub variation_grands: bool,
    /// Scale every synthesizer so middle C at velocity 100 has this RMS level; `None` keeps
    /// each SoundFont's own level.
    pub level_target_dbfs: Option<f64>,
    /// Render only the first pieces (in file-name order); `None` for all.
    pub max_pieces: Option<usize>,
    pub render: RenderSettings,
}

impl PiecesOptions {
    pub fn new(midi_dir: PathBuf, soundfonts: Vec<PathBuf>, out_dir: PathBuf) -> Self {
        Self {
            midi_dir,
            soundfonts,
            out_dir,
            programs: vec![0, 1, 2, 3],
            variation_grands: true,
            level_target_dbfs: Some(crate::levels::DEFAULT_TARGET_DBFS),
            max_pieces: None,
            render: RenderSettings::default(),
        }
    }
}

/// A synthesizer with the split it belongs to.
#[derive(Debug, Clone)]
pub struct Synthesizer {
    pub instrument: Instrument,
    pub split: Split,
    /// The RMS level of middle C at velocity 100 before level matching.
    pub level_dbfs: f64,
}

/// A MIDI piece, read and made playable.
#[derive(Debug, Clone)]
pub struct Piece {
    pub name: String,
    pub notes: Vec<Note>,
}

/// Renders every piece with every synthesizer and writes `pieces.jsonl`.
pub fn run_pieces(options: &PiecesOptions) -> Result<RecipeReport> {
    let mut report = RecipeReport::default();
    let synthesizers = plan_synthesizers(options, &mut report)?;
    let pieces = load_pieces(options, &mut report)?;
    let jobs: Vec<(usize, usize)> = (0..synthesizers.len())
        .flat_map(|s| (0..pieces.len()).map(move |p| (s, p)))
        .collect();
    let stem = |&(s, p): &(usize, usize)| {
        format!(
            "{}/{}",
            path_safe(&synthesizers[s].instrument.id()),
            pieces[p].name
        )
    };
    let run = run_jobs(
        &options.out_dir,
        jobs,
        "pieces",
        |job| {
            let paths = ExamplePaths::new(&options.out_dir, stem(job));
            render_piece(
                &synthesizers[job.0].instrument,
                &pieces[job.1],
                &paths,
                options,
            )
        },
        stem,
    );
    report.absorb(&run);
    let mut entries = Vec::with_capacity(run.done.len());
    for (job, example) in &run.done {
        let synthesizer = &synthesizers[job.0];
        let paths = ExamplePaths::new(&options.out_dir, stem(job));
        report.summary.add(
            "pieces",
            synthesizer.split,
            example.duration,
            &example.notes,
        );
        entries.push(ManifestEntry {
            file: paths.wav_name(),
            split: synthesizer.split,
            synthesizer: synthesizer.instrument.id(),
            labels_csv: paths.csv_name(),
            labels_midi: paths.midi_name(),
            duration: round_micro(example.duration),
            sample_rate: options.render.sample_rate,
            source: Some(pieces[job.1].name.clone()),
            instruments: vec![],
            families: vec![],
            stems: vec![],
        });
    }
    let path = options.out_dir.join("pieces.jsonl");
    write_manifest(&path, &entries)?;
    report.manifests.push(path);
    Ok(report)
}

/// Loads the SoundFonts, chooses their piano presets, assigns splits and matches levels.
pub fn plan_synthesizers(
    options: &PiecesOptions,
    report: &mut RecipeReport,
) -> Result<Vec<Synthesizer>> {
    if options.soundfonts.len() < 3 {
        return Err(SynthError::Invalid(format!(
            "pieces are split by synthesizer: give at least 3 SoundFonts (train..., valid, test), \
             got {}",
            options.soundfonts.len()
        )));
    }
    let fonts: Vec<LoadedSoundFont> = options
        .soundfonts
        .iter()
        .map(LoadedSoundFont::load)
        .collect::<Result<_>>()?;
    // Training presets first, then the grand of the second-last and of the last SoundFont,
    // so that the rule "train on N-2, valid, test" gives exactly the split described above.
    let (train_fonts, held_out) = fonts.split_at(fonts.len() - 2);
    let mut candidates: Vec<Instrument> = Vec::new();
    for font in train_fonts {
        candidates.extend(piano_presets(font, options)?);
    }
    for font in held_out {
        candidates.push(Instrument::new(font, 0, 0)?);
    }
    let splits = split_by_synthesizer(candidates.len())?;
    let mut synthesizers = Vec::new();
    for (mut instrument, split) in candidates.into_iter().zip(splits) {
        let level = prepare_synthesizer(&mut instrument, options);
        match level {
            Ok(level) => {
                report.info.push(format!(
                    "{:5} {:28} {:28} middle C {:6.1} dBFS, gain {:+5.1} dB",
                    split.name(),
                    instrument.id(),
                    instrument.preset.name,
                    level.rms_dbfs,
                    crate::levels::decibels(instrument.gain as f64)
                ));
                synthesizers.push(Synthesizer {
                    instrument,
                    split,
                    level_dbfs: level.rms_dbfs,
                });
            }
            Err(error) if split == Split::Train => report.failures.push(error.to_string()),
            Err(error) => return Err(error),
        }
    }
    Ok(synthesizers)
}

/// Rejects presets with broken velocity layers, then matches (or just measures) the level.
fn prepare_synthesizer(instrument: &mut Instrument, options: &PiecesOptions) -> Result<Level> {
    let rate = options.render.sample_rate;
    check_velocity_response(instrument, rate)?;
    match options.level_target_dbfs {
        Some(target) => match_level(instrument, REFERENCE_PITCH, target, rate),
        None => measure_level(instrument, REFERENCE_PITCH, REFERENCE_VELOCITY, rate),
    }
}

/// The piano presets of one training SoundFont, without presets that sound identical.
fn piano_presets(font: &LoadedSoundFont, options: &PiecesOptions) -> Result<Vec<Instrument>> {
    let mut chosen: Vec<Instrument> = Vec::new();
    let mut references: Vec<Vec<f32>> = Vec::new();
    for preset in font.presets() {
        let wanted = (preset.bank == 0 && options.programs.contains(&preset.program))
            || (options.variation_grands
                && preset.bank > 0
                && preset.bank < 128
                && preset.program == 0);
        if !wanted {
            continue;
        }
        let instrument = Instrument::new(font, preset.bank, preset.program)?;
        let reference = reference_note(&instrument, REFERENCE_PITCH, options.render.sample_rate)?;
        if !references.iter().any(|r| same_sound(r, &reference)) {
            references.push(reference);
            chosen.push(instrument);
        }
    }
    if chosen.is_empty() {
        return Err(SynthError::MissingPreset {
            path: font.path.clone(),
            bank: 0,
            program: options.programs.first().copied().unwrap_or(0),
        });
    }
    Ok(chosen)
}

/// Reads every MIDI file of the folder (sorted by name) in parallel; unreadable files are
/// reported and left out.
pub fn load_pieces(options: &PiecesOptions, report: &mut RecipeReport) -> Result<Vec<Piece>> {
    let mut files = midi_files(&options.midi_dir)?;
    if let Some(max) = options.max_pieces {
        files.truncate(max);
    }
    let loaded: Vec<Result<Piece>> = files.par_iter().map(|path| load_piece(path)).collect();
    let mut pieces = Vec::new();
    for outcome in loaded {
        match outcome {
            Ok(piece) => pieces.push(piece),
            Err(error) => report.failures.push(error.to_string()),
        }
    }
    if pieces.is_empty() {
        return Err(no_readable_midi(&options.midi_dir, &report.failures));
    }
    report.info.push(format!(
        "{} pieces, {:.2} hours of music per synthesizer",
        pieces.len(),
        pieces
            .iter()
            .map(|p| polyphon_core::notes_end(&p.notes))
            .sum::<f64>()
            / 3600.0
    ));
    Ok(pieces)
}

pub(crate) fn midi_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(SynthError::io(dir))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            ext.eq_ignore_ascii_case("mid") || ext.eq_ignore_ascii_case("midi")
        })
        .collect();
    files.sort();
    Ok(files)
}

/// The error of a MIDI folder with nothing readable in it, saying why the first file failed
/// (usually all fail for the same reason).
pub(crate) fn no_readable_midi(dir: &Path, failures: &[String]) -> SynthError {
    let why = failures
        .first()
        .map(|f| format!(" (first: {f})"))
        .unwrap_or_default();
    SynthError::Invalid(format!("{}: no readable MIDI files{why}", dir.display()))
}

/// Reads a piece, keeps the piano's keys and resolves what one channel cannot play.
pub fn load_piece(path: &Path) -> Result<Piece> {
    let notes: Vec<Note> = read_midi_parts(path)?
        .into_iter()
        .flatten()
        .filter(|n| (PIANO_LOWEST..=PIANO_HIGHEST).contains(&n.key()))
        .collect();
    let notes = normalize_notes(&notes);
    if notes.is_empty() {
        return Err(CoreError::Midi {
            path: path.to_path_buf(),
            detail: "no notes within the piano's range".into(),
        }
        .into());
    }
    Ok(Piece {
        name: piece_name(path),
        notes,
    })
}

/// A piece's name: its MIDI file's stem, made path-safe.
pub(crate) fn piece_name(path: &Path) -> String {
    path.file_stem()
        .map(|s| path_safe(&s.to_string_lossy()))
        .unwrap_or_else(|| "piece".into())
}

fn render_piece(
    instrument: &Instrument,
    piece: &Piece,
    paths: &ExamplePaths,
    options: &PiecesOptions,
) -> Result<Example> {
    if let Some(done) = finished_example(paths) {
        return done;
    }
    let mut audio = render_notes(instrument, &piece.notes, &options.render)?;
    prevent_clipping(&mut audio, CLIP_CEILING);
    write_example(
        paths,
        &audio,
        options.render.sample_rate,
        &piece.notes,
        instrument.preset.program,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_of_unreadable_midi_says_why_the_first_failed() {
        let dir = tempfile::tempdir().unwrap();
        let options = PiecesOptions::new(dir.path().into(), vec![], dir.path().join("out"));
        let none = load_pieces(&options, &mut RecipeReport::default()).unwrap_err();
        assert!(
            none.to_string().ends_with("no readable MIDI files"),
            "{none}"
        );
        std::fs::write(dir.path().join("cut.mid"), b"MThd\0\0\0\x06\0\x01").unwrap();
        let cut = load_pieces(&options, &mut RecipeReport::default()).unwrap_err();
        assert!(
            cut.to_string().contains("(first: ") && cut.to_string().contains("cut.mid"),
            "{cut}"
        );
    }
}
