//! Masks to stems: the signal side of mask-based source separation.
//!
//! A separator predicts one real mask per source over the mixture's STFT (frames × bins,
//! values in [0, 1]); each source's STFT is the mixture's STFT times its mask, the same mask
//! for every channel, and its waveform the inverse STFT of that
//! ([`polyphon_features::ComplexStft::istft`], librosa's). Masks that sum to one over the
//! sources give stems that sum back to the mixture, the inverse STFT being linear.
//!
//! [`ideal_ratio_masks`] are the oracle masks `|S_i| / Σ_j |S_j|` computed from the true
//! sources, the upper bound of what a magnitude-mask separator can reach.

use polyphon_features::{ComplexSpectrogram, ComplexStft};

use crate::{DecodeError, Result};

/// Added to every magnitude so that bins where all sources are silent split evenly (and
/// the masks still sum to one) instead of dividing zero by zero.
pub const IRM_EPSILON: f32 = 1e-10;

/// A real time-frequency mask, frames × bins, row-major, values in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Mask {
    frames: usize,
    bins: usize,
    values: Vec<f32>,
}

impl Mask {
    /// Refuses a wrong number of values and values outside [0, 1] (NaN included).
    pub fn new(frames: usize, bins: usize, values: Vec<f32>) -> Result<Self> {
        if values.len() != frames * bins {
            return Err(invalid(format!(
                "a {frames} x {bins} mask needs {} values, got {}",
                frames * bins,
                values.len()
            )));
        }
        if let Some(v) = values.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(invalid(format!("mask value {v} is outside [0, 1]")));
        }
        Ok(Self {
            frames,
            bins,
            values,
        })
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    pub fn bins(&self) -> usize {
        self.bins
    }

    pub fn values(&self) -> &[f32] {
        &self.values
    }
}

/// One separated source: its STFT and waveform per channel.
#[derive(Debug, Clone)]
pub struct Stem {
    pub spectrograms: Vec<ComplexSpectrogram>,
    pub channels: Vec<Vec<f32>>,
}

fn invalid(detail: String) -> DecodeError {
    DecodeError::InvalidParameter(detail)
}

/// The magnitude a mask is computed from for a multichannel source: |S| averaged over
/// channels (for mono, |S| itself), frames × bins.
pub fn source_magnitude(channels: &[ComplexSpectrogram]) -> Result<Vec<f32>> {
    let first = channels
        .first()
        .ok_or_else(|| invalid("a source needs at least one channel".into()))?;
    let mut sum = vec![0.0f32; first.data().len()];
    for channel in channels {
        check_shape(channel, first.frames(), first.bins(), "channel")?;
        for (s, x) in sum.iter_mut().zip(channel.data()) {
            *s += x.norm();
        }
    }
    let scale = 1.0 / channels.len() as f32;
    sum.iter_mut().for_each(|s| *s *= scale);
    Ok(sum)
}

/// Ideal ratio masks `(|S_i| + ε) / (Σ_j |S_j| + n ε)` from each source's magnitude
/// (frames × bins values each, `shape = (frames, bins)`). They sum to one in every bin.
pub fn ideal_ratio_masks(magnitudes: &[Vec<f32>], shape: (usize, usize)) -> Result<Vec<Mask>> {
    let (frames, bins) = shape;
    if magnitudes.is_empty() {
        return Err(invalid("ideal ratio masks need at least one source".into()));
    }
    if let Some(m) = magnitudes.iter().find(|m| m.len() != frames * bins) {
        return Err(invalid(format!(
            "a magnitude has {} values, a {frames} x {bins} mask needs {}",
            m.len(),
            frames * bins
        )));
    }
    let n = magnitudes.len() as f32;
    let total: Vec<f32> = (0..frames * bins)
        .map(|k| magnitudes.iter().map(|m| m[k]).sum::<f32>() + n * IRM_EPSILON)
        .collect();
    magnitudes
        .iter()
        .map(|m| {
            let values = m
                .iter()
                .zip(&total)
                .map(|(v, t)| ((v + IRM_EPSILON) / t).clamp(0.0, 1.0))
                .collect();
            Mask::new(frames, bins, values)
        })
        .collect()
}

fn check_shape(s: &ComplexSpectrogram, frames: usize, bins: usize, what: &str) -> Result<()> {
    if (s.frames(), s.bins()) != (frames, bins) {
        return Err(invalid(format!(
            "{what} is {} x {}, expected {frames} x {bins}",
            s.frames(),
            s.bins()
        )));
    }
    Ok(())
}

/// Wiener-style refinement of masks that share the mixture's phase: each source's power
/// estimate is `(m_j |X|)²`, so its Wiener gain `m_j² / Σ_k m_k²` (`|X|` cancels); every
/// iteration squares and renormalises again, sharpening the masks towards the dominant
/// source of each bin. One mask serves every channel here, so this is the single-channel
/// filter, not a spatial (multichannel) model. Masks that summed to one still do.
pub fn wiener_masks(masks: Vec<Mask>, iterations: usize) -> Result<Vec<Mask>> {
    let Some(first) = masks.first() else {
        return Ok(masks);
    };
    let (frames, bins) = (first.frames, first.bins);
    if masks.iter().any(|m| (m.frames, m.bins) != (frames, bins)) {
        return Err(invalid("masks of one mixture must share a shape".into()));
    }
    let mut values: Vec<Vec<f32>> = masks.into_iter().map(|m| m.values).collect();
    for _ in 0..iterations {
        for k in 0..frames * bins {
            let power: f32 = values.iter().map(|m| m[k] * m[k]).sum::<f32>();
            let n = values.len() as f32;
            for mask in &mut values {
                // Bins where every mask is zero split evenly, as ideal ratio masks do.
                mask[k] = (mask[k] * mask[k] + IRM_EPSILON) / (power + n * IRM_EPSILON);
            }
        }
    }
    values
        .into_iter()
        .map(|v| {
            Mask::new(
                frames,
                bins,
                v.into_iter().map(|x| x.clamp(0.0, 1.0)).collect(),
            )
        })
        .collect()
}

/// Each source's STFT per channel (source → channel): the mixture's STFT per channel times
/// the source's mask.
pub fn apply_masks(
    mixture: &[ComplexSpectrogram],
    masks: &[Mask],
) -> Result<Vec<Vec<ComplexSpectrogram>>> {
    for mask in masks {
        for channel in mixture {
            check_shape(channel, mask.frames, mask.bins, "the mixture's STFT")?;
        }
    }
    Ok(masks
        .iter()
        .map(|mask| {
            mixture
                .iter()
                .map(|channel| {
                    let mut out = channel.clone();
                    for (x, m) in out.data_mut().iter_mut().zip(&mask.values) {
                        *x *= *m;
                    }
                    out
                })
                .collect()
        })
        .collect())
}

/// Masks applied to the mixture's STFT per channel and inverted to `length` samples per
/// channel: one [`Stem`] per mask, in the masks' order.
pub fn masks_to_stems(
    stft: &ComplexStft,
    mixture: &[ComplexSpectrogram],
    masks: &[Mask],
    length: usize,
) -> Result<Vec<Stem>> {
    apply_masks(mixture, masks)?
        .into_iter()
        .map(|spectrograms| {
            let channels = spectrograms
                .iter()
                .map(|s| stft.istft(s, Some(length)))
                .collect::<std::result::Result<_, _>>()
                .map_err(|e| invalid(format!("inverse STFT: {e}")))?;
            Ok(Stem {
                spectrograms,
                channels,
            })
        })
        .collect()
}

/// The oracle: ideal ratio masks from the true sources (source → channel → samples)
/// applied to the mixture (channel → samples); every source must have the mixture's channel
/// count and length.
pub fn ideal_ratio_stems(
    stft: &ComplexStft,
    mixture: &[Vec<f32>],
    sources: &[Vec<Vec<f32>>],
) -> Result<Vec<Stem>> {
    let length = mixture.first().map_or(0, Vec::len);
    if mixture.is_empty() || mixture.iter().any(|c| c.len() != length) {
        return Err(invalid("the mixture needs channels of one length".into()));
    }
    if sources
        .iter()
        .any(|s| s.len() != mixture.len() || s.iter().any(|c| c.len() != length))
    {
        return Err(invalid(format!(
            "every source needs the mixture's {} channels of {length} samples",
            mixture.len()
        )));
    }
    let mixture_stft: Vec<_> = mixture.iter().map(|c| stft.stft(c)).collect();
    let shape = (mixture_stft[0].frames(), mixture_stft[0].bins());
    let magnitudes = sources
        .iter()
        .map(|channels| {
            let spectra: Vec<_> = channels.iter().map(|c| stft.stft(c)).collect();
            source_magnitude(&spectra)
        })
        .collect::<Result<Vec<_>>>()?;
    let masks = ideal_ratio_masks(&magnitudes, shape)?;
    masks_to_stems(stft, &mixture_stft, &masks, length)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wiener_masks_sharpen_and_still_sum_to_one() {
        let a = Mask::new(1, 3, vec![0.7, 0.5, 0.0]).unwrap();
        let b = Mask::new(1, 3, vec![0.3, 0.5, 0.0]).unwrap();
        let same = wiener_masks(vec![a.clone(), b.clone()], 0).unwrap();
        assert_eq!(same, vec![a.clone(), b.clone()]);
        let refined = wiener_masks(vec![a, b], 1).unwrap();
        // 0.49 / (0.49 + 0.09), ties and silent bins split evenly.
        assert!((refined[0].values()[0] - 0.49 / 0.58).abs() < 1e-6);
        assert!((refined[0].values()[1] - 0.5).abs() < 1e-6);
        assert!((refined[0].values()[2] - 0.5).abs() < 1e-6);
        for k in 0..3 {
            assert!((refined[0].values()[k] + refined[1].values()[k] - 1.0).abs() < 1e-6);
        }
        let other = Mask::new(2, 3, vec![0.0; 6]).unwrap();
        assert!(wiener_masks(vec![refined[0].clone(), other], 1).is_err());
    }
    use polyphon_eval::separation::evaluate_separation;

    const RATE: usize = 16_000;

    /// Sample-wise sum of sources of one shape.
    fn mix(sources: &[Vec<Vec<f32>>]) -> Vec<Vec<f32>> {
        let mut out = sources[0].clone();
        for source in &sources[1..] {
            for (o, c) in out.iter_mut().zip(source) {
                o.iter_mut().zip(c).for_each(|(o, x)| *o += x);
            }
        }
        out
    }

    fn sine(freq: f32, amplitude: f32, samples: usize) -> Vec<f32> {
        (0..samples)
            .map(|i| amplitude * (2.0 * std::f32::consts::PI * freq * i as f32 / RATE as f32).sin())
            .collect()
    }

    fn noise(samples: usize, seed: u32) -> Vec<f32> {
        let mut state = seed;
        (0..samples)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect()
    }

    fn to_f64(sources: &[Vec<Vec<f32>>]) -> Vec<Vec<Vec<f64>>> {
        sources
            .iter()
            .map(|s| {
                s.iter()
                    .map(|c| c.iter().map(|&x| x as f64).collect())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn ideal_ratio_stems_sum_back_to_the_mixture() {
        let stft = ComplexStft::new(1024, 256).unwrap();
        let n = 12_345;
        // Overlapping spectra and stereo: the masks really share bins.
        let sources = vec![
            vec![noise(n, 1), noise(n, 2)],
            vec![sine(440.0, 0.7, n), noise(n, 3)],
            vec![sine(445.0, 0.2, n), sine(3000.0, 0.1, n)],
        ];
        let mixture = mix(&sources);
        let stems = ideal_ratio_stems(&stft, &mixture, &sources).unwrap();
        let peak = mixture.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
        for (c, channel) in mixture.iter().enumerate() {
            for (i, want) in channel.iter().enumerate() {
                let got: f32 = stems.iter().map(|s| s.channels[c][i]).sum();
                assert!((got - want).abs() <= 1e-5 * peak, "channel {c} sample {i}");
            }
        }
    }

    #[test]
    fn ideal_ratio_masks_sum_to_one_even_in_silence() {
        let magnitudes = vec![vec![0.0, 3.0, 1.0], vec![0.0, 1.0, 0.0]];
        let masks = ideal_ratio_masks(&magnitudes, (1, 3)).unwrap();
        for k in 0..3 {
            let sum: f32 = masks.iter().map(|m| m.values()[k]).sum();
            assert!((sum - 1.0).abs() < 1e-6);
        }
        assert_eq!(masks[0].values()[0], 0.5);
        assert!((masks[0].values()[1] - 0.75).abs() < 1e-6);
    }

    #[test]
    fn ideal_ratio_masks_recover_two_disjoint_sines() {
        let stft = ComplexStft::new(1024, 256).unwrap();
        let n = 2 * RATE;
        let sources = vec![vec![sine(220.0, 0.5, n)], vec![sine(2500.0, 0.3, n)]];
        let stems = ideal_ratio_stems(&stft, &mix(&sources), &sources).unwrap();
        let estimates: Vec<Vec<Vec<f32>>> = stems.into_iter().map(|s| s.channels).collect();
        let report = evaluate_separation(&to_f64(&sources), &to_f64(&estimates), RATE).unwrap();
        for (i, source) in report.iter().enumerate() {
            let s = source.scores;
            assert!(s.sdr > 30.0 && s.si_sdr > 30.0, "source {i}: {s:?}");
        }
    }

    #[test]
    fn bad_masks_and_shapes_are_refused() {
        assert!(Mask::new(1, 2, vec![0.5, 1.5]).is_err());
        assert!(Mask::new(1, 2, vec![0.5, f32::NAN]).is_err());
        assert!(Mask::new(1, 2, vec![0.5]).is_err());
        assert!(ideal_ratio_masks(&[vec![1.0]], (1, 2)).is_err());
        assert!(ideal_ratio_masks(&[], (1, 2)).is_err());
        let stft = ComplexStft::new(64, 16).unwrap();
        let mixture = vec![stft.stft(&noise(100, 1))];
        let mask = Mask::new(3, 33, vec![1.0; 99]).unwrap();
        assert!(apply_masks(&mixture, &[mask]).is_err());
        let uneven = vec![vec![noise(100, 1)], vec![noise(99, 2)]];
        assert!(ideal_ratio_stems(&stft, &[noise(100, 3)], &uneven).is_err());
        let stereo = vec![vec![noise(100, 1), noise(100, 2)]];
        assert!(ideal_ratio_stems(&stft, &[noise(100, 3)], &stereo).is_err());
    }
}
