//! An NSynth-like set of single notes: 4 s at 16 kHz, the key held 3 s then released.
//!
//! Instruments are General MIDI programs of the families keyboard, organ, guitar, bass, flute
//! and vocal, taken from every SoundFont given. Pitches are swept over each family's range
//! and velocities over a list. The metadata uses NSynth's field names, in an
//! `examples.json` per split beside the audio (`nsynth-<split>/audio/<note_str>.wav`), and
//! the split is NSynth's: by instrument (valid and test instruments are never in train).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use crate::levels::{
    check_velocity_response, decibels, match_level, measure_level, reference_note, same_sound,
    REFERENCE_VELOCITY,
};
use crate::output::{finished_example, run_jobs, write_example, Example, ExamplePaths};
use crate::recipes::fluid::round_micro;
use crate::recipes::RecipeReport;
use crate::render::{render_notes_to_length, Instrument, RenderSettings};
use crate::soundfont::LoadedSoundFont;
use crate::{Result, SynthError};
use polyphon_core::manifest::{write_manifest, ManifestEntry, Split};
use polyphon_core::Note;
use polyphon_core::SeededRng;

/// An NSynth instrument family with the GM programs that stand for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    pub name: &'static str,
    /// NSynth's `instrument_family` number.
    pub id: u8,
    pub programs: Vec<u8>,
    pub lowest_pitch: u8,
    pub highest_pitch: u8,
    /// Pitch at which the family's level is measured and matched.
    pub reference_pitch: u8,
}

/// The six families of the issue, with GM programs and playable ranges.
/// The default families named in `names`, in that order; an unknown name is an error that
/// lists the known ones.
pub fn families_named(names: &[String]) -> Result<Vec<Family>> {
    let known = default_families();
    names
        .iter()
        .map(|name| {
            known
                .iter()
                .find(|f| f.name == name)
                .cloned()
                .ok_or_else(|| {
                    let all: Vec<&str> = known.iter().map(|f| f.name).collect();
                    SynthError::Invalid(format!("unknown family {name:?} ({})", all.join(", ")))
                })
        })
        .collect()
}

pub fn default_families() -> Vec<Family> {
    let family = |name, id, programs: std::ops::RangeInclusive<u8>, low, high, reference| Family {
        name,
        id,
        programs: programs.collect(),
        lowest_pitch: low,
        highest_pitch: high,
        reference_pitch: reference,
    };
    vec![
        family("bass", 0, 32..=39, 28, 67, 40),
        family("flute", 2, 72..=79, 60, 96, 72),
        family("guitar", 3, 24..=31, 40, 88, 60),
        family("keyboard", 4, 0..=7, 21, 108, 60),
        // Drawbar, percussive, rock, church and reed organ (21–23 are accordions, harmonica).
        family("organ", 6, 16..=20, 36, 96, 60),
        // Choir aahs, voice oohs, synth voice.
        family("vocal", 10, 52..=54, 48, 79, 60),
    ]
}

/// NSynth's `instrument_source`: how the sound is produced (by GM program).
fn source_of(program: u8) -> (u8, &'static str) {
    match program {
        2 | 4 | 5 | 7 | 16..=18 | 26..=31 | 33..=37 => (1, "electronic"),
        38 | 39 | 54 => (2, "synthetic"),
        _ => (0, "acoustic"),
    }
}

#[derive(Debug, Clone)]
pub struct NotesOptions {
    pub soundfonts: Vec<PathBuf>,
    pub out_dir: PathBuf,
    pub seed: u64,
    pub families: Vec<Family>,
    pub velocities: Vec<u8>,
    /// Every `pitch_step`-th pitch of a family's range.
    pub pitch_step: u8,
    pub held_seconds: f64,
    pub total_seconds: f64,
    /// Fractions of each family's instruments held out for validation and test.
    pub valid_fraction: f64,
    pub test_fraction: f64,
    pub level_target_dbfs: Option<f64>,
    /// Also take each family program's variation presets (banks 1–126), each in the split of
    /// its bank-0 preset: see [`add_variations`].
    pub variations: bool,
    pub render: RenderSettings,
}

impl NotesOptions {
    pub fn new(soundfonts: Vec<PathBuf>, out_dir: PathBuf) -> Self {
        Self {
            soundfonts,
            out_dir,
            seed: 0,
            families: default_families(),
            velocities: vec![25, 50, 75, 100, 127],
            pitch_step: 1,
            held_seconds: 3.0,
            total_seconds: 4.0,
            valid_fraction: 0.1,
            test_fraction: 0.1,
            level_target_dbfs: Some(crate::levels::DEFAULT_TARGET_DBFS),
            variations: false,
            render: RenderSettings {
                sample_rate: 16_000,
                tail_seconds: 1.0,
                // NSynth notes are dry recordings of single notes.
                effects: false,
            },
        }
    }
}

/// One instrument of the set: a family, a SoundFont preset and its NSynth names.
#[derive(Debug, Clone)]
pub struct NoteInstrument {
    pub instrument: Instrument,
    pub family: Family,
    /// `<family>_<source>_<index>`, e.g. `keyboard_acoustic_004`.
    pub name: String,
    pub index: usize,
    pub source: (u8, &'static str),
    pub split: Split,
}

/// One note to render.
#[derive(Debug, Clone)]
pub struct NoteJob {
    pub instrument: usize,
    pub pitch: u8,
    pub velocity: u8,
}

/// NSynth's per-note metadata (`examples.json` values).
#[derive(Debug, Clone, Serialize)]
pub struct NsynthExample {
    pub note: usize,
    pub note_str: String,
    pub instrument: usize,
    pub instrument_str: String,
    pub instrument_source: u8,
    pub instrument_source_str: String,
    pub instrument_family: u8,
    pub instrument_family_str: String,
    pub pitch: u8,
    pub velocity: u8,
    pub sample_rate: u32,
    pub qualities: Vec<u8>,
    pub qualities_str: Vec<String>,
    /// Not in NSynth: the SoundFont preset that rendered the note.
    pub synthesizer: String,
}

/// Renders the notes and writes `notes.jsonl` and `nsynth-<split>/examples.json`.
pub fn run_notes(options: &NotesOptions) -> Result<RecipeReport> {
    check_options(options)?;
    let mut report = RecipeReport::default();
    let instruments = plan_instruments(options, &mut report)?;
    let jobs = plan_notes(options, &instruments);
    let stem = |job: &NoteJob| note_stem(&instruments[job.instrument], job);
    let run = run_jobs(
        &options.out_dir,
        jobs,
        "notes",
        |job| {
            let paths = ExamplePaths::new(&options.out_dir, stem(job));
            render_note(&instruments[job.instrument], job, &paths, options)
        },
        stem,
    );
    report.absorb(&run);

    let mut entries = Vec::new();
    let mut examples: BTreeMap<Split, BTreeMap<String, NsynthExample>> = BTreeMap::new();
    for (note_id, (job, example)) in run.done.iter().enumerate() {
        let instrument = &instruments[job.instrument];
        let paths = ExamplePaths::new(&options.out_dir, stem(job));
        report
            .summary
            .add("notes", instrument.split, example.duration, &example.notes);
        let meta = nsynth_example(note_id, instrument, job, options.render.sample_rate);
        entries.push(instrument_entry(
            instrument,
            &paths,
            example,
            options.render.sample_rate,
            meta.note_str.clone(),
        ));
        examples
            .entry(instrument.split)
            .or_default()
            .insert(meta.note_str.clone(), meta);
    }
    for (split, examples) in &examples {
        let path = options
            .out_dir
            .join(format!("nsynth-{}", split.name()))
            .join("examples.json");
        write_json(&path, examples)?;
    }
    let path = options.out_dir.join("notes.jsonl");
    write_manifest(&path, &entries)?;
    report.manifests.push(path);
    Ok(report)
}

fn check_options(options: &NotesOptions) -> Result<()> {
    if options.soundfonts.is_empty() {
        return Err(SynthError::Invalid("give at least one SoundFont".into()));
    }
    if !(options.held_seconds > 0.0 && options.total_seconds >= options.held_seconds) {
        return Err(SynthError::Invalid(
            "the note must be held > 0 s and fit in the total length".into(),
        ));
    }
    if options.pitch_step == 0 || options.velocities.iter().any(|v| !(1..=127).contains(v)) {
        return Err(SynthError::Invalid(
            "pitch step must be >= 1 and velocities 1-127".into(),
        ));
    }
    Ok(())
}

/// Every family program of every SoundFont that has it, level-matched, named NSynth-style and
/// assigned a split. Missing or silent presets are reported and left out. With
/// `options.variations` the variation presets follow, after all bank-0 instruments, so the
/// bank-0 instruments keep their names, indices and splits.
pub fn plan_instruments(
    options: &NotesOptions,
    report: &mut RecipeReport,
) -> Result<Vec<NoteInstrument>> {
    let fonts: Vec<LoadedSoundFont> = options
        .soundfonts
        .iter()
        .map(LoadedSoundFont::load)
        .collect::<Result<_>>()?;
    let mut set = InstrumentSet::default();
    for family in &options.families {
        let mut members = Vec::new();
        for font in &fonts {
            for &program in &family.programs {
                match prepare_instrument(font, 0, program, family, options) {
                    Ok(instrument) => members.push(instrument),
                    Err(error) => report.failures.push(error.to_string()),
                }
            }
        }
        let mut rng = SeededRng::new(options.seed, family.name);
        let splits = instrument_splits(members.len(), options, &mut rng);
        for (instrument, split) in members.into_iter().zip(splits) {
            set.push(instrument, family, split);
        }
    }
    if options.variations {
        add_variations(&fonts, options, &mut set, report)?;
    }
    let instruments = set.instruments;
    let count = |split| instruments.iter().filter(|i| i.split == split).count();
    report.info.push(format!(
        "{} instruments: {} train, {} valid, {} test",
        instruments.len(),
        count(Split::Train),
        count(Split::Valid),
        count(Split::Test)
    ));
    Ok(instruments)
}

/// The instruments planned so far, and the running index of each NSynth name prefix.
#[derive(Default)]
struct InstrumentSet {
    instruments: Vec<NoteInstrument>,
    counters: BTreeMap<(String, &'static str), usize>,
}

impl InstrumentSet {
    fn push(&mut self, instrument: Instrument, family: &Family, split: Split) {
        let source = source_of(instrument.preset.program);
        let counter = self
            .counters
            .entry((family.name.to_string(), source.1))
            .or_default();
        let name = format!("{}_{}_{:03}", family.name, source.1, *counter);
        *counter += 1;
        self.instruments.push(NoteInstrument {
            index: self.instruments.len(),
            instrument,
            family: family.clone(),
            name,
            source,
            split,
        });
    }

    /// `font`'s bank-0 preset at `program`, if it was planned.
    fn base(&self, font: &LoadedSoundFont, program: u8) -> Option<&NoteInstrument> {
        self.instruments.iter().find(|i| {
            let preset = &i.instrument.preset;
            i.instrument.soundfont.name == font.name
                && preset.bank == 0
                && preset.program == program
        })
    }
}

/// Banks whose presets vary the bank-0 preset of the same program (GS convention). Bank 127
/// is GS's MT-32 map (other instruments at the same programs, e.g. synth brass at 24 in
/// sf_GMbank) and bank 128 holds drum kits, so neither is a variation.
const VARIATION_BANKS: std::ops::RangeInclusive<u8> = 1..=126;

/// Adds each family program's variation presets (e.g. FluidR3's Ukulele at bank 8, program
/// 24). A variation joins the split of its bank-0 preset: it often shares that preset's
/// samples, so putting it in another split would let a held-out timbre into training. A
/// variation that sounds the same as its bank-0 preset (same samples and settings), or whose
/// bank-0 preset was left out, is skipped.
fn add_variations(
    fonts: &[LoadedSoundFont],
    options: &NotesOptions,
    set: &mut InstrumentSet,
    report: &mut RecipeReport,
) -> Result<()> {
    let rate = options.render.sample_rate;
    let mut added = 0;
    for family in &options.families {
        for font in fonts {
            for preset in font.presets() {
                if !VARIATION_BANKS.contains(&preset.bank)
                    || !family.programs.contains(&preset.program)
                {
                    continue;
                }
                let Some(base) = set.base(font, preset.program) else {
                    continue;
                };
                let split = base.split;
                // Compared before level matching: the fingerprint is rendered at unit gain,
                // so an identical preset is dropped without measuring it.
                let pitch = family.reference_pitch;
                let candidate = Instrument::new(font, preset.bank, preset.program)?;
                if same_sound(
                    &reference_note(&base.instrument, pitch, rate)?,
                    &reference_note(&candidate, pitch, rate)?,
                ) {
                    report.info.push(format!(
                        "{} ({}) sounds as its bank-0 preset: left out",
                        candidate.id(),
                        preset.name
                    ));
                    continue;
                }
                let variation =
                    match prepare_instrument(font, preset.bank, preset.program, family, options) {
                        Ok(instrument) => instrument,
                        Err(error) => {
                            report.failures.push(error.to_string());
                            continue;
                        }
                    };
                set.push(variation, family, split);
                added += 1;
            }
        }
    }
    report.info.push(format!("{added} variation presets added"));
    Ok(())
}

fn prepare_instrument(
    font: &LoadedSoundFont,
    bank: u8,
    program: u8,
    family: &Family,
    options: &NotesOptions,
) -> Result<Instrument> {
    let mut instrument = Instrument::new(font, bank, program)?;
    let rate = options.render.sample_rate;
    check_velocity_response(&instrument, rate)?;
    match options.level_target_dbfs {
        Some(target) => {
            match_level(&mut instrument, family.reference_pitch, target, rate)?;
        }
        None => {
            let level = measure_level(
                &instrument,
                family.reference_pitch,
                REFERENCE_VELOCITY,
                rate,
            )?;
            // Only to reject a silent preset: the gain stays 1.
            crate::levels::matching_gain(&instrument, level, level.rms_dbfs)?;
        }
    }
    Ok(instrument)
}

/// Per family, a seeded shuffle of its instruments: the first `test_fraction` go to test, the
/// next `valid_fraction` to valid (each at least one when the family has three or more), the
/// rest to train.
pub(crate) fn instrument_splits(
    n: usize,
    options: &NotesOptions,
    rng: &mut SeededRng,
) -> Vec<Split> {
    let mut order: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut order);
    let held_out = |fraction: f64| {
        let count = (n as f64 * fraction).round() as usize;
        if n >= 3 && fraction > 0.0 {
            count.max(1)
        } else {
            count
        }
    };
    let n_test = held_out(options.test_fraction);
    let n_valid = held_out(options.valid_fraction).min(n.saturating_sub(n_test + 1));
    let mut splits = vec![Split::Train; n];
    for (rank, &index) in order.iter().enumerate() {
        if rank < n_test {
            splits[index] = Split::Test;
        } else if rank < n_test + n_valid {
            splits[index] = Split::Valid;
        }
    }
    splits
}

/// All (instrument, pitch, velocity) combinations, in a fixed order.
pub fn plan_notes(options: &NotesOptions, instruments: &[NoteInstrument]) -> Vec<NoteJob> {
    let mut jobs = Vec::new();
    for (index, instrument) in instruments.iter().enumerate() {
        let family = &instrument.family;
        for pitch in
            (family.lowest_pitch..=family.highest_pitch).step_by(options.pitch_step as usize)
        {
            for &velocity in &options.velocities {
                jobs.push(NoteJob {
                    instrument: index,
                    pitch,
                    velocity,
                });
            }
        }
    }
    jobs
}

fn note_str(instrument: &NoteInstrument, job: &NoteJob) -> String {
    format!("{}-{:03}-{:03}", instrument.name, job.pitch, job.velocity)
}

fn note_stem(instrument: &NoteInstrument, job: &NoteJob) -> String {
    format!(
        "nsynth-{}/audio/{}",
        instrument.split.name(),
        note_str(instrument, job)
    )
}

fn render_note(
    instrument: &NoteInstrument,
    job: &NoteJob,
    paths: &ExamplePaths,
    options: &NotesOptions,
) -> Result<Example> {
    if let Some(done) = finished_example(paths) {
        return done;
    }
    let notes = [Note::new(
        0.0,
        options.held_seconds,
        job.pitch,
        job.velocity,
    )];
    let silent = format!("at pitch {} (outside its samples' range?)", job.pitch);
    render_example(
        instrument,
        &notes,
        options.total_seconds,
        &options.render,
        paths,
        &silent,
    )
}

/// The manifest entry of one file played by one instrument.
pub(crate) fn instrument_entry(
    instrument: &NoteInstrument,
    paths: &ExamplePaths,
    example: &Example,
    sample_rate: u32,
    source: String,
) -> ManifestEntry {
    ManifestEntry {
        file: paths.wav_name(),
        split: instrument.split,
        synthesizer: instrument.instrument.id(),
        labels_csv: paths.csv_name(),
        labels_midi: paths.midi_name(),
        duration: round_micro(example.duration),
        sample_rate,
        source: Some(source),
        instruments: vec![instrument.name.clone()],
        families: vec![instrument.family.name.to_string()],
        stems: vec![],
    }
}

/// Renders `notes` by `instrument` into `seconds` of audio and writes the example; a result
/// below -60 dBFS peak is refused as silent (`silent` says when, for the error).
pub(crate) fn render_example(
    instrument: &NoteInstrument,
    notes: &[Note],
    seconds: f64,
    render: &RenderSettings,
    paths: &ExamplePaths,
    silent: &str,
) -> Result<Example> {
    let rate = render.sample_rate;
    let length = (seconds * rate as f64).round() as usize;
    let mut audio = render_notes_to_length(&instrument.instrument, notes, render, length)?;
    crate::render::prevent_clipping(&mut audio, 0.99);
    check_audible(instrument, &audio, silent)?;
    write_example(
        paths,
        &audio,
        rate,
        notes,
        instrument.instrument.preset.program,
    )
}

/// Refuses audio `instrument` rendered below -60 dBFS peak as silent (`silent` says when, for
/// the error): a preset without samples for those notes.
pub(crate) fn check_audible(
    instrument: &NoteInstrument,
    audio: &[f32],
    silent: &str,
) -> Result<()> {
    let peak = audio.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if decibels(peak as f64) < -60.0 {
        return Err(SynthError::Render {
            path: instrument.instrument.soundfont.path.clone(),
            detail: format!(
                "{} ({}) is silent {silent}",
                instrument.instrument.id(),
                instrument.name,
            ),
        });
    }
    Ok(())
}

fn nsynth_example(
    note: usize,
    instrument: &NoteInstrument,
    job: &NoteJob,
    sample_rate: u32,
) -> NsynthExample {
    NsynthExample {
        note,
        note_str: note_str(instrument, job),
        instrument: instrument.index,
        instrument_str: instrument.name.clone(),
        instrument_source: instrument.source.0,
        instrument_source_str: instrument.source.1.to_string(),
        instrument_family: instrument.family.id,
        instrument_family_str: instrument.family.name.to_string(),
        pitch: job.pitch,
        velocity: job.velocity,
        sample_rate,
        qualities: vec![0; 10],
        qualities_str: vec![],
        synthesizer: instrument.instrument.id(),
    }
}

fn write_json<T: Serialize>(path: &std::path::Path, value: &T) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(SynthError::io(parent))?;
    }
    let text = serde_json::to_string_pretty(value).map_err(|e| SynthError::Json {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    polyphon_core::write_atomically(path, text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instrument_split_holds_out_whole_instruments() {
        let options = NotesOptions::new(vec![], "out".into());
        let splits = instrument_splits(10, &options, &mut SeededRng::new(0, "bass"));
        let count = |s| splits.iter().filter(|&&x| x == s).count();
        assert_eq!(
            (count(Split::Train), count(Split::Valid), count(Split::Test)),
            (8, 1, 1)
        );
        let two = instrument_splits(2, &options, &mut SeededRng::new(0, "bass"));
        assert_eq!(two, vec![Split::Train, Split::Train]);
    }

    #[test]
    fn gm_sources_follow_the_program() {
        assert_eq!(source_of(0).1, "acoustic");
        assert_eq!(source_of(4).1, "electronic");
        assert_eq!(source_of(38).1, "synthetic");
    }
}
