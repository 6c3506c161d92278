//! FLUID-COMBI and FLUID-ISOL (§3.1 of the seed paper): FluidR3 piano, MIDI 49–71.
//!
//! The events are the 23 isolated notes and all C(23, 2) = 253 two-note intervals with
//! exactly synchronous onset and offset, each rendered at several velocities and durations.
//! The audio is rendered once; two manifests give the two data sets:
//! * FLUID-COMBI: train/valid = intervals, test = isolated notes;
//! * FLUID-ISOL: train/valid = isolated notes, test = intervals.

use std::path::PathBuf;

use crate::output::{finished_example, run_jobs, write_example, Example, ExamplePaths};
use crate::recipes::RecipeReport;
use crate::render::{render_notes, Instrument, RenderSettings};
use crate::soundfont::LoadedSoundFont;
use crate::{Result, SynthError};
use polyphon_core::manifest::{train_valid_split, write_manifest, ManifestEntry, Split};
use polyphon_core::SeededRng;
use polyphon_core::{normalize_notes, Note};

#[derive(Debug, Clone)]
pub struct FluidOptions {
    pub soundfont: PathBuf,
    pub out_dir: PathBuf,
    pub seed: u64,
    pub lowest_pitch: u8,
    pub highest_pitch: u8,
    pub velocities: Vec<u8>,
    /// Note durations in seconds (onset to offset).
    pub durations: Vec<f64>,
    /// Silence before the onset, so the onset is visible in the audio.
    pub lead_in: f64,
    /// Fraction of the rendering variants (velocity × duration) held out for validation.
    pub valid_fraction: f64,
    pub bank: u8,
    pub program: u8,
    pub render: RenderSettings,
}

impl FluidOptions {
    /// The paper's set-up: MIDI 49–71, acoustic grand, four velocities, three durations.
    pub fn new(soundfont: PathBuf, out_dir: PathBuf) -> Self {
        Self {
            soundfont,
            out_dir,
            seed: 0,
            lowest_pitch: 49,
            highest_pitch: 71,
            velocities: vec![40, 70, 100, 127],
            durations: vec![0.5, 1.0, 2.0],
            lead_in: 0.1,
            valid_fraction: 0.1,
            bank: 0,
            program: 0,
            render: RenderSettings::default(),
        }
    }
}

/// All unordered pairs of distinct pitches in `lowest..=highest`, low note first.
pub fn intervals(lowest: u8, highest: u8) -> Vec<(u8, u8)> {
    (lowest..=highest)
        .flat_map(|low| (low + 1..=highest).map(move |high| (low, high)))
        .collect()
}

/// One rendered file: the pitches sounding together, at one velocity and duration.
#[derive(Debug, Clone, PartialEq)]
pub struct FluidEvent {
    pub pitches: Vec<u8>,
    pub velocity: u8,
    pub duration: f64,
}

impl FluidEvent {
    pub fn is_interval(&self) -> bool {
        self.pitches.len() == 2
    }

    fn stem(&self) -> String {
        let pitches: Vec<String> = self.pitches.iter().map(|p| format!("{p:03}")).collect();
        let kind = if self.is_interval() {
            "interval"
        } else {
            "note"
        };
        format!(
            "audio/{kind}_{}_v{:03}_d{:.2}",
            pitches.join("_"),
            self.velocity,
            self.duration
        )
    }

    fn notes(&self, lead_in: f64) -> Vec<Note> {
        let notes: Vec<Note> = self
            .pitches
            .iter()
            .map(|&p| Note::new(lead_in, lead_in + self.duration, p, self.velocity))
            .collect();
        normalize_notes(&notes)
    }
}

/// The events in a fixed order: isolated notes, then intervals, each by pitch, velocity,
/// duration.
pub fn plan_events(options: &FluidOptions) -> Vec<FluidEvent> {
    let singles = (options.lowest_pitch..=options.highest_pitch).map(|p| vec![p]);
    let pairs = intervals(options.lowest_pitch, options.highest_pitch)
        .into_iter()
        .map(|(a, b)| vec![a, b]);
    let mut events = Vec::new();
    for pitches in singles.chain(pairs) {
        for &velocity in &options.velocities {
            for &duration in &options.durations {
                events.push(FluidEvent {
                    pitches: pitches.clone(),
                    velocity,
                    duration,
                });
            }
        }
    }
    events
}

/// Renders the FLUID audio and writes `fluid-combi.jsonl` and `fluid-isol.jsonl`.
pub fn run_fluid(options: &FluidOptions) -> Result<RecipeReport> {
    check_options(options)?;
    let font = LoadedSoundFont::load(&options.soundfont)?;
    let instrument = Instrument::new(&font, options.bank, options.program)?;
    let events = plan_events(options);
    let root = options.out_dir.clone();

    let run = run_jobs(
        &options.out_dir,
        events,
        "fluid",
        |event| {
            let paths = ExamplePaths::new(&root, event.stem());
            render_event(&instrument, event, &paths, options)
        },
        |event| event.stem(),
    );

    let mut report = RecipeReport::default();
    report.absorb(&run);
    report.info.push(format!(
        "synthesizer {} ({}), pitches {}-{}: {} isolated notes and {} intervals, {} variants each",
        instrument.id(),
        instrument.preset.name,
        options.lowest_pitch,
        options.highest_pitch,
        options.highest_pitch - options.lowest_pitch + 1,
        intervals(options.lowest_pitch, options.highest_pitch).len(),
        options.velocities.len() * options.durations.len()
    ));
    for (name, train_on_intervals) in [("fluid-combi", true), ("fluid-isol", false)] {
        let entries = dataset_entries(&run.done, train_on_intervals, options, &instrument.id());
        for (entry, example) in &entries {
            report
                .summary
                .add(name, entry.split, example.duration, &example.notes);
        }
        let entries: Vec<ManifestEntry> = entries.into_iter().map(|(e, _)| e).collect();
        let path = options.out_dir.join(format!("{name}.jsonl"));
        write_manifest(&path, &entries)?;
        report.manifests.push(path);
    }
    Ok(report)
}

fn check_options(options: &FluidOptions) -> Result<()> {
    if options.lowest_pitch >= options.highest_pitch || options.highest_pitch > 127 {
        return Err(SynthError::Invalid(format!(
            "pitch range {}-{} must hold at least two MIDI pitches",
            options.lowest_pitch, options.highest_pitch
        )));
    }
    if options.velocities.iter().any(|v| !(1..=127).contains(v)) || options.velocities.is_empty() {
        return Err(SynthError::Invalid("velocities must be 1-127".into()));
    }
    if options
        .durations
        .iter()
        .any(|d| !(d.is_finite() && *d > 0.0))
        || options.durations.is_empty()
    {
        return Err(SynthError::Invalid(
            "durations must be positive seconds".into(),
        ));
    }
    Ok(())
}

fn render_event(
    instrument: &Instrument,
    event: &FluidEvent,
    paths: &ExamplePaths,
    options: &FluidOptions,
) -> Result<Example> {
    if let Some(done) = finished_example(paths) {
        return done;
    }
    let notes = event.notes(options.lead_in);
    let audio = render_notes(instrument, &notes, &options.render)?;
    write_example(
        paths,
        &audio,
        options.render.sample_rate,
        &notes,
        instrument.preset.program,
    )
}

/// The manifest entries of one of the two data sets, with the examples they describe.
///
/// Validation holds out whole rendering *variants* (velocity, duration), the same ones for
/// every training event: it then measures every training combination on renderings the
/// model has not heard. Holding out whole pitch groups instead would leave FLUID-ISOL's
/// validation notes with output units never trained on them.
fn dataset_entries(
    done: &[(FluidEvent, Example)],
    train_on_intervals: bool,
    options: &FluidOptions,
    synthesizer: &str,
) -> Vec<(ManifestEntry, Example)> {
    let mut variants: Vec<(u8, u64)> = done.iter().map(|(e, _)| variant_key(e)).collect();
    variants.sort();
    variants.dedup();
    let stream = if train_on_intervals {
        "fluid-combi"
    } else {
        "fluid-isol"
    };
    let mut rng = SeededRng::new(options.seed, stream);
    let variant_splits = train_valid_split(variants.len(), options.valid_fraction, &mut rng);

    done.iter()
        .map(|(event, example)| {
            let split = if event.is_interval() != train_on_intervals {
                Split::Test
            } else {
                let index = variants.binary_search(&variant_key(event)).unwrap_or(0);
                variant_splits[index]
            };
            let paths = ExamplePaths::new(&options.out_dir, event.stem());
            let entry = ManifestEntry {
                file: paths.wav_name(),
                split,
                synthesizer: synthesizer.to_string(),
                labels_csv: paths.csv_name(),
                labels_midi: paths.midi_name(),
                duration: round_micro(example.duration),
                sample_rate: options.render.sample_rate,
                source: None,
                instruments: vec![],
                families: vec![],
                stems: vec![],
            };
            (entry, example.clone())
        })
        .collect()
}

/// (velocity, duration in microseconds): an orderable key of a rendering variant.
fn variant_key(event: &FluidEvent) -> (u8, u64) {
    (event.velocity, (event.duration * 1e6).round() as u64)
}

pub(crate) fn round_micro(seconds: f64) -> f64 {
    (seconds * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_paper_range_has_253_intervals_and_23_notes() {
        assert_eq!(intervals(49, 71).len(), 253);
        let options = FluidOptions::new("x.sf2".into(), "out".into());
        let events = plan_events(&options);
        let variants = options.velocities.len() * options.durations.len();
        assert_eq!(events.len(), (23 + 253) * variants);
        assert_eq!(
            events.iter().filter(|e| !e.is_interval()).count(),
            23 * variants
        );
        assert!(events
            .iter()
            .all(|e| e.pitches.iter().all(|p| (49..=71).contains(p))));
    }

    #[test]
    fn interval_notes_share_onset_and_offset() {
        let event = FluidEvent {
            pitches: vec![49, 71],
            velocity: 100,
            duration: 1.0,
        };
        let notes = event.notes(0.1);
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].onset, notes[1].onset);
        assert_eq!(notes[0].offset, notes[1].offset);
    }
}
