//! Masked mixture spectrograms back to waveforms inside the autodiff graph, for losses on
//! the signal (negative SDR) rather than on magnitudes.
//!
//! A real mask times the mixture's complex STFT keeps the mixture's phase, so the estimate
//! is linear in the mask: each frame's inverse real DFT is two matrix products (real and
//! imaginary parts against cosine and sine bases that already hold the synthesis window),
//! and overlap-add is a sum of shifted quarter-frames. It matches
//! [`polyphon_features::ComplexStft::istft`] (librosa's) on every sample that all of its
//! frames reach, the [`interior`](PatchIstft::interior): a patch's first and last samples
//! miss the frames before and after it. The Nyquist bin is left out, as in the networks.

use std::f64::consts::PI;
use std::ops::Range;

use burn::tensor::{Device, Tensor, TensorData};

use super::{SEPARATION_BINS, SEPARATION_HOP, SEPARATION_N_FFT};

/// The inverse STFT of patches of `frames` frames (1024-point periodic Hann, hop 256).
#[derive(Debug, Clone)]
pub struct PatchIstft {
    frames: usize,
    /// `bins × n_fft`: `c_k cos(2πkn/N) w[n] / (N · Σw²)`, `c_0 = 1`, else 2.
    cosines: Tensor<2>,
    /// `bins × n_fft`: `−c_k sin(2πkn/N) w[n] / (N · Σw²)`.
    sines: Tensor<2>,
}

/// Frames that overlap any sample: `n_fft / hop`.
const OVERLAP: usize = SEPARATION_N_FFT / SEPARATION_HOP;

impl PatchIstft {
    pub fn new(frames: usize, device: &Device) -> Self {
        let n = SEPARATION_N_FFT;
        let window: Vec<f64> = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos())
            .collect();
        // Σ_q w²[i + q·hop] is the same for every i with a periodic Hann at 75 % overlap
        // (1.5): dividing by it is librosa's window-sumsquare normalisation in the interior.
        let window_power: f64 = (0..OVERLAP)
            .map(|q| window[q * SEPARATION_HOP].powi(2))
            .sum();
        let basis = |trig: fn(f64) -> f64, sign: f64| {
            let mut values = Vec::with_capacity(SEPARATION_BINS * n);
            for k in 0..SEPARATION_BINS {
                let weight = if k == 0 { 1.0 } else { 2.0 };
                for (i, w) in window.iter().enumerate() {
                    let angle = 2.0 * PI * (k * i % n) as f64 / n as f64;
                    values
                        .push((sign * weight * trig(angle) * w / (n as f64 * window_power)) as f32);
                }
            }
            Tensor::<2>::from_data(TensorData::new(values, [SEPARATION_BINS, n]), device)
        };
        Self {
            frames,
            cosines: basis(f64::cos, 1.0),
            sines: basis(f64::sin, -1.0),
        }
    }

    /// Samples of the overlap-added output, relative to its first sample (half a frame
    /// before the patch's first frame centre), that every overlapping frame reaches.
    pub fn interior(&self) -> Range<usize> {
        (SEPARATION_N_FFT - SEPARATION_HOP)..self.frames * SEPARATION_HOP
    }

    /// Where [`interior`](Self::interior) starts in the signal, for a patch whose first
    /// frame is `first_frame`: frame `t` is centred on sample `t · hop`.
    pub fn interior_start(first_frame: usize) -> isize {
        (first_frame * SEPARATION_HOP) as isize - (SEPARATION_N_FFT / 2) as isize
            + (SEPARATION_N_FFT - SEPARATION_HOP) as isize
    }

    /// Waveforms `(batch, sources, interior)` of `masks · (real + i·imag)`: masks
    /// `(batch, sources, frames, bins)`, mixture parts `(batch, 1, frames, bins)`.
    pub fn masked_waveforms(
        &self,
        masks: Tensor<4>,
        real: Tensor<4>,
        imag: Tensor<4>,
    ) -> Tensor<3> {
        let [batch, sources, frames, bins] = masks.dims();
        let rows = batch * sources * frames;
        let real = (masks.clone() * real).reshape([rows, bins]);
        let imag = (masks * imag).reshape([rows, bins]);
        let segments = real.matmul(self.cosines.clone()) + imag.matmul(self.sines.clone());
        let segments = segments.reshape([batch * sources, frames, SEPARATION_N_FFT]);
        let summed = overlap_add(segments);
        let interior = self.interior();
        summed
            .narrow(1, interior.start, interior.len())
            .reshape([batch, sources, interior.len()])
    }
}

/// `(signals, frames, n_fft)` windowed frames, hop apart, summed into
/// `(signals, (frames + OVERLAP − 1) · hop)` samples.
fn overlap_add(segments: Tensor<3>) -> Tensor<2> {
    let [signals, frames, _] = segments.dims();
    let device = segments.device();
    let blocks = frames + OVERLAP - 1;
    let mut sum: Option<Tensor<3>> = None;
    for quarter in 0..OVERLAP {
        // Quarter q of frame r lands in hop-block r + q of the output.
        let part = segments
            .clone()
            .narrow(2, quarter * SEPARATION_HOP, SEPARATION_HOP);
        let mut pieces = Vec::with_capacity(3);
        if quarter > 0 {
            pieces.push(Tensor::zeros([signals, quarter, SEPARATION_HOP], &device));
        }
        pieces.push(part);
        if quarter + 1 < OVERLAP {
            pieces.push(Tensor::zeros(
                [signals, OVERLAP - 1 - quarter, SEPARATION_HOP],
                &device,
            ));
        }
        let shifted = Tensor::cat(pieces, 1);
        sum = Some(match sum {
            Some(total) => total + shifted,
            None => shifted,
        });
    }
    sum.expect("OVERLAP > 0")
        .reshape([signals, blocks * SEPARATION_HOP])
}

/// Negative signal-to-distortion ratio in dB, averaged over `(batch, sources)`:
/// `−10 log10((‖s‖² + ε) / (‖s − ŝ‖² + ε))`. ε keeps silent targets finite.
pub fn negative_sdr(estimates: Tensor<3>, references: Tensor<3>) -> Tensor<1> {
    const EPSILON: f32 = 1e-6;
    let signal = references.clone().powf_scalar(2.0).sum_dim(2) + EPSILON;
    let error = (references - estimates).powf_scalar(2.0).sum_dim(2) + EPSILON;
    let ratio_db = (signal / error).log() * (10.0 / std::f32::consts::LN_10);
    ratio_db.mean().neg()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_device;
    use polyphon_features::ComplexStft;

    fn tensor4(values: Vec<f32>, shape: [usize; 4]) -> Tensor<4> {
        Tensor::from_data(TensorData::new(values, shape), &default_device())
    }

    /// A chirp-ish signal with content below the Nyquist bin.
    fn signal(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                0.5 * (2.0 * std::f32::consts::PI * (220.0 + 900.0 * t) * t).sin()
                    + 0.2 * (2.0 * std::f32::consts::PI * 1750.0 * t).cos()
            })
            .collect()
    }

    #[test]
    fn masked_patches_invert_like_the_reference_istft_on_their_interior() {
        let x = signal(16_000);
        let stft = ComplexStft::new(SEPARATION_N_FFT, SEPARATION_HOP).unwrap();
        let spectrogram = stft.stft(&x);
        let (first, frames) = (10usize, 24usize);
        let mut real = Vec::new();
        let mut imag = Vec::new();
        let mut mask = Vec::new();
        for t in first..first + frames {
            for (k, c) in spectrogram.frame(t)[..SEPARATION_BINS].iter().enumerate() {
                real.push(c.re);
                imag.push(c.im);
                mask.push(if k < 100 { 0.25 } else { 1.0 });
            }
        }
        // The reference: the same mask on the whole spectrogram (Nyquist dropped), librosa's istft.
        let mut masked = spectrogram.clone();
        for t in 0..masked.frames() {
            let inside = (first..first + frames).contains(&t);
            for (k, c) in masked.frame_mut(t).iter_mut().enumerate() {
                let m = if k == SEPARATION_BINS || !inside {
                    0.0
                } else if k < 100 {
                    0.25
                } else {
                    1.0
                };
                *c *= m;
            }
        }
        let expected = stft.istft(&masked, Some(x.len())).unwrap();

        let shape = [1, 1, frames, SEPARATION_BINS];
        let istft = PatchIstft::new(frames, &default_device());
        let waves = istft.masked_waveforms(
            tensor4(mask, shape),
            tensor4(real, shape),
            tensor4(imag, shape),
        );
        let got: Vec<f32> = waves.into_data().try_to_vec().unwrap();
        let start = PatchIstft::interior_start(first) as usize;
        assert_eq!(got.len(), istft.interior().len());
        let worst = got
            .iter()
            .zip(&expected[start..start + got.len()])
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-4, "largest difference {worst}");
    }

    #[test]
    fn negative_sdr_is_lower_for_closer_estimates() {
        let device = default_device();
        let reference =
            Tensor::<3>::from_data(TensorData::new(signal(4_000), [1, 1, 4_000]), &device);
        let close = reference.clone() * 0.99;
        let far = reference.clone() * 0.5;
        let sdr_close = negative_sdr(close, reference.clone()).into_scalar::<f32>();
        let sdr_far = negative_sdr(far, reference).into_scalar::<f32>();
        // 10 log10(1 / 0.01²) = 40 dB and 10 log10(1 / 0.5²) ≈ 6.02 dB.
        assert!((sdr_close + 40.0).abs() < 0.01, "{sdr_close}");
        assert!((sdr_far + 6.0206).abs() < 0.01, "{sdr_far}");
    }
}
