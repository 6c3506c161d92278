//! Loading SoundFont files and finding their presets.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustysynth::SoundFont;

use crate::{Result, SynthError};

/// Debian's path of FluidR3 (package `fluid-soundfont-gm`), the default SoundFont.
pub const DEBIAN_FLUID_R3: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";
/// Where Debian's SoundFont packages install SF2 files.
pub const DEBIAN_SF2_DIR: &str = "/usr/share/sounds/sf2";

/// A SoundFont loaded in memory, with the file it came from.
#[derive(Debug, Clone)]
pub struct LoadedSoundFont {
    pub path: PathBuf,
    /// The file stem, e.g. `FluidR3_GM`: the short name used in synthesizer names.
    pub name: String,
    pub font: Arc<SoundFont>,
}

/// One preset (instrument) of a SoundFont.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PresetInfo {
    pub bank: u8,
    pub program: u8,
    pub name: String,
}

impl LoadedSoundFont {
    /// Reads an SF2 file. Errors name the file; SF3 (compressed) files are refused with a hint,
    /// since rustysynth reads SF2 only.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(SynthError::io(&path))?;
        let mut reader = BufReader::new(file);
        let mut magic = [0u8; 12];
        reader
            .read_exact(&mut magic)
            .map_err(|_| soundfont_error(&path, "file is shorter than a RIFF header"))?;
        if &magic[0..4] != b"RIFF" || &magic[8..12] != b"sfbk" {
            return Err(soundfont_error(&path, "no RIFF 'sfbk' header"));
        }
        let mut whole = magic.chain(reader);
        // rustysynth indexes its tables without checking them all; a corrupt file must be an
        // error naming it, not a crash of the whole run.
        let parsed =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| SoundFont::new(&mut whole)));
        let font = match parsed {
            Ok(Ok(font)) => font,
            Ok(Err(rustysynth::SoundFontError::UnsupportedSampleFormat)) => {
                return Err(soundfont_error(
                    &path,
                    "compressed (SF3) samples; rustysynth reads 16-bit SF2 only",
                ))
            }
            Ok(Err(e)) => return Err(soundfont_error(&path, &e.to_string())),
            Err(_) => return Err(soundfont_error(&path, "corrupt preset or sample tables")),
        };
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "soundfont".into());
        Ok(Self {
            path,
            name,
            font: Arc::new(font),
        })
    }

    /// All presets, sorted by bank then program.
    pub fn presets(&self) -> Vec<PresetInfo> {
        let mut presets: Vec<PresetInfo> = self
            .font
            .get_presets()
            .iter()
            .filter(|p| (0..=255).contains(&p.get_bank_number()))
            .map(|p| PresetInfo {
                bank: p.get_bank_number() as u8,
                program: p.get_patch_number().clamp(0, 127) as u8,
                name: p.get_name().trim().to_string(),
            })
            .collect();
        presets.sort();
        presets.dedup_by(|a, b| a.bank == b.bank && a.program == b.program);
        presets
    }

    /// The preset at `bank`/`program`, or an error naming the file and the preset.
    ///
    /// rustysynth would silently fall back to another preset; data sets must not.
    pub fn preset(&self, bank: u8, program: u8) -> Result<PresetInfo> {
        self.presets()
            .into_iter()
            .find(|p| p.bank == bank && p.program == program)
            .ok_or_else(|| SynthError::MissingPreset {
                path: self.path.clone(),
                bank,
                program,
            })
    }
}

fn soundfont_error(path: &Path, detail: &str) -> SynthError {
    SynthError::SoundFont {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    }
}

/// The SoundFont tests and examples use: `$POLYPHON_SOUNDFONT` if set, else Debian's FluidR3,
/// else `None`.
pub fn default_soundfont_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("POLYPHON_SOUNDFONT") {
        return Some(PathBuf::from(path));
    }
    let debian = Path::new(DEBIAN_FLUID_R3);
    debian.exists().then(|| debian.to_path_buf())
}

/// The SF2 files installed in `dir`, each once (aliases such as Debian's `default-GM.sf2`
/// symlink are resolved and dropped), sorted by file name.
pub fn installed_soundfonts(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(SynthError::io(dir))?;
    let mut seen = std::collections::BTreeSet::new();
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("sf2")))
        .filter_map(|p| p.canonicalize().ok())
        .filter(|p| seen.insert(p.clone()))
        .collect();
    files.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installed_soundfonts_are_listed_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("b.sf2"), b"").unwrap();
        std::fs::write(dir.path().join("a.SF2"), b"").unwrap();
        std::fs::write(dir.path().join("c.sf3"), b"").unwrap();
        std::os::unix::fs::symlink(dir.path().join("b.sf2"), dir.path().join("default.sf2"))
            .unwrap();
        let names: Vec<String> = installed_soundfonts(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.SF2", "b.sf2"]);
    }

    #[test]
    fn missing_file_names_the_path() {
        let message = LoadedSoundFont::load("/nonexistent/piano.sf2")
            .unwrap_err()
            .to_string();
        assert!(message.contains("/nonexistent/piano.sf2"), "{message}");
    }

    #[test]
    fn non_soundfont_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fake.sf2");
        std::fs::write(&path, b"RIFF\x10\x00\x00\x00WAVEfmt garbage").unwrap();
        let message = LoadedSoundFont::load(&path).unwrap_err().to_string();
        assert!(message.contains("fake.sf2") && message.contains("not a usable SoundFont"));
    }

    #[test]
    fn truncated_soundfont_is_an_error_not_a_panic() {
        let Some(real) = default_soundfont_path() else {
            eprintln!("no SoundFont installed; skipping");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.sf2");
        let mut bytes = vec![0u8; 4096];
        File::open(real).unwrap().read_exact(&mut bytes).unwrap();
        std::fs::write(&path, bytes).unwrap();
        let message = LoadedSoundFont::load(&path).unwrap_err().to_string();
        assert!(message.contains("cut.sf2"), "{message}");
    }
}
