//! Random equalisation of training images, so a network hears each timbre through many
//! synthesisers' colourings.
//!
//! The test SoundFonts differ from the training ones largely in spectral envelope: brighter
//! or duller samples, a resonance here or there. Every training image gets a random smooth
//! gain curve over its bands: a tilt of up to ±`eq_db` dB from the lowest to the highest band
//! plus one bell of up to ±`eq_db` dB at a random band and width. The image stays in dB re
//! its maximum (re-referenced after the gains, clipped at `-top_db`), as the front-end makes
//! it; silent cells (the floor) stay silent.
//!
//! `shift_bands` also moves every training image up or down the band axis by a random
//! whole number of bands, at most that many, the bands moved in from beyond the edge silent.
//! On the log scale (24 bands per octave above about 270 Hz) this moves a note's pitch and
//! its resonances together by up to a few quarter tones: a slightly smaller or larger
//! instrument. The networks' errors on unseen SoundFonts are notes given to the family that
//! plays in their register; seeing each training timbre a little displaced should make the
//! exact band a weaker cue than the spectral shape around it. Measured, it does harm (the
//! `mlp` on notes: 85.5 % with 2 bands against 96.9 %; docs/results.md):
//! below about 270 Hz a log band is one FFT bin, so there a shift moves a bass note by
//! several semitones and breaks its harmonic pattern.
//!
//! `mask_bands` and `mask_frames` silence stripes of the image, as SpecAugment (Park et al.
//! 2019) does: [`MASKS`] stripes of up to that many whole bands, and as many of up to that
//! many whole frames, each of a random width at a random place. A network that cannot count
//! on any one range of bands or moment of a note has to find each family by several cues,
//! which is what an unheard timbre leaves it. The stripes are the front-end's silent floor
//! (-1); the image is not re-referenced, so a masked peak leaves it below 1.

use polyphon_core::SeededRng;
use serde::{Deserialize, Serialize};

use crate::image::BandImage;
use crate::{InstrumentError, Result};

/// Width of the bell as a share of the band axis: its standard deviation is drawn from this
/// range (a narrow resonance to a broad shelf-like hump).
const BELL_WIDTH: (f64, f64) = (0.03, 0.3);

/// A random smooth gain curve over an axis from 0 to 1 (the bands, or log frequency): a tilt
/// of up to ±`limit` dB from one end to the other plus one bell of up to ±`limit` dB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GainCurve {
    tilt: f64,
    bell_gain: f64,
    centre: f64,
    width: f64,
}

impl GainCurve {
    /// Draws a curve; the order of the draws is the one runs have been made with.
    pub fn draw(limit: f64, rng: &mut SeededRng) -> Self {
        let mut symmetric = |limit: f64| limit * (2.0 * rng.unit() - 1.0);
        let tilt = symmetric(limit);
        let bell_gain = symmetric(limit);
        let centre = rng.unit();
        let width = BELL_WIDTH.0 + (BELL_WIDTH.1 - BELL_WIDTH.0) * rng.unit();
        Self {
            tilt,
            bell_gain,
            centre,
            width,
        }
    }

    /// The gain in dB at `x` of the axis.
    pub fn db_at(&self, x: f64) -> f64 {
        let bell = (-0.5 * ((x - self.centre) / self.width).powi(2)).exp();
        self.tilt * (x - 0.5) + self.bell_gain * bell
    }
}

/// See the [module documentation](self). `eq_db = 0` and `shift_bands = 0` (the default)
/// leave images unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct SpectralAugment {
    /// Largest tilt (lowest to highest band) and largest bell gain, in dB.
    pub eq_db: f64,
    /// Largest move along the bands, up or down (0: none). Runs saved before it read as 0.
    #[serde(default)]
    pub shift_bands: usize,
    /// Widest band stripe silenced (0: none). Runs saved before it read as 0.
    #[serde(default)]
    pub mask_bands: usize,
    /// Widest frame stripe silenced (0: none). Runs saved before it read as 0.
    #[serde(default)]
    pub mask_frames: usize,
}

/// Stripes of each kind that `mask_bands` and `mask_frames` silence in every image.
pub const MASKS: usize = 2;

impl SpectralAugment {
    pub fn is_off(&self) -> bool {
        self.eq_db == 0.0 && self.shift_bands == 0 && self.mask_bands == 0 && self.mask_frames == 0
    }

    /// Refuses a move or a mask that could leave nothing of an image of `image`'s shape.
    pub fn check_fits(&self, image: &BandImage) -> Result<()> {
        if self.shift_bands >= image.bands {
            return Err(InstrumentError::Invalid(format!(
                "a shift of up to {} bands can move all of a {}-band image out",
                self.shift_bands, image.bands
            )));
        }
        for (widest, len, what) in [
            (self.mask_bands, image.bands, "bands"),
            (self.mask_frames, image.frames, "frames"),
        ] {
            if widest >= len {
                return Err(InstrumentError::Invalid(format!(
                    "a mask of up to {widest} {what} can silence all of an image of {len} {what}"
                )));
            }
        }
        Ok(())
    }

    /// One random gain per band, in dB.
    pub fn gains(&self, bands: usize, rng: &mut SeededRng) -> Vec<f64> {
        let curve = GainCurve::draw(self.eq_db, rng);
        (0..bands)
            .map(|band| curve.db_at(band as f64 / (bands.max(2) - 1) as f64))
            .collect()
    }

    /// Equalises, moves, then masks one `(bands, frames)` image of `params` in place. Each
    /// step draws from `rng` only when it is on, and the steps draw in that order, so turning
    /// a later one on leaves the earlier ones' draws alone.
    pub fn apply(&self, image: &mut [f32], params: &BandImage, rng: &mut SeededRng) {
        if self.eq_db != 0.0 {
            self.equalise(image, params, rng);
        }
        if self.shift_bands > 0 {
            let span = 2 * self.shift_bands as u64 + 1;
            let shift = rng.below(span) as isize - self.shift_bands as isize;
            shift_along_bands(image, params.frames, shift);
        }
        if self.mask_bands > 0 {
            for _ in 0..MASKS {
                let (first, width) = stripe(self.mask_bands, params.bands, rng);
                image[first * params.frames..(first + width) * params.frames].fill(-1.0);
            }
        }
        if self.mask_frames > 0 {
            for _ in 0..MASKS {
                let (first, width) = stripe(self.mask_frames, params.frames, rng);
                for row in image.chunks_mut(params.frames) {
                    row[first..first + width].fill(-1.0);
                }
            }
        }
    }

    fn equalise(&self, image: &mut [f32], params: &BandImage, rng: &mut SeededRng) {
        let gains = self.gains(params.bands, rng);
        // Image values are 1 + 2 dB / top_db; -1 is the silent floor.
        let scale = 2.0 / params.top_db;
        let mut peak = f64::NEG_INFINITY;
        for (row, gain) in image.chunks_mut(params.frames).zip(&gains) {
            for value in row.iter_mut().filter(|v| **v > -1.0) {
                let shifted = *value as f64 + gain * scale;
                peak = peak.max(shifted);
                *value = shifted as f32;
            }
        }
        if peak.is_finite() {
            let shift = (peak - 1.0) as f32;
            for value in image.iter_mut().filter(|v| **v > -1.0) {
                *value = (*value - shift).clamp(-1.0, 1.0);
            }
        }
    }
}

/// A stripe of `0..=widest` (at most `len`) consecutive indices at a random place in
/// `0..len`: its first index and width.
fn stripe(widest: usize, len: usize, rng: &mut SeededRng) -> (usize, usize) {
    let width = (rng.below(widest as u64 + 1) as usize).min(len);
    let first = rng.below((len - width) as u64 + 1) as usize;
    (first, width)
}

/// Moves a band-major image `shift` bands up (positive) or down, filling with silence (-1).
fn shift_along_bands(image: &mut [f32], frames: usize, shift: isize) {
    let moved = (shift.unsigned_abs() * frames).min(image.len());
    if shift > 0 {
        image.copy_within(..image.len() - moved, moved);
        image[..moved].fill(-1.0);
    } else if shift < 0 {
        image.copy_within(moved.., 0);
        let kept = image.len() - moved;
        image[kept..].fill(-1.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> BandImage {
        BandImage {
            bands: 16,
            frames: 5,
            ..BandImage::default()
        }
    }

    fn image(params: &BandImage) -> Vec<f32> {
        // A falling spectrum with a silent last frame.
        (0..params.len())
            .map(|i| {
                let (band, frame) = (i / params.frames, i % params.frames);
                if frame == params.frames - 1 {
                    -1.0
                } else {
                    1.0 - band as f32 * 0.05 - frame as f32 * 0.01
                }
            })
            .collect()
    }

    #[test]
    fn off_leaves_the_image_unchanged() {
        let p = params();
        let mut x = image(&p);
        SpectralAugment::default().apply(&mut x, &p, &mut SeededRng::new(1, "t"));
        assert_eq!(x, image(&p));
    }

    #[test]
    fn gains_stay_within_tilt_plus_bell() {
        let augment = SpectralAugment {
            eq_db: 6.0,
            ..Default::default()
        };
        let mut rng = SeededRng::new(3, "t");
        for _ in 0..200 {
            let gains = augment.gains(128, &mut rng);
            assert!(gains.iter().all(|g| g.abs() <= 9.0 + 1e-9), "{gains:?}");
        }
    }

    #[test]
    fn the_image_stays_referenced_to_its_maximum_and_the_floor_stays_silent() {
        let p = params();
        let augment = SpectralAugment {
            eq_db: 12.0,
            ..Default::default()
        };
        let mut rng = SeededRng::new(7, "t");
        for _ in 0..20 {
            let mut x = image(&p);
            augment.apply(&mut x, &p, &mut rng);
            let peak = x.iter().fold(f32::MIN, |m, &v| m.max(v));
            assert!((peak - 1.0).abs() < 1e-6, "peak {peak}");
            assert!(x.iter().all(|v| (-1.0..=1.0).contains(v)));
            for band in 0..p.bands {
                assert_eq!(x[band * p.frames + p.frames - 1], -1.0);
            }
            assert_ne!(x, image(&p));
        }
    }

    #[test]
    fn differences_between_frames_of_a_band_are_kept() {
        // An equaliser is a gain per band: within a band, level differences stay.
        let p = params();
        let mut x = image(&p);
        SpectralAugment {
            eq_db: 6.0,
            ..Default::default()
        }
        .apply(&mut x, &p, &mut SeededRng::new(11, "t"));
        for band in 0..p.bands {
            let d = x[band * p.frames] - x[band * p.frames + 1];
            assert!((d - 0.01).abs() < 1e-5, "band {band}: {d}");
        }
    }

    #[test]
    fn a_shift_moves_whole_bands_and_fills_with_silence() {
        let p = params();
        let original = image(&p);
        let row = |x: &[f32], band: usize| x[band * p.frames..(band + 1) * p.frames].to_vec();
        let mut up = original.clone();
        shift_along_bands(&mut up, p.frames, 3);
        let mut down = original.clone();
        shift_along_bands(&mut down, p.frames, -2);
        for band in 0..p.bands {
            let silent = vec![-1.0; p.frames];
            let expected_up = if band < 3 {
                silent.clone()
            } else {
                row(&original, band - 3)
            };
            assert_eq!(row(&up, band), expected_up, "up, band {band}");
            let expected_down = if band + 2 >= p.bands {
                silent
            } else {
                row(&original, band + 2)
            };
            assert_eq!(row(&down, band), expected_down, "down, band {band}");
        }
        // A move beyond the image leaves silence.
        let mut gone = original.clone();
        shift_along_bands(&mut gone, p.frames, 40);
        assert!(gone.iter().all(|&v| v == -1.0));
    }

    #[test]
    fn random_shifts_stay_within_the_limit_and_take_every_value() {
        let p = params();
        let augment = SpectralAugment {
            shift_bands: 2,
            ..Default::default()
        };
        let original = image(&p);
        let mut rng = SeededRng::new(5, "t");
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut x = original.clone();
            augment.apply(&mut x, &p, &mut rng);
            let shift = (-2..=2)
                .find(|&k: &isize| {
                    let mut y = original.clone();
                    shift_along_bands(&mut y, p.frames, k);
                    y == x
                })
                .expect("a shift of at most 2 bands");
            seen.insert(shift);
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), vec![-2, -1, 0, 1, 2]);
    }

    /// Every cell of `x` either kept from `original` or silenced; the silenced ones as
    /// (bands, frames) in which some cell was silenced.
    fn silenced(x: &[f32], original: &[f32], p: &BandImage) -> (Vec<usize>, Vec<usize>) {
        let (mut bands, mut frames) = (Vec::new(), Vec::new());
        for (i, (&a, &b)) in x.iter().zip(original).enumerate() {
            assert!(a == b || a == -1.0, "cell {i}: {b} became {a}");
            if a != b {
                bands.push(i / p.frames);
                frames.push(i % p.frames);
            }
        }
        bands.dedup();
        frames.sort_unstable();
        frames.dedup();
        (bands, frames)
    }

    #[test]
    fn band_masks_silence_whole_bands_within_the_limit_and_vary() {
        let p = params();
        let augment = SpectralAugment {
            mask_bands: 3,
            ..Default::default()
        };
        let original = image(&p);
        let mut rng = SeededRng::new(13, "t");
        let mut counts = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let mut x = original.clone();
            augment.apply(&mut x, &p, &mut rng);
            let (bands, _) = silenced(&x, &original, &p);
            for &band in &bands {
                // Whole bands: every frame but the already silent last one is silenced.
                let row = &x[band * p.frames..(band + 1) * p.frames];
                assert!(row.iter().all(|&v| v == -1.0), "band {band}: {row:?}");
            }
            assert!(bands.len() <= MASKS * 3, "{bands:?}");
            counts.insert(bands.len());
        }
        // From nothing (two empty stripes) to two stripes of three apart.
        assert!(counts.contains(&0) && counts.contains(&6), "{counts:?}");
    }

    #[test]
    fn frame_masks_silence_whole_frames_within_the_limit() {
        let p = params();
        let augment = SpectralAugment {
            mask_frames: 2,
            ..Default::default()
        };
        let original = image(&p);
        let mut rng = SeededRng::new(17, "t");
        let mut any = false;
        for _ in 0..100 {
            let mut x = original.clone();
            augment.apply(&mut x, &p, &mut rng);
            let (_, frames) = silenced(&x, &original, &p);
            for &frame in &frames {
                assert!((0..p.bands).all(|band| x[band * p.frames + frame] == -1.0));
            }
            assert!(frames.len() <= MASKS * 2, "{frames:?}");
            any |= !frames.is_empty();
        }
        assert!(any);
    }

    #[test]
    fn masks_leave_the_earlier_steps_draws_alone() {
        // Equalised and moved the same with and without masks: the masks draw last.
        let p = params();
        let earlier = SpectralAugment {
            eq_db: 6.0,
            shift_bands: 2,
            ..Default::default()
        };
        let masked = SpectralAugment {
            mask_bands: 2,
            mask_frames: 1,
            ..earlier
        };
        let (mut a, mut b) = (image(&p), image(&p));
        earlier.apply(&mut a, &p, &mut SeededRng::new(19, "t"));
        masked.apply(&mut b, &p, &mut SeededRng::new(19, "t"));
        silenced(&b, &a, &p);
        assert!(!masked.is_off());
    }
}
