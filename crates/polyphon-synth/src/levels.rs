//! Measuring and matching the loudness of SoundFont presets.
//!
//! SoundFonts disagree by tens of decibels on how loud "velocity 100" is: in rustysynth,
//! FluidR3's grand plays middle C at -37 dBFS, MuseScore General's at -64 dBFS. The latter is
//! not just quiet but broken: its level *falls* from velocity 70 (-46.5 dBFS) to 100 and
//! jumps at 127 (-35.9 dBFS), so no single gain fixes it. [`check_velocity_response`] finds
//! such presets so recipes can leave them out. A data set mixing them would
//! teach a model that loudness identifies the synthesizer, so recipes that use several
//! SoundFonts scale each instrument to a common level measured here.

use crate::render::{render_notes_to_length, Instrument, RenderSettings};
use crate::{Result, SynthError};
use polyphon_core::Note;

/// Middle C (C4).
pub const REFERENCE_PITCH: u8 = 60;
pub const REFERENCE_VELOCITY: u8 = 100;
/// About the level of FluidR3's grand piano (middle C, velocity 100, dry, 1 s RMS: -36.6 dBFS
/// in rustysynth), so level-matched sets sound like FLUID and dense chords have headroom.
pub const DEFAULT_TARGET_DBFS: f64 = -36.0;
/// Below this a preset is considered silent (broken or empty).
const SILENT_DBFS: f64 = -80.0;

/// The loudness of one held note.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// RMS over the one second the note is held, dB relative to full scale.
    pub rms_dbfs: f64,
    pub peak_dbfs: f64,
}

/// Renders `pitch` at `velocity` for one second, dry and at unit gain, and measures it.
pub fn measure_level(
    instrument: &Instrument,
    pitch: u8,
    velocity: u8,
    sample_rate: u32,
) -> Result<Level> {
    let note = Note::new(0.0, 1.0, pitch, velocity);
    let samples = render_dry(instrument, note, sample_rate, sample_rate as usize)?;
    let energy: f64 = samples.iter().map(|&s| (s as f64) * (s as f64)).sum();
    let rms = (energy / samples.len() as f64).sqrt();
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs())) as f64;
    Ok(Level {
        rms_dbfs: decibels(rms),
        peak_dbfs: decibels(peak),
    })
}

/// Half a second of `pitch` at the reference velocity, dry and at unit gain: a fingerprint
/// that tells presets sharing samples and settings apart from different ones (variation banks
/// often repeat a bank-0 preset under another name).
pub(crate) fn reference_note(
    instrument: &Instrument,
    pitch: u8,
    sample_rate: u32,
) -> Result<Vec<f32>> {
    let note = Note::new(0.0, 0.5, pitch, REFERENCE_VELOCITY);
    render_dry(instrument, note, sample_rate, sample_rate as usize / 2)
}

/// `length` samples of one note, dry and at unit gain: what the preset itself gives.
fn render_dry(
    instrument: &Instrument,
    note: Note,
    sample_rate: u32,
    length: usize,
) -> Result<Vec<f32>> {
    let unit = Instrument {
        gain: 1.0,
        ..instrument.clone()
    };
    let settings = RenderSettings {
        sample_rate,
        tail_seconds: 0.0,
        effects: false,
    };
    render_notes_to_length(&unit, &[note], &settings, length)
}

/// Whether two [`reference_note`]s are the same sound (equal up to float rounding).
pub(crate) fn same_sound(a: &[f32], b: &[f32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 1e-6)
}

/// The gain that brings `level` to `target_dbfs`; an error if the preset is silent.
pub fn matching_gain(instrument: &Instrument, level: Level, target_dbfs: f64) -> Result<f32> {
    if level.rms_dbfs < SILENT_DBFS {
        return Err(SynthError::Render {
            path: instrument.soundfont.path.clone(),
            detail: format!(
                "{} ({}) is silent: {:.1} dBFS",
                instrument.id(),
                instrument.preset.name,
                level.rms_dbfs
            ),
        });
    }
    Ok(10f64.powf((target_dbfs - level.rms_dbfs) / 20.0) as f32)
}

/// Measures `instrument` at `pitch` and sets its gain so that it plays at `target_dbfs`.
pub fn match_level(
    instrument: &mut Instrument,
    pitch: u8,
    target_dbfs: f64,
    sample_rate: u32,
) -> Result<Level> {
    let level = measure_level(instrument, pitch, REFERENCE_VELOCITY, sample_rate)?;
    instrument.gain = matching_gain(instrument, level, target_dbfs)?;
    Ok(level)
}

/// Velocities and pitches at which [`check_velocity_response`] measures a preset.
const CHECK_VELOCITIES: [u8; 4] = [40, 70, 100, 127];
const CHECK_PITCHES: [u8; 3] = [36, 60, 84];
/// Largest level drop (dB) tolerated from one checked velocity to the next louder one.
const MAX_VELOCITY_DROP_DB: f64 = 1.0;

/// Fails if a louder velocity plays quieter (by more than 1 dB) at C2, C4 or C6: a sign of
/// velocity layers that rustysynth renders wrongly. Pitches the preset does not sound at are
/// skipped.
pub fn check_velocity_response(instrument: &Instrument, sample_rate: u32) -> Result<()> {
    for pitch in CHECK_PITCHES {
        let mut previous: Option<(u8, f64)> = None;
        for velocity in CHECK_VELOCITIES {
            let level = measure_level(instrument, pitch, velocity, sample_rate)?.rms_dbfs;
            if level < SILENT_DBFS {
                break;
            }
            if let Some((quieter, before)) = previous {
                if level < before - MAX_VELOCITY_DROP_DB {
                    return Err(SynthError::Render {
                        path: instrument.soundfont.path.clone(),
                        detail: format!(
                            "{} ({}) has broken velocity layers: pitch {pitch} plays at \
                             {before:.1} dBFS with velocity {quieter} but {level:.1} dBFS with \
                             velocity {velocity}",
                            instrument.id(),
                            instrument.preset.name
                        ),
                    });
                }
            }
            previous = Some((velocity, level));
        }
    }
    Ok(())
}

pub fn decibels(amplitude: f64) -> f64 {
    20.0 * amplitude.max(1e-10).log10()
}

/// The level table of `polyphon synth levels`: every piano preset (programs 0-7) of each
/// SoundFont, its RMS and peak level on the reference note and whether its velocity layers
/// respond in order. A SoundFont that cannot be loaded goes to `skipped` instead.
pub fn levels_table(
    soundfonts: &[std::path::PathBuf],
    mut skipped: impl FnMut(&crate::SynthError),
) -> Result<String> {
    use std::fmt::Write as _;
    let mut table = format!(
        "{:36} {:28} {:>9} {:>10}  velocity response\n",
        "synthesizer", "preset", "rms dBFS", "peak dBFS"
    );
    for path in soundfonts {
        let font = match crate::soundfont::LoadedSoundFont::load(path) {
            Ok(font) => font,
            Err(error) => {
                skipped(&error);
                continue;
            }
        };
        let presets = font.presets();
        for preset in presets.iter().filter(|p| p.program < 8 && p.bank < 128) {
            let instrument = Instrument::new(&font, preset.bank, preset.program)?;
            let level = measure_level(&instrument, REFERENCE_PITCH, REFERENCE_VELOCITY, 44_100)?;
            let response = match check_velocity_response(&instrument, 44_100) {
                Ok(()) => "ok".to_string(),
                Err(error) => format!("BROKEN: {error}"),
            };
            let _ = writeln!(
                table,
                "{:36} {:28} {:>9.1} {:>10.1}  {response}",
                instrument.id(),
                preset.name,
                level.rms_dbfs,
                level.peak_dbfs
            );
        }
    }
    Ok(table)
}
