//! Multi-label training examples mixed on the fly from single notes.
//!
//! 1,600 training mixtures are few for a network that must tell 2^6 family sets apart; the
//! notes set has 8,364 training notes of the same six families (and the same training
//! SoundFonts, so validation and test timbres stay unseen). Each mixed example sums 1 to
//! `max_parts` notes of distinct families, each at a random gain, labelled with the union of
//! their families, and becomes an image exactly as a file does. The real mixtures sum
//! their notes at rendered level too; the random gains add variety in balance.
//!
//! [`MixDraw`] says how the notes are picked. `families` (the first recipe) takes distinct
//! families, so every note adds a label. `polyphon synth mixtures` takes distinct
//! *instruments*, and families repeat: its 6-instrument mixtures hold 2 to 6 families, mostly
//! 3 or 4. A network taught only the first learns that more notes mean more families and
//! calls absent ones; `instruments` draws as the real mixtures do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polyphon_audio::read_mono;
use polyphon_core::manifest::{read_split, Split};
use polyphon_core::SeededRng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Task, MULTI_CLASSES};
use crate::image::{BandImage, BandImager};
use crate::note_eq::NoteEqualiser;
use crate::{InstrumentError, Result};

/// Gains of the mixed notes, in dB.
const GAIN_DB: (f64, f64) = (-9.0, 0.0);

/// How a mixed example picks its notes: see the [module documentation](self).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MixDraw {
    /// 1 to `max_parts` distinct families, one note of each.
    #[default]
    Families,
    /// 1 to `max_parts` distinct instruments, one note of each; families may repeat.
    Instruments,
}

impl MixDraw {
    pub fn name(self) -> &'static str {
        match self {
            Self::Families => "families",
            Self::Instruments => "instruments",
        }
    }
}

impl std::str::FromStr for MixDraw {
    type Err = InstrumentError;

    fn from_str(text: &str) -> Result<Self> {
        [Self::Families, Self::Instruments]
            .into_iter()
            .find(|draw| draw.name() == text)
            .ok_or_else(|| {
                InstrumentError::Invalid(format!("{text}: draw families or instruments"))
            })
    }
}

/// See the [module documentation](self).
pub struct NoteMixer {
    /// Mono samples of each note, cut to one image's length.
    notes: Vec<Vec<f32>>,
    pools: NotePools,
    imager: BandImager,
}

/// The notes by class and by instrument, and how many go into one example.
struct NotePools {
    /// Class of [`MULTI_CLASSES`] of each note.
    class_of: Vec<usize>,
    /// Note indices of each class.
    by_class: Vec<Vec<usize>>,
    /// Note indices of each instrument (in name order).
    by_instrument: Vec<Vec<usize>>,
    max_parts: usize,
}

impl NotePools {
    /// `notes`: each note's instrument name and class.
    fn new(notes: &[(String, usize)], max_parts: usize) -> Self {
        let mut by_class = vec![Vec::new(); MULTI_CLASSES.len()];
        let mut instruments: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (note, (instrument, class)) in notes.iter().enumerate() {
            by_class[*class].push(note);
            instruments.entry(instrument).or_default().push(note);
        }
        Self {
            class_of: notes.iter().map(|(_, class)| *class).collect(),
            by_class,
            by_instrument: instruments.into_values().collect(),
            max_parts,
        }
    }

    /// The notes of one example, each with its gain. The gain is drawn right after its note,
    /// so the `families` draw repeats the examples of runs made before `instruments` existed.
    fn draw(&self, rng: &mut SeededRng, draw: MixDraw) -> Vec<(usize, f32)> {
        let pools: Vec<&Vec<usize>> = match draw {
            MixDraw::Families => self.by_class.iter().filter(|p| !p.is_empty()).collect(),
            MixDraw::Instruments => self.by_instrument.iter().collect(),
        };
        let mut chosen: Vec<usize> = (0..pools.len()).collect();
        rng.shuffle(&mut chosen);
        let parts = 1 + rng.below(self.max_parts.min(chosen.len()) as u64) as usize;
        chosen[..parts]
            .iter()
            .map(|&pool| {
                let note = *rng.choose(pools[pool]);
                let db = GAIN_DB.0 + (GAIN_DB.1 - GAIN_DB.0) * rng.unit();
                (note, 10f64.powf(db / 20.0) as f32)
            })
            .collect()
    }
}

impl NoteMixer {
    /// Reads the notes of `split` of a notes manifest whose one family is one of the six
    /// multi-label classes.
    pub fn load(
        manifest: &Path,
        split: Split,
        image: &BandImage,
        max_parts: usize,
    ) -> Result<Self> {
        let root = manifest.parent().unwrap_or(Path::new("."));
        let mut files = Vec::new();
        let mut identities = Vec::new();
        for entry in read_split(manifest, split)? {
            let [family] = entry.families.as_slice() else {
                continue;
            };
            if let Some(class) = MULTI_CLASSES.iter().position(|c| c == family) {
                files.push(root.join(&entry.file));
                // A notes set names one instrument per note; the file stands in otherwise.
                let instrument = entry.instruments.first().unwrap_or(&entry.file).clone();
                identities.push((instrument, class));
            }
        }
        if files.is_empty() || max_parts == 0 {
            return Err(InstrumentError::Invalid(format!(
                "{}: no single notes of {} in split '{}' to mix (or no parts allowed)",
                manifest.display(),
                MULTI_CLASSES.join(", "),
                split.name()
            )));
        }
        let keep = image.samples() + image.n_fft;
        let notes = files
            .par_iter()
            .map(|path| {
                let mut audio = read_mono(path, Some(image.sample_rate), Default::default())?;
                audio.samples.truncate(keep);
                Ok(audio.samples)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            notes,
            pools: NotePools::new(&identities, max_parts),
            imager: image.imager()?,
        })
    }

    pub fn notes(&self) -> usize {
        self.notes.len()
    }

    /// `count` mixed examples as a multi-label data set, a function of `seed`, `draw` and
    /// `eq_db`: with `eq_db > 0` every note is equalised at random first ([`NoteEqualiser`],
    /// drawn from a stream of its own, so the notes and gains are those drawn without it).
    pub fn mix(&self, seed: u64, count: usize, draw: MixDraw, eq_db: f64) -> Result<Dataset> {
        let params = self.imager.params();
        let equaliser = (eq_db > 0.0).then(|| {
            let longest = self.notes.iter().map(Vec::len).max().unwrap_or(0);
            NoteEqualiser::new(eq_db, longest, params.sample_rate)
        });
        let examples = (0..count)
            .into_par_iter()
            .map(|i| {
                let example = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
                let mut rng = SeededRng::new(example, "mix");
                let mut eq_rng = SeededRng::new(example, "mix-eq");
                let mut mix: Vec<f32> = Vec::new();
                let mut target = vec![0f32; MULTI_CLASSES.len()];
                for (note, gain) in self.pools.draw(&mut rng, draw) {
                    let equalised = equaliser
                        .as_ref()
                        .map(|eq| eq.apply(&self.notes[note], &mut eq_rng));
                    let samples = equalised.as_deref().unwrap_or(&self.notes[note]);
                    if mix.len() < samples.len() {
                        mix.resize(samples.len(), 0.0);
                    }
                    mix.iter_mut()
                        .zip(samples)
                        .for_each(|(m, &s)| *m += gain * s);
                    target[self.pools.class_of[note]] = 1.0;
                }
                Ok((self.imager.image_of_samples(&mix)?, target))
            })
            .collect::<Result<Vec<_>>>()?;
        let (images, targets): (Vec<_>, Vec<_>) = examples.into_iter().unzip();
        Ok(Dataset {
            task: Task::Multi,
            features: images.concat(),
            num_features: self.imager.params().len(),
            targets: targets.concat(),
            files: (0..count)
                .map(|i| PathBuf::from(format!("mixed-{seed}-{i}")))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Two instruments of class 0, one each of classes 1 and 2, three notes each.
    fn pools(max_parts: usize) -> NotePools {
        let notes: Vec<(String, usize)> = [("a", 0), ("b", 0), ("c", 1), ("d", 2)]
            .iter()
            .flat_map(|&(name, class)| (0..3).map(move |_| (name.to_string(), class)))
            .collect();
        NotePools::new(&notes, max_parts)
    }

    fn draws(pools: &NotePools, draw: MixDraw) -> Vec<Vec<usize>> {
        (0..400)
            .map(|i| {
                let mut rng = SeededRng::new(i, "mix");
                pools.draw(&mut rng, draw).iter().map(|&(n, _)| n).collect()
            })
            .collect()
    }

    #[test]
    fn the_families_draw_adds_a_family_with_every_note() {
        let pools = pools(6);
        for notes in draws(&pools, MixDraw::Families) {
            let mut classes: Vec<usize> = notes.iter().map(|&n| pools.class_of[n]).collect();
            classes.sort_unstable();
            classes.dedup();
            assert_eq!(classes.len(), notes.len(), "{notes:?}");
            assert!((1..=3).contains(&notes.len()));
        }
    }

    #[test]
    fn the_instruments_draw_repeats_families_but_not_instruments() {
        let pools = pools(6);
        let all = draws(&pools, MixDraw::Instruments);
        let mut repeated = 0;
        for notes in &all {
            let instruments: BTreeSet<usize> = notes.iter().map(|&n| n / 3).collect();
            assert_eq!(instruments.len(), notes.len(), "{notes:?}");
            assert!((1..=4).contains(&notes.len()));
            let class_0 = notes.iter().filter(|&&n| pools.class_of[n] == 0).count();
            repeated += usize::from(class_0 == 2);
        }
        // Both class-0 instruments are in every 4-note example and in half the 3-note ones.
        assert!(repeated > 100, "{repeated} of {}", all.len());
    }

    /// A notes manifest of four half-second tones, one instrument of each of four families.
    fn write_notes(dir: &Path) -> PathBuf {
        let families = ["bass", "flute", "organ", "keyboard"];
        let entries: Vec<_> = families
            .iter()
            .enumerate()
            .map(|(k, family)| {
                let file = format!("{family}.wav");
                let hz = 110.0 * (k + 1) as f32;
                let samples: Vec<f32> = (0..8000)
                    .map(|i| {
                        let phase = std::f32::consts::TAU * hz * i as f32 / 16_000.0;
                        0.25 * (phase.sin() + 0.5 * (3.0 * phase).sin())
                    })
                    .collect();
                let format = polyphon_audio::WavFormat::Float32;
                polyphon_audio::write_wav(dir.join(&file), &samples, 16_000, 1, format).unwrap();
                polyphon_core::manifest::ManifestEntry {
                    file,
                    split: Split::Train,
                    synthesizer: format!("sf:000:{k:03}"),
                    labels_csv: String::new(),
                    labels_midi: String::new(),
                    duration: 0.5,
                    sample_rate: 16_000,
                    source: None,
                    instruments: vec![format!("{family}_synthetic_000")],
                    families: vec![family.to_string()],
                    stems: Vec::new(),
                }
            })
            .collect();
        let manifest = dir.join("notes.jsonl");
        polyphon_core::manifest::write_manifest(&manifest, &entries).unwrap();
        manifest
    }

    #[test]
    fn equalising_the_notes_changes_the_images_not_the_labels_and_is_seeded() {
        let dir = tempfile::tempdir().unwrap();
        let manifest = write_notes(dir.path());
        let mixer = NoteMixer::load(&manifest, Split::Train, &BandImage::default(), 3).unwrap();
        let plain = mixer.mix(5, 12, MixDraw::Instruments, 0.0).unwrap();
        let equalised = mixer.mix(5, 12, MixDraw::Instruments, 12.0).unwrap();
        assert_eq!(plain.targets, equalised.targets);
        assert_eq!(plain.features.len(), equalised.features.len());
        let per_example = plain.num_features;
        let changed = plain
            .features
            .chunks(per_example)
            .zip(equalised.features.chunks(per_example))
            .filter(|(a, b)| a != b)
            .count();
        assert_eq!(changed, 12);
        let again = mixer.mix(5, 12, MixDraw::Instruments, 12.0).unwrap();
        assert_eq!(again.features, equalised.features);
        let other_seed = mixer.mix(6, 12, MixDraw::Instruments, 12.0).unwrap();
        assert_ne!(other_seed.features, equalised.features);
    }

    #[test]
    fn gains_stay_in_their_range_and_parts_in_max_parts() {
        let pools = pools(2);
        for draw in [MixDraw::Families, MixDraw::Instruments] {
            for i in 0..100 {
                let notes = pools.draw(&mut SeededRng::new(i, "mix"), draw);
                assert!((1..=2).contains(&notes.len()));
                let low = 10f32.powf(GAIN_DB.0 as f32 / 20.0);
                assert!(notes.iter().all(|&(_, g)| (low - 1e-6..=1.0).contains(&g)));
            }
        }
    }
}
