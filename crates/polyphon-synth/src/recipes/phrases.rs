//! Short musical phrases per instrument: the notes set's instruments playing melodies, chords
//! and arpeggios instead of one held note.
//!
//! Instrument models trained on isolated held notes misjudge music: a piano piece's 4 s
//! segments have many onsets, overlapping notes and chords, which no training note has.
//! Every phrase is `seconds` long at the notes set's rate, played by one instrument of
//! [`plan_instruments`] (same SoundFonts, seed, level matching and split by instrument as
//! `polyphon synth notes`, so valid and test instruments stay unheard in training):
//!
//! * a **melody**: a seeded random walk of steps up to a fourth over the family's range, note
//!   values of a half, one or two beats at 60–200 beats per minute, played legato or detached;
//! * for the chord families (keyboard, guitar, organ, vocal) also **chords** (2–4 notes of
//!   thirds and fifths, changing every one or two beats) and **arpeggios** (broken chords).
//!
//! Velocities vary around a phrase's dynamic. Labels and layout as the notes set:
//! `phrases-<split>/audio/<instrument>-p<k>.wav|csv|mid` and `phrases.jsonl`.

use std::path::PathBuf;

use crate::output::{finished_example, run_jobs, Example, ExamplePaths};
use crate::recipes::notes::{
    instrument_entry, plan_instruments, render_example, Family, NoteInstrument, NotesOptions,
};
use crate::recipes::RecipeReport;
use crate::{Result, SynthError};
use polyphon_core::manifest::write_manifest;
use polyphon_core::SeededRng;
use polyphon_core::{normalize_notes, Note};

/// Families that play chords and arpeggios as well as melodies.
pub(crate) const CHORD_FAMILIES: [&str; 4] = ["keyboard", "guitar", "organ", "vocal"];

#[derive(Debug, Clone)]
pub struct PhrasesOptions {
    /// SoundFonts, families, seed, level matching and rendering: as for the notes set.
    pub notes: NotesOptions,
    pub phrases_per_instrument: usize,
    pub seconds: f64,
}

impl PhrasesOptions {
    pub fn new(soundfonts: Vec<PathBuf>, out_dir: PathBuf) -> Self {
        Self {
            notes: NotesOptions::new(soundfonts, out_dir),
            phrases_per_instrument: 20,
            seconds: 4.0,
        }
    }
}

/// One phrase to render.
#[derive(Debug, Clone)]
pub struct PhraseJob {
    pub instrument: usize,
    pub index: usize,
}

/// What a phrase plays.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Texture {
    Melody,
    Chords,
    Arpeggio,
}

/// Renders the phrases and writes `phrases.jsonl`.
pub fn run_phrases(options: &PhrasesOptions) -> Result<RecipeReport> {
    if options.phrases_per_instrument == 0 || options.seconds < 1.0 {
        return Err(SynthError::Invalid(
            "phrases need at least one per instrument and at least 1 s each".into(),
        ));
    }
    if options.notes.soundfonts.is_empty() {
        return Err(SynthError::Invalid("give at least one SoundFont".into()));
    }
    let mut report = RecipeReport::default();
    let instruments = plan_instruments(&options.notes, &mut report)?;
    let jobs: Vec<PhraseJob> = (0..instruments.len())
        .flat_map(|instrument| {
            (0..options.phrases_per_instrument).map(move |index| PhraseJob { instrument, index })
        })
        .collect();
    let out = &options.notes.out_dir;
    let stem = |job: &PhraseJob| {
        let instrument = &instruments[job.instrument];
        format!(
            "phrases-{}/audio/{}-p{:03}",
            instrument.split.name(),
            instrument.name,
            job.index
        )
    };
    let run = run_jobs(
        out,
        jobs,
        "phrases",
        |job| {
            render_phrase(
                &instruments[job.instrument],
                job,
                &ExamplePaths::new(out, stem(job)),
                options,
            )
        },
        stem,
    );
    report.absorb(&run);
    let mut entries = Vec::new();
    for (job, example) in &run.done {
        let instrument = &instruments[job.instrument];
        let paths = ExamplePaths::new(out, stem(job));
        report.summary.add(
            "phrases",
            instrument.split,
            example.duration,
            &example.notes,
        );
        let source = paths
            .stem
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        entries.push(instrument_entry(
            instrument,
            &paths,
            example,
            options.notes.render.sample_rate,
            source,
        ));
    }
    let path = out.join("phrases.jsonl");
    write_manifest(&path, &entries)?;
    report.manifests.push(path);
    Ok(report)
}

fn render_phrase(
    instrument: &NoteInstrument,
    job: &PhraseJob,
    paths: &ExamplePaths,
    options: &PhrasesOptions,
) -> Result<Example> {
    if let Some(done) = finished_example(paths) {
        return done;
    }
    let mut rng = SeededRng::new(
        options.notes.seed ^ (job.index as u64).wrapping_mul(0x9E37_79B9),
        &instrument.name,
    );
    let notes = phrase(&instrument.family, options.seconds, &mut rng);
    render_example(
        instrument,
        &notes,
        options.seconds,
        &options.notes.render,
        paths,
        &format!("in phrase {}", job.index),
    )
}

/// The notes of one seeded phrase of `family`, starting at 0 and ending by `seconds`,
/// [normalized](normalize_notes) for one synthesizer channel.
pub fn phrase(family: &Family, seconds: f64, rng: &mut SeededRng) -> Vec<Note> {
    let texture = if CHORD_FAMILIES.contains(&family.name) {
        [Texture::Melody, Texture::Chords, Texture::Arpeggio][rng.below(3) as usize]
    } else {
        Texture::Melody
    };
    let beat = 60.0 / (60.0 + 140.0 * rng.unit());
    let legato = 0.6 + 0.4 * rng.unit();
    let dynamic = 40.0 + 80.0 * rng.unit();
    let (low, high) = (family.lowest_pitch as i32, family.highest_pitch as i32);
    // Chords need room above their root.
    let top = if texture == Texture::Melody {
        high
    } else {
        (high - 12).max(low)
    };
    let mut pitch = low + rng.below((top - low + 1) as u64) as i32;
    let mut notes = Vec::new();
    let mut onset = 0.0;
    while onset < seconds - 0.05 {
        let beats = [0.5, 1.0, 1.0, 2.0][rng.below(4) as usize];
        let length = beats * beat;
        let velocity =
            |rng: &mut SeededRng| (dynamic + 20.0 * (rng.unit() - 0.5)).clamp(1.0, 127.0) as u8;
        let chord = chord_above(pitch, high, rng);
        match texture {
            Texture::Melody => {
                notes.push(Note::new(
                    onset,
                    onset + length * legato,
                    pitch as u8,
                    velocity(rng),
                ));
            }
            Texture::Chords => {
                for &p in &chord {
                    notes.push(Note::new(
                        onset,
                        onset + length * legato,
                        p as u8,
                        velocity(rng),
                    ));
                }
            }
            Texture::Arpeggio => {
                let step = length / chord.len() as f64;
                for (i, &p) in chord.iter().enumerate() {
                    let start = onset + i as f64 * step;
                    // Broken chords ring on to the end of the chord.
                    notes.push(Note::new(start, onset + length, p as u8, velocity(rng)));
                }
            }
        }
        onset += length;
        let step = rng.below(11) as i32 - 5;
        pitch = (pitch + step).clamp(low, top);
    }
    for note in &mut notes {
        note.offset = note.offset.min(seconds);
    }
    normalize_notes(&notes)
}

/// A root position triad or seventh chord (2–4 notes) on `root`, kept at or below `high`.
fn chord_above(root: i32, high: i32, rng: &mut SeededRng) -> Vec<i32> {
    let third = if rng.below(2) == 0 { 3 } else { 4 };
    let intervals = [0, third, 7, 10 + (third == 4) as i32];
    let size = 2 + rng.below(3) as usize;
    intervals[..size]
        .iter()
        .map(|i| root + i)
        .filter(|&p| p <= high)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recipes::notes::default_families;

    fn family(name: &str) -> Family {
        default_families()
            .into_iter()
            .find(|f| f.name == name)
            .unwrap()
    }

    #[test]
    fn phrases_stay_in_the_family_range_and_the_phrase_length() {
        for name in ["bass", "flute", "keyboard", "vocal"] {
            let f = family(name);
            for seed in 0..50 {
                let notes = phrase(&f, 4.0, &mut SeededRng::new(seed, name));
                assert!(notes.len() >= 2, "{name} {seed}: {notes:?}");
                for n in &notes {
                    assert!(
                        (f.lowest_pitch..=f.highest_pitch).contains(&n.key()),
                        "{n:?}"
                    );
                    assert!(
                        n.onset >= 0.0 && n.onset < 4.0 && n.offset > n.onset,
                        "{n:?}"
                    );
                    assert!((1..=127).contains(&n.velocity));
                }
            }
        }
    }

    #[test]
    fn melody_families_play_one_note_at_a_time_and_chord_families_also_chords() {
        let overlapping = |notes: &[Note]| {
            notes.iter().any(|a| {
                notes
                    .iter()
                    .any(|b| b.onset > a.onset && b.onset < a.offset - 1e-9)
            }) || notes.windows(2).any(|w| w[0].onset == w[1].onset)
        };
        let bass = family("bass");
        for seed in 0..50 {
            assert!(!overlapping(&phrase(
                &bass,
                4.0,
                &mut SeededRng::new(seed, "b")
            )));
        }
        let keyboard = family("keyboard");
        let polyphonic = (0..50)
            .filter(|&seed| overlapping(&phrase(&keyboard, 4.0, &mut SeededRng::new(seed, "k"))))
            .count();
        assert!((15..50).contains(&polyphonic), "{polyphonic} of 50");
    }

    #[test]
    fn a_phrase_is_a_function_of_its_seed() {
        let f = family("guitar");
        let a = phrase(&f, 4.0, &mut SeededRng::new(3, "g"));
        assert_eq!(a, phrase(&f, 4.0, &mut SeededRng::new(3, "g")));
        assert_ne!(a, phrase(&f, 4.0, &mut SeededRng::new(4, "g")));
    }
}
