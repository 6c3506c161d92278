//! Random equalisation of each note before it is mixed, so that every source of a mixed
//! example is heard through its own colouring.
//!
//! [`crate::SpectralAugment`] equalises a whole image: in a mixture every instrument gets the
//! same curve, so the timbres' differences from each other stay those of the training
//! presets. The multi-label networks fit mixtures of the training instruments far better than
//! mixtures of unheard ones (0.958 against 0.899 Hamming, docs/results.md);
//! an unheard instrument differs from a heard one of its family mostly in spectral envelope,
//! and differently from the other instruments it sounds with. Here each note gets its own
//! [`GainCurve`] over log frequency from 30 Hz to 8 kHz (the log bands' range; flat beyond
//! it), applied to its samples through one FFT, and keeps its RMS level, so the balance the
//! mixer draws still means what it did.

use std::sync::Arc;

use polyphon_core::SeededRng;
use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::augment::GainCurve;

/// The ends of the frequency axis of the curve, in Hz: the log bands' range.
const AXIS_HZ: (f64, f64) = (30.0, 8000.0);

/// Zeros after the note in the FFT frame, in samples, at least: room for the ring of the
/// narrowest bell (about a tenth of a second at low frequencies) so that it does not wrap
/// round onto the note's start.
const MIN_PADDING: usize = 4096;

/// Points at which a curve is evaluated; the bins interpolate between them. The narrowest
/// bell spans 0.03 of the axis, about 20 points, so linear interpolation stays within a
/// hundredth of a dB, while a curve evaluated at every bin (tens of thousands, each a
/// `powf` and an `exp`) cost more than the FFTs.
const CURVE_POINTS: usize = 1024;

/// See the [module documentation](self).
pub struct NoteEqualiser {
    limit_db: f64,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
    /// Position of every FFT bin on the curve's axis, in curve points (0 to
    /// `CURVE_POINTS - 1`).
    axis: Vec<f32>,
}

impl NoteEqualiser {
    /// An equaliser of notes up to `max_len` samples at `sample_rate`, with curves of up to
    /// ±`limit_db` (tilt and bell each).
    pub fn new(limit_db: f64, max_len: usize, sample_rate: u32) -> Self {
        let size = fft_friendly(max_len + MIN_PADDING);
        let mut planner = RealFftPlanner::<f32>::new();
        let (low, high) = AXIS_HZ;
        let last_point = (CURVE_POINTS - 1) as f64;
        let axis = (0..=size / 2)
            .map(|bin| {
                let hz = bin as f64 * sample_rate as f64 / size as f64;
                let x = ((hz.max(low) / low).ln() / (high / low).ln()).min(1.0);
                (x * last_point) as f32
            })
            .collect();
        Self {
            limit_db,
            forward: planner.plan_fft_forward(size),
            inverse: planner.plan_fft_inverse(size),
            axis,
        }
    }

    /// `samples` through a curve drawn from `rng`, at the same RMS level. Notes longer than
    /// the equaliser was made for are cut to that length.
    pub fn apply(&self, samples: &[f32], rng: &mut SeededRng) -> Vec<f32> {
        let curve = GainCurve::draw(self.limit_db, rng);
        let size = self.forward.len();
        let len = samples.len().min(size - MIN_PADDING);
        let mut frame = vec![0f32; size];
        frame[..len].copy_from_slice(&samples[..len]);
        let mut spectrum = self.forward.make_output_vec();
        self.forward
            .process(&mut frame, &mut spectrum)
            .expect("buffers sized by the plan");
        let last_point = (CURVE_POINTS - 1) as f64;
        let amplitudes: Vec<f32> = (0..CURVE_POINTS)
            .map(|k| 10f64.powf(curve.db_at(k as f64 / last_point) / 20.0) as f32)
            .collect();
        for (bin, &position) in spectrum.iter_mut().zip(&self.axis) {
            let below = (position as usize).min(CURVE_POINTS - 2);
            let share = position - below as f32;
            *bin *= amplitudes[below] + share * (amplitudes[below + 1] - amplitudes[below]);
        }
        // realfft wants the DC and Nyquist bins real, as a real signal's are.
        spectrum[0] = Complex32::new(spectrum[0].re, 0.0);
        let last = spectrum.len() - 1;
        spectrum[last] = Complex32::new(spectrum[last].re, 0.0);
        self.inverse
            .process(&mut spectrum, &mut frame)
            .expect("buffers sized by the plan");
        frame.truncate(len);
        let scale = (energy(&samples[..len]) / energy(&frame)).sqrt();
        let scale = if scale.is_finite() { scale as f32 } else { 0.0 };
        frame.iter_mut().for_each(|s| *s *= scale);
        frame
    }
}

/// The smallest size of at least `n` with no prime factor above 5: as fast per point as a
/// power of two in rustfft, and up to half the length of the next power of two.
fn fft_friendly(n: usize) -> usize {
    (n..)
        .find(|&size| {
            let mut rest = size;
            for factor in [2, 3, 5] {
                while rest % factor == 0 {
                    rest /= factor;
                }
            }
            rest == 1
        })
        .expect("some size above n has only factors 2, 3 and 5")
}

fn energy(samples: &[f32]) -> f64 {
    samples.iter().map(|&s| (s as f64).powi(2)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    const RATE: u32 = 16_000;

    fn tone(hz: f32, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| (2.0 * PI * hz * i as f32 / RATE as f32).sin())
            .collect()
    }

    fn rms(samples: &[f32]) -> f64 {
        (energy(samples) / samples.len() as f64).sqrt()
    }

    #[test]
    fn a_note_keeps_its_length_and_level() {
        let eq = NoteEqualiser::new(12.0, 8000, RATE);
        let note: Vec<f32> = tone(220.0, 8000)
            .iter()
            .zip(tone(3300.0, 8000))
            .map(|(a, b)| a + 0.3 * b)
            .collect();
        let mut rng = SeededRng::new(1, "t");
        for _ in 0..10 {
            let out = eq.apply(&note, &mut rng);
            assert_eq!(out.len(), note.len());
            assert!((rms(&out) / rms(&note) - 1.0).abs() < 1e-3);
            assert!(out.iter().all(|s| s.is_finite()));
        }
    }

    #[test]
    fn fft_sizes_have_small_factors_only() {
        assert_eq!(fft_friendly(1), 1);
        assert_eq!(fft_friendly(7), 8);
        assert_eq!(fft_friendly(31), 32);
        assert_eq!(fft_friendly(70_400), 72_000);
    }

    #[test]
    fn zero_limit_leaves_the_note_as_it_was() {
        let eq = NoteEqualiser::new(0.0, 4000, RATE);
        let note = tone(440.0, 4000);
        let out = eq.apply(&note, &mut SeededRng::new(2, "t"));
        let error = note.iter().zip(&out).map(|(a, b)| (a - b).abs());
        assert!(error.fold(0f32, f32::max) < 1e-4);
    }

    #[test]
    fn two_partials_change_balance_by_the_curve_between_their_frequencies() {
        // The ratio of the two partials' amplitudes after the equaliser is the curve's gain
        // difference between their frequencies; the level rescaling cancels in a ratio.
        let len = 16_000;
        let (low_hz, high_hz) = (250.0, 2000.0);
        let note: Vec<f32> = tone(low_hz, len)
            .iter()
            .zip(tone(high_hz, len))
            .map(|(a, b)| a + b)
            .collect();
        let eq = NoteEqualiser::new(12.0, len, RATE);
        let position = |hz: f64| (hz / AXIS_HZ.0).ln() / (AXIS_HZ.1 / AXIS_HZ.0).ln();
        let amplitude = |x: &[f32], hz: f32| {
            // Correlation with the partial over whole periods of both.
            let (mut c, mut s) = (0f64, 0f64);
            for (i, &v) in x.iter().enumerate() {
                let phase = 2.0 * std::f64::consts::PI * hz as f64 * i as f64 / RATE as f64;
                c += v as f64 * phase.cos();
                s += v as f64 * phase.sin();
            }
            (c * c + s * s).sqrt()
        };
        for seed in 0..5 {
            let mut rng = SeededRng::new(seed, "t");
            let curve = GainCurve::draw(12.0, &mut rng.clone());
            let out = eq.apply(&note, &mut rng);
            let measured = 20.0 * (amplitude(&out, high_hz) / amplitude(&out, low_hz)).log10();
            let expected =
                curve.db_at(position(high_hz as f64)) - curve.db_at(position(low_hz as f64));
            assert!(
                (measured - expected).abs() < 0.1,
                "seed {seed}: {measured} dB, expected {expected} dB"
            );
        }
    }
}
