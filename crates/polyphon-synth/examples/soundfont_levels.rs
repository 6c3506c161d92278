//! Prints the level of every piano preset (GM programs 0–7, any bank) of the given SoundFonts:
//! middle C at velocity 100, held one second, dry, at 44.1 kHz.
//!
//! cargo run --release -p polyphon-synth --example soundfont_levels -- /usr/share/sounds/sf2/*.sf2

use polyphon_synth::levels::{measure_level, REFERENCE_PITCH, REFERENCE_VELOCITY};
use polyphon_synth::render::Instrument;
use polyphon_synth::soundfont::LoadedSoundFont;

fn main() {
    for path in std::env::args().skip(1) {
        let font = match LoadedSoundFont::load(&path) {
            Ok(font) => font,
            Err(e) => {
                println!("{e}");
                continue;
            }
        };
        for preset in font
            .presets()
            .iter()
            .filter(|p| p.program < 8 && p.bank < 128)
        {
            let instrument = Instrument::new(&font, preset.bank, preset.program).unwrap();
            match measure_level(&instrument, REFERENCE_PITCH, REFERENCE_VELOCITY, 44_100) {
                Ok(level) => println!(
                    "{:40} {:28} rms {:6.1} dBFS  peak {:6.1} dBFS",
                    instrument.id(),
                    preset.name,
                    level.rms_dbfs,
                    level.peak_dbfs
                ),
                Err(e) => println!("{e}"),
            }
        }
    }
}
