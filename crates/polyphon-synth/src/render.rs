//! Rendering note lists to mono audio with rustysynth.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rustysynth::{Synthesizer, SynthesizerSettings};

use crate::soundfont::{LoadedSoundFont, PresetInfo};
use crate::{Result, SynthError};
use polyphon_core::{notes_end, Note};

/// rustysynth's processing block. Events take effect on block boundaries, so they are placed
/// on the nearest boundary: at 44.1 kHz the audio is at most 32 samples (0.73 ms) off the
/// label, far less than a 10 ms frame.
const BLOCK: usize = 64;

/// How audio is rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderSettings {
    pub sample_rate: u32,
    /// Seconds rendered after the last note-off, so the release is not cut.
    pub tail_seconds: f64,
    /// rustysynth's reverb and chorus (the SoundFont / GM defaults: reverb send 40/127).
    pub effects: bool,
}

impl Default for RenderSettings {
    fn default() -> Self {
        Self {
            sample_rate: 44_100,
            tail_seconds: 1.0,
            effects: true,
        }
    }
}

/// A playable instrument: one preset of one SoundFont, with a gain applied to its output.
#[derive(Debug, Clone)]
pub struct Instrument {
    pub soundfont: LoadedSoundFont,
    pub preset: PresetInfo,
    /// Linear gain applied to the rendered mono signal (level matching, see [`crate::levels`]).
    pub gain: f32,
}

impl Instrument {
    /// The preset `bank`/`program` of `soundfont`; an error names the file if it has none.
    pub fn new(soundfont: &LoadedSoundFont, bank: u8, program: u8) -> Result<Self> {
        Ok(Self {
            preset: soundfont.preset(bank, program)?,
            soundfont: soundfont.clone(),
            gain: 1.0,
        })
    }

    /// A stable short name: `<soundfont stem>:<bank>:<program>`, e.g. `FluidR3_GM:000:000`.
    pub fn id(&self) -> String {
        format!(
            "{}:{:03}:{:03}",
            self.soundfont.name, self.preset.bank, self.preset.program
        )
    }
}

/// Renders `notes` (which should be [normalized](polyphon_core::normalize_notes)) and the release
/// tail after the last one.
pub fn render_notes(
    instrument: &Instrument,
    notes: &[Note],
    settings: &RenderSettings,
) -> Result<Vec<f32>> {
    let seconds = notes_end(notes) + settings.tail_seconds;
    let length = (seconds * settings.sample_rate as f64).ceil() as usize;
    render_notes_to_length(instrument, notes, settings, length)
}

/// Renders `notes` into exactly `length` mono samples (later events are dropped).
pub fn render_notes_to_length(
    instrument: &Instrument,
    notes: &[Note],
    settings: &RenderSettings,
    length: usize,
) -> Result<Vec<f32>> {
    let fail = |detail: String| SynthError::Render {
        path: instrument.soundfont.path.clone(),
        detail: format!("{}: {detail}", instrument.id()),
    };
    let mut synth = new_synthesizer(instrument, settings).map_err(fail)?;
    let events = schedule(notes, settings.sample_rate);
    // rustysynth indexes sample data from the SoundFont's tables; a corrupt region must not
    // take the whole run down.
    let stereo = catch_unwind(AssertUnwindSafe(|| {
        play_events(&mut synth, &events, length)
    }))
    .map_err(|_| fail("the synthesizer crashed on this SoundFont's data".into()))?;
    Ok(downmix(stereo, instrument.gain))
}

fn new_synthesizer(
    instrument: &Instrument,
    settings: &RenderSettings,
) -> std::result::Result<Synthesizer, String> {
    let mut synth_settings = SynthesizerSettings::new(settings.sample_rate as i32);
    synth_settings.block_size = BLOCK;
    // Dense piano music with stereo samples needs many voices; voice stealing would cut
    // notes that the labels say still sound.
    synth_settings.maximum_polyphony = 256;
    synth_settings.enable_reverb_and_chorus = settings.effects;
    let mut synth =
        Synthesizer::new(&instrument.soundfont.font, &synth_settings).map_err(|e| e.to_string())?;
    synth.process_midi_message(0, 0xB0, 0x00, instrument.preset.bank as i32);
    synth.process_midi_message(0, 0xC0, instrument.preset.program as i32, 0);
    Ok(synth)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    // Declared first so that, at equal times, a note-off precedes a note-on of the same key.
    Off { key: u8 },
    On { key: u8, velocity: u8 },
}

/// Events at sample positions on the block grid, in time order.
fn schedule(notes: &[Note], sample_rate: u32) -> Vec<(usize, Event)> {
    let at = |seconds: f64| {
        let blocks = (seconds * sample_rate as f64 / BLOCK as f64)
            .round()
            .max(0.0);
        blocks as usize * BLOCK
    };
    let mut events = Vec::with_capacity(2 * notes.len());
    for note in notes {
        let on = at(note.onset);
        // A note always lasts at least one block, or it would never sound.
        let off = at(note.offset).max(on + BLOCK);
        events.push((
            on,
            Event::On {
                key: note.key(),
                velocity: note.velocity,
            },
        ));
        events.push((off, Event::Off { key: note.key() }));
    }
    events.sort();
    events
}

fn play_events(
    synth: &mut Synthesizer,
    events: &[(usize, Event)],
    length: usize,
) -> (Vec<f32>, Vec<f32>) {
    let mut left = vec![0.0f32; length];
    let mut right = vec![0.0f32; length];
    let mut position = 0;
    for &(sample, event) in events {
        let until = sample.min(length);
        if until > position {
            synth.render(&mut left[position..until], &mut right[position..until]);
            position = until;
        }
        match event {
            Event::On { key, velocity } => synth.note_on(0, key as i32, velocity as i32),
            Event::Off { key } => synth.note_off(0, key as i32),
        }
    }
    if length > position {
        synth.render(&mut left[position..], &mut right[position..]);
    }
    (left, right)
}

fn downmix((left, right): (Vec<f32>, Vec<f32>), gain: f32) -> Vec<f32> {
    left.iter()
        .zip(&right)
        .map(|(l, r)| 0.5 * (l + r) * gain)
        .collect()
}

/// Scales `samples` down if their peak exceeds `ceiling`; returns the gain applied (<= 1).
pub fn prevent_clipping(samples: &mut [f32], ceiling: f32) -> f32 {
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if peak <= ceiling || peak == 0.0 {
        return 1.0;
    }
    let gain = ceiling / peak;
    samples.iter_mut().for_each(|s| *s *= gain);
    gain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_sit_on_the_block_grid_with_offs_first() {
        let notes = [Note::new(0.0, 1.0, 60, 100), Note::new(1.0, 2.0, 60, 90)];
        let events = schedule(&notes, 44_100);
        assert!(events.iter().all(|(s, _)| s % BLOCK == 0));
        // 1.0 s = 44100 samples = 689.06 blocks -> block 689.
        assert_eq!(events[1], (689 * BLOCK, Event::Off { key: 60 }));
        assert_eq!(
            events[2],
            (
                689 * BLOCK,
                Event::On {
                    key: 60,
                    velocity: 90
                }
            )
        );
    }

    #[test]
    fn clipping_guard_scales_only_loud_signals() {
        let mut quiet = vec![0.5, -0.25];
        assert_eq!(prevent_clipping(&mut quiet, 0.99), 1.0);
        let mut loud = vec![2.0, -1.0];
        let gain = prevent_clipping(&mut loud, 1.0);
        assert_eq!((gain, loud), (0.5, vec![1.0, -0.5]));
    }
}
