//! Ensembles: excerpts of real scores whose voices are played by instruments of different
//! families, stems beside each mix, for multi-label instrument recognition on music.
//!
//! The notes and phrases sets are held notes and seeded random phrases; real music has
//! voices that move together, rhythms and harmony. Each example here is a `seconds`-long
//! excerpt of one piece of a MIDI folder (e.g. the music21 corpus of `synth pieces`) in
//! which 1 to `max_parts` of its sounding voices are each given an instrument of a distinct
//! family. With `chord_voices` above 0, each remaining voice joins, with that probability,
//! one of the chosen chord families (keyboard, guitar, organ, vocal), which then plays
//! several voices as a piano or a choir does: many notes at once must not mean many
//! instruments. A voice is moved by whole octaves into its family's range (the octave that
//! keeps most of its notes; the rest are folded in), and plays at a seeded dynamic. Each
//! instrument's voices make one stem.
//!
//! Instruments are [`plan_instruments`]'s (same SoundFonts, seed, level matching and split
//! by instrument as `polyphon synth notes`), and the pieces are split too, with the same
//! fractions: a test ensemble is an unheard piece played by unheard instruments. Each excerpt
//! is rendered from up to [`PREROLL`] earlier, so a note held across its start sounds held,
//! not struck. Layout as the mixtures set's: `ensembles/<split>/ens-<id>/mix.wav|csv|mid`
//! and `stem-<k>-<instrument>.wav`, listed in `ensembles.jsonl`.

use std::path::{Path, PathBuf};

use crate::output::{run_jobs, Example, ExamplePaths};
use crate::recipes::fluid::round_micro;
use crate::recipes::mixtures::{finished_mixture, stem_file, write_mixture};
use crate::recipes::notes::{
    check_audible, instrument_splits, plan_instruments, NoteInstrument, NotesOptions,
};
use crate::recipes::phrases::CHORD_FAMILIES;
use crate::recipes::pieces::{midi_files, no_readable_midi, piece_name};
use crate::recipes::RecipeReport;
use crate::render::render_notes_to_length;
use crate::{Result, SynthError};
use polyphon_core::manifest::{write_manifest, ManifestEntry, Split};
use polyphon_core::SeededRng;
use polyphon_core::{normalize_notes, read_midi_parts, Note};

/// Seconds rendered before an excerpt and then cut, so that held notes do not start struck.
pub const PREROLL: f64 = 1.0;
/// Range of a voice's dynamic: the factor on its notes' velocities.
const DYNAMIC: (f64, f64) = (0.45, 1.3);
/// Tries to find an excerpt with a sounding voice before a planned example is given up.
const TRIES: usize = 100;
/// Seconds a voice must sound within an excerpt to be played and labelled: a note clipped
/// at the excerpt's edge is too little to hear.
const MIN_SOUNDING: f64 = 0.5;

#[derive(Debug, Clone)]
pub struct EnsemblesOptions {
    /// SoundFonts, families, seed, level matching, split fractions and rendering: as for
    /// the notes set.
    pub notes: NotesOptions,
    /// Folder of MIDI files, one track per voice.
    pub midi_dir: PathBuf,
    /// Number of ensembles, shared among train, valid and test by `split_shares`.
    pub count: usize,
    pub seconds: f64,
    /// Most families (instruments) in one ensemble.
    pub max_parts: usize,
    /// Probability that a sounding voice left over joins a chosen chord family (0: one
    /// voice per instrument).
    pub chord_voices: f64,
    pub split_shares: [f64; 3],
}

impl EnsemblesOptions {
    pub fn new(soundfonts: Vec<PathBuf>, midi_dir: PathBuf, out_dir: PathBuf) -> Self {
        Self {
            notes: NotesOptions::new(soundfonts, out_dir),
            midi_dir,
            count: 1000,
            seconds: 4.0,
            max_parts: 6,
            chord_voices: 0.0,
            split_shares: [0.8, 0.1, 0.1],
        }
    }
}

/// A piece's voices and the split it belongs to.
#[derive(Debug, Clone)]
pub struct Piece {
    pub name: String,
    pub parts: Vec<Vec<Note>>,
    pub split: Split,
}

impl Piece {
    fn duration(&self) -> f64 {
        self.parts
            .iter()
            .flatten()
            .map(|n| n.offset)
            .fold(0.0, f64::max)
    }
}

/// One voice of an ensemble: which part, played by which instrument, how.
#[derive(Debug, Clone, PartialEq)]
pub struct Voice {
    pub part: usize,
    pub instrument: usize,
    /// Semitones, a multiple of 12.
    pub shift: i32,
    pub dynamic: f64,
}

/// One ensemble to render.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleJob {
    pub id: usize,
    pub split: Split,
    pub piece: usize,
    pub start: f64,
    pub voices: Vec<Voice>,
}

impl EnsembleJob {
    fn dir(&self) -> String {
        format!("ensembles/{}/ens-{:05}", self.split.name(), self.id)
    }

    /// The instruments that play, each once, in the order of their first voice: one stem each.
    pub fn players(&self) -> Vec<usize> {
        let mut players: Vec<usize> = Vec::new();
        for voice in &self.voices {
            if !players.contains(&voice.instrument) {
                players.push(voice.instrument);
            }
        }
        players
    }
}

/// Renders the ensembles and writes `ensembles.jsonl`.
pub fn run_ensembles(options: &EnsemblesOptions) -> Result<RecipeReport> {
    check_options(options)?;
    let mut report = RecipeReport::default();
    // Pieces first: a folder without MIDI files fails before the SoundFonts are loaded.
    let pieces = read_pieces(options, &mut report)?;
    let instruments = plan_instruments(&options.notes, &mut report)?;
    let jobs = plan_ensembles(&pieces, &instruments, options, &mut report);
    let out = &options.notes.out_dir;
    let run = run_jobs(
        out,
        jobs,
        "ensembles",
        |job| render_ensemble(job, &pieces, &instruments, options),
        EnsembleJob::dir,
    );
    report.absorb(&run);
    let mut manifest = Vec::new();
    for (job, example) in &run.done {
        report
            .summary
            .add("ensembles", job.split, example.duration, &example.notes);
        manifest.push(ensemble_entry(job, &pieces, &instruments, example, options));
    }
    let path = out.join("ensembles.jsonl");
    write_manifest(&path, &manifest)?;
    report.manifests.push(path);
    Ok(report)
}

fn check_options(options: &EnsemblesOptions) -> Result<()> {
    if options.count == 0 || options.max_parts == 0 || options.seconds < 1.0 {
        return Err(SynthError::Invalid(
            "ensembles need a count and a most-parts of at least 1, and at least 1 s each".into(),
        ));
    }
    if !(0.0..=1.0).contains(&options.chord_voices) {
        return Err(SynthError::Invalid(format!(
            "chord voices {} is not a probability",
            options.chord_voices
        )));
    }
    if options.notes.soundfonts.is_empty() {
        return Err(SynthError::Invalid("give at least one SoundFont".into()));
    }
    Ok(())
}

/// Every MIDI file of the folder that has notes, split by piece with the notes set's
/// fractions; unreadable files are reported and left out.
pub fn read_pieces(options: &EnsemblesOptions, report: &mut RecipeReport) -> Result<Vec<Piece>> {
    let mut pieces = Vec::new();
    for path in midi_files(&options.midi_dir)? {
        match read_midi_parts(&path) {
            Ok(parts) => pieces.push(Piece {
                name: piece_name(&path),
                parts,
                split: Split::Train,
            }),
            Err(error) => report.failures.push(error.to_string()),
        }
    }
    if pieces.is_empty() {
        return Err(no_readable_midi(&options.midi_dir, &report.failures));
    }
    let mut rng = SeededRng::new(options.notes.seed, "pieces");
    let splits = instrument_splits(pieces.len(), &options.notes, &mut rng);
    for (piece, split) in pieces.iter_mut().zip(splits) {
        piece.split = split;
    }
    let count = |s| pieces.iter().filter(|p| p.split == s).count();
    report.info.push(format!(
        "{} pieces: {} train, {} valid, {} test",
        pieces.len(),
        count(Split::Train),
        count(Split::Valid),
        count(Split::Test)
    ));
    Ok(pieces)
}

/// Draws every ensemble from the seed, before any rendering, so the plan never depends on
/// which files already exist or on thread timing.
pub fn plan_ensembles(
    pieces: &[Piece],
    instruments: &[NoteInstrument],
    options: &EnsemblesOptions,
    report: &mut RecipeReport,
) -> Vec<EnsembleJob> {
    let mut rng = SeededRng::new(options.notes.seed, "ensembles");
    let mut jobs = Vec::new();
    for (split, share) in [Split::Train, Split::Valid, Split::Test]
        .into_iter()
        .zip(options.split_shares)
    {
        let wanted = (options.count as f64 * share).round() as usize;
        let in_split: Vec<usize> = (0..pieces.len())
            .filter(|&p| pieces[p].split == split)
            .collect();
        let families = instruments_by_family(instruments, split);
        if in_split.is_empty() || families.is_empty() {
            if wanted > 0 {
                report.info.push(format!(
                    "no {0} pieces or instruments: no {0} ensembles",
                    split.name()
                ));
            }
            continue;
        }
        for _ in 0..wanted {
            let draw = draw_ensemble(pieces, &in_split, &families, instruments, options, &mut rng);
            match draw {
                Some((piece, start, voices)) => jobs.push(EnsembleJob {
                    id: jobs.len(),
                    split,
                    piece,
                    start,
                    voices,
                }),
                None => report.failures.push(format!(
                    "no {} excerpt with a sounding voice in {TRIES} tries",
                    split.name()
                )),
            }
        }
    }
    jobs
}

/// Instrument indices of one split, grouped by family (families without one left out).
fn instruments_by_family(instruments: &[NoteInstrument], split: Split) -> Vec<Vec<usize>> {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for (index, instrument) in instruments.iter().enumerate() {
        if instrument.split != split {
            continue;
        }
        match groups
            .iter_mut()
            .find(|(f, _)| *f == instrument.family.name)
        {
            Some((_, members)) => members.push(index),
            None => groups.push((instrument.family.name, vec![index])),
        }
    }
    groups.into_iter().map(|(_, members)| members).collect()
}

/// A piece, an excerpt start and its voices; `None` if no excerpt with a sounding voice
/// turned up in [`TRIES`] draws.
fn draw_ensemble(
    pieces: &[Piece],
    in_split: &[usize],
    families: &[Vec<usize>],
    instruments: &[NoteInstrument],
    options: &EnsemblesOptions,
    rng: &mut SeededRng,
) -> Option<(usize, f64, Vec<Voice>)> {
    for _ in 0..TRIES {
        let piece = *rng.choose(in_split);
        let start = (pieces[piece].duration() - options.seconds).max(0.0) * rng.unit();
        let end = start + options.seconds;
        let mut sounding: Vec<usize> = (0..pieces[piece].parts.len())
            .filter(|&p| sounding_seconds(&pieces[piece].parts[p], start, end) >= MIN_SOUNDING)
            .collect();
        if sounding.is_empty() {
            continue;
        }
        let most = options.max_parts.min(sounding.len()).min(families.len());
        let k = 1 + rng.below(most as u64) as usize;
        rng.shuffle(&mut sounding);
        let mut family_order: Vec<usize> = (0..families.len()).collect();
        rng.shuffle(&mut family_order);
        // A voice played by `instrument`, at the octave that suits it and a drawn dynamic.
        let voice = |part: usize, instrument: usize, rng: &mut SeededRng| {
            let range = playable_range(&instruments[instrument]);
            let pitches: Vec<u8> = sounding_in(&pieces[piece].parts[part], start, end)
                .map(|n| n.key())
                .collect();
            Voice {
                part,
                instrument,
                shift: octave_shift(&pitches, range),
                dynamic: DYNAMIC.0 + (DYNAMIC.1 - DYNAMIC.0) * rng.unit(),
            }
        };
        let mut voices = Vec::new();
        for (&part, &family) in sounding[..k].iter().zip(&family_order) {
            let instrument = *rng.choose(&families[family]);
            voices.push(voice(part, instrument, rng));
        }
        let chord_players: Vec<usize> = voices
            .iter()
            .map(|v| v.instrument)
            .filter(|&i| CHORD_FAMILIES.contains(&instruments[i].family.name))
            .collect();
        if options.chord_voices > 0.0 && !chord_players.is_empty() {
            for &part in &sounding[k..] {
                if rng.unit() < options.chord_voices {
                    let instrument = *rng.choose(&chord_players);
                    voices.push(voice(part, instrument, rng));
                }
            }
        }
        return Some((piece, start, voices));
    }
    None
}

/// The notes of `part` that sound at some time within `start..end`.
fn sounding_in(part: &[Note], start: f64, end: f64) -> impl Iterator<Item = &Note> {
    part.iter()
        .filter(move |n| n.offset > start && n.onset < end)
}

/// Seconds of notes of `part` within `start..end` (overlapping notes count twice).
fn sounding_seconds(part: &[Note], start: f64, end: f64) -> f64 {
    sounding_in(part, start, end)
        .map(|n| n.offset.min(end) - n.onset.max(start))
        .sum()
}

fn playable_range(instrument: &NoteInstrument) -> (u8, u8) {
    (
        instrument.family.lowest_pitch,
        instrument.family.highest_pitch,
    )
}

/// The multiple of 12 semitones that brings most of `pitches` into `low..=high`; among equals,
/// the smallest move (a voice keeps its register where it fits).
pub fn octave_shift(pitches: &[u8], (low, high): (u8, u8)) -> i32 {
    let inside = |shift: i32| {
        pitches
            .iter()
            .filter(|&&p| (low as i32..=high as i32).contains(&(p as i32 + shift)))
            .count()
    };
    // Smallest moves first, so the first of the most-inside shifts wins.
    [0, -12, 12, -24, 24, -36, 36, -48, 48, -60, 60]
        .into_iter()
        .rev()
        .max_by_key(|&shift| inside(shift))
        .unwrap_or(0)
}

/// `pitch` moved by octaves into `low..=high` (clamped if the range is under an octave).
fn fold_into(mut pitch: i32, (low, high): (u8, u8)) -> u8 {
    let (low, high) = (low as i32, high as i32);
    while pitch < low && pitch + 12 <= high {
        pitch += 12;
    }
    while pitch > high && pitch - 12 >= low {
        pitch -= 12;
    }
    pitch.clamp(low, high) as u8
}

/// The notes of `part` sounding in `from..from + length`, moved to start at 0 and cut to that
/// window, shifted by `shift` semitones and folded into `range`, velocities scaled by
/// `dynamic`; [normalized](normalize_notes) for one synthesizer channel.
pub fn excerpt(
    part: &[Note],
    from: f64,
    length: f64,
    shift: i32,
    range: (u8, u8),
    dynamic: f64,
) -> Vec<Note> {
    let notes: Vec<Note> = sounding_in(part, from, from + length)
        .map(|n| {
            let velocity = (n.velocity as f64 * dynamic).round().clamp(1.0, 127.0) as u8;
            Note::new(
                (n.onset - from).max(0.0),
                (n.offset - from).min(length),
                fold_into(n.key() as i32 + shift, range),
                velocity,
            )
        })
        .filter(|n| n.offset > n.onset)
        .collect();
    normalize_notes(&notes)
}

fn stem_paths(job: &EnsembleJob, instruments: &[NoteInstrument]) -> Vec<String> {
    job.players()
        .iter()
        .enumerate()
        .map(|(k, &i)| stem_file(&job.dir(), k, &instruments[i].name))
        .collect()
}

fn render_ensemble(
    job: &EnsembleJob,
    pieces: &[Piece],
    instruments: &[NoteInstrument],
    options: &EnsemblesOptions,
) -> Result<Example> {
    let out = &options.notes.out_dir;
    let paths = ExamplePaths::new(out, format!("{}/mix", job.dir()));
    let stems: Vec<PathBuf> = stem_paths(job, instruments)
        .iter()
        .map(|s| out.join(s))
        .collect();
    if let Some(done) = finished_mixture(&paths, &stems) {
        return done;
    }
    let render = &options.notes.render;
    let rate = render.sample_rate as f64;
    let preroll = PREROLL.min(job.start);
    let cut = (preroll * rate).round() as usize;
    let length = (options.seconds * rate).round() as usize;
    // All voices of one instrument, as one channel plays them.
    let player_notes = |player: usize, from: f64, seconds: f64| {
        let range = playable_range(&instruments[player]);
        let notes: Vec<Note> = job
            .voices
            .iter()
            .filter(|v| v.instrument == player)
            .flat_map(|v| {
                let part = &pieces[job.piece].parts[v.part];
                excerpt(part, from, seconds, v.shift, range, v.dynamic)
            })
            .collect();
        normalize_notes(&notes)
    };
    let mut audio = Vec::new();
    let mut labels = Vec::new();
    for player in job.players() {
        let instrument = &instruments[player];
        let played = player_notes(player, job.start - preroll, preroll + options.seconds);
        let mut samples =
            render_notes_to_length(&instrument.instrument, &played, render, cut + length)?;
        samples.drain(..cut);
        let when = format!("in {} from {:.2} s", pieces[job.piece].name, job.start);
        check_audible(instrument, &samples, &when)?;
        audio.push(samples);
        labels.extend(player_notes(player, job.start, options.seconds));
    }
    polyphon_core::sort_notes(&mut labels);
    write_mixture(&paths, audio, &stems, render.sample_rate, &labels)
}

fn ensemble_entry(
    job: &EnsembleJob,
    pieces: &[Piece],
    instruments: &[NoteInstrument],
    example: &Example,
    options: &EnsemblesOptions,
) -> ManifestEntry {
    let players: Vec<&NoteInstrument> = job.players().iter().map(|&i| &instruments[i]).collect();
    let paths = ExamplePaths::new(Path::new(""), format!("{}/mix", job.dir()));
    ManifestEntry {
        file: paths.wav_name(),
        split: job.split,
        synthesizer: players
            .iter()
            .map(|i| i.instrument.id())
            .collect::<Vec<_>>()
            .join("+"),
        labels_csv: paths.csv_name(),
        labels_midi: paths.midi_name(),
        duration: round_micro(example.duration),
        sample_rate: options.notes.render.sample_rate,
        source: Some(format!("{}@{:.3}", pieces[job.piece].name, job.start)),
        instruments: players.iter().map(|i| i.name.clone()).collect(),
        families: players.iter().map(|i| i.family.name.to_string()).collect(),
        stems: stem_paths(job, instruments),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_octave_shift_keeps_most_notes_in_range_with_the_smallest_move() {
        // A soprano line for the bass family (28-67): one octave down keeps all (two would too).
        assert_eq!(octave_shift(&[72, 74, 79, 76], (28, 67)), -12);
        // Already inside: no shift, although an octave up would also fit.
        assert_eq!(octave_shift(&[48, 50, 52], (40, 88)), 0);
        // A bass line for the flute (60-96): up two octaves.
        assert_eq!(octave_shift(&[40, 43, 45], (60, 96)), 24);
        // A wide line: the octave that keeps most of it.
        assert_eq!(octave_shift(&[40, 52, 64, 78], (48, 79)), 0);
        assert_eq!(octave_shift(&[30, 40, 52, 55], (48, 79)), 24);
        assert_eq!(octave_shift(&[], (60, 96)), 0);
    }

    #[test]
    fn only_the_time_inside_the_window_counts_as_sounding() {
        let part = [Note::new(0.0, 1.2, 60, 90), Note::new(3.0, 6.0, 62, 90)];
        assert!((sounding_seconds(&part, 1.0, 5.0) - 2.2).abs() < 1e-12);
        assert_eq!(sounding_seconds(&part, 1.5, 2.5), 0.0);
    }

    #[test]
    fn folding_moves_by_octaves_into_the_range() {
        assert_eq!(fold_into(50, (60, 96)), 62);
        assert_eq!(fold_into(100, (60, 96)), 88);
        assert_eq!(fold_into(70, (60, 96)), 70);
        // A range under an octave clamps what cannot be folded in.
        assert_eq!(fold_into(59, (60, 65)), 60);
    }

    #[test]
    fn an_excerpt_is_cut_to_its_window_moved_and_scaled() {
        let part = [
            Note::new(0.0, 1.5, 60, 100),  // held across the window's start
            Note::new(1.5, 2.0, 62, 100),  // inside
            Note::new(2.5, 4.0, 100, 100), // runs past the end, folded down
            Note::new(4.0, 5.0, 64, 100),  // after the window
        ];
        let notes = excerpt(&part, 1.0, 2.0, 0, (40, 88), 0.5);
        assert_eq!(
            notes,
            vec![
                Note::new(0.0, 0.5, 60, 50),
                Note::new(0.5, 1.0, 62, 50),
                Note::new(1.5, 2.0, 88, 50),
            ]
        );
        let up = excerpt(&part, 1.0, 2.0, 12, (40, 88), 2.0);
        assert_eq!(up[0], Note::new(0.0, 0.5, 72, 127));
    }
}
