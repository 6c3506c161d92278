//! Multi-label training examples mixed on the fly from single notes.
//!
//! 1,600 training mixtures are few for a network that must tell 2^6 family sets apart; the
//! notes set has 8,364 training notes of the same six families (and the same training
//! SoundFonts, so validation and test timbres stay unseen). Each mixed example sums 1 to
//! `max_parts` notes of distinct families, each at a random gain, labelled with the union of
//! their families, and becomes an image exactly as a file does. The real mixtures sum
//! their notes at rendered level too; the random gains add variety in balance.

use std::path::{Path, PathBuf};

use polyphon_audio::read_mono;
use polyphon_synth::manifest::{read_split, Split};
use polyphon_synth::rng::SeededRng;
use rayon::prelude::*;

use crate::dataset::{Dataset, Task, MULTI_CLASSES};
use crate::image::{BandImage, BandImager};
use crate::{InstrumentError, Result};

/// Gains of the mixed notes, in dB.
const GAIN_DB: (f64, f64) = (-9.0, 0.0);

/// See the [module documentation](self).
pub struct NoteMixer {
    /// Mono samples of each note, cut to one image's length.
    notes: Vec<Vec<f32>>,
    /// Note indices of each class of [`MULTI_CLASSES`].
    by_class: Vec<Vec<usize>>,
    imager: BandImager,
    max_parts: usize,
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
        let mut classes = Vec::new();
        for entry in read_split(manifest, split)? {
            let [family] = entry.families.as_slice() else {
                continue;
            };
            if let Some(class) = MULTI_CLASSES.iter().position(|c| c == family) {
                files.push(root.join(&entry.file));
                classes.push(class);
            }
        }
        let mut by_class = vec![Vec::new(); MULTI_CLASSES.len()];
        for (note, &class) in classes.iter().enumerate() {
            by_class[class].push(note);
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
            by_class,
            imager: image.imager()?,
            max_parts,
        })
    }

    pub fn notes(&self) -> usize {
        self.notes.len()
    }

    /// `count` mixed examples as a multi-label data set, a function of `seed` alone.
    pub fn mix(&self, seed: u64, count: usize) -> Result<Dataset> {
        let classes: Vec<usize> = (0..self.by_class.len())
            .filter(|&c| !self.by_class[c].is_empty())
            .collect();
        let examples = (0..count)
            .into_par_iter()
            .map(|i| {
                let mut rng =
                    SeededRng::new(seed.wrapping_mul(1_000_003).wrapping_add(i as u64), "mix");
                let mut chosen = classes.clone();
                rng.shuffle(&mut chosen);
                let parts = 1 + rng.below(self.max_parts.min(chosen.len()) as u64) as usize;
                let mut mix: Vec<f32> = Vec::new();
                let mut target = vec![0f32; MULTI_CLASSES.len()];
                for &class in &chosen[..parts] {
                    let note = &self.notes[*rng.choose(&self.by_class[class])];
                    let db = GAIN_DB.0 + (GAIN_DB.1 - GAIN_DB.0) * rng.unit();
                    let gain = 10f64.powf(db / 20.0) as f32;
                    if mix.len() < note.len() {
                        mix.resize(note.len(), 0.0);
                    }
                    mix.iter_mut().zip(note).for_each(|(m, &s)| *m += gain * s);
                    target[class] = 1.0;
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
