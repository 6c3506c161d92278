use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::Window;

/// What each STFT bin holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpectrumKind {
    /// |X|, as madmom's `Spectrogram`.
    Magnitude,
    /// |X|², as librosa's `melspectrogram` with `power=2`.
    Power,
}

/// Windowed real FFT of one frame, returning magnitudes or powers.
///
/// realfft is used because it is the fastest pure-Rust real-input FFT; plans are shared
/// between threads and each thread keeps its own scratch (see [`StftScratch`]).
#[derive(Clone)]
pub struct Stft {
    window: Vec<f32>,
    fft: Arc<dyn RealToComplex<f32>>,
    kind: SpectrumKind,
    num_bins: usize,
}

/// Per-thread working memory of an [`Stft`].
pub struct StftScratch {
    frame: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    fft_scratch: Vec<Complex<f32>>,
}

impl Stft {
    /// `include_nyquist` keeps bin `frame_size / 2` (librosa does, madmom does not).
    pub fn new(
        frame_size: usize,
        window: Window,
        kind: SpectrumKind,
        include_nyquist: bool,
    ) -> Self {
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(frame_size);
        let num_bins = frame_size / 2 + usize::from(include_nyquist);
        Self {
            window: window.coefficients(frame_size),
            fft,
            kind,
            num_bins,
        }
    }

    pub fn frame_size(&self) -> usize {
        self.window.len()
    }

    /// Number of output bins.
    pub fn num_bins(&self) -> usize {
        self.num_bins
    }

    /// Centre frequency of every output bin, in Hz.
    pub fn bin_frequencies(&self, sample_rate: u32) -> Vec<f64> {
        let n = self.frame_size() as f64;
        (0..self.num_bins)
            .map(|k| k as f64 * sample_rate as f64 / n)
            .collect()
    }

    pub fn scratch(&self) -> StftScratch {
        StftScratch {
            frame: self.fft.make_input_vec(),
            spectrum: self.fft.make_output_vec(),
            fft_scratch: self.fft.make_scratch_vec(),
        }
    }

    /// The frame buffer to fill before calling [`process`](Self::process).
    pub fn frame_buffer<'a>(&self, scratch: &'a mut StftScratch) -> &'a mut [f32] {
        &mut scratch.frame
    }

    /// Windows the frame held in `scratch` and writes the first `out.len()` bins of its
    /// spectrum to `out` (at most `num_bins`; a filterbank that stops early needs no more).
    pub fn process(&self, scratch: &mut StftScratch, out: &mut [f32]) {
        for (sample, w) in scratch.frame.iter_mut().zip(&self.window) {
            *sample *= w;
        }
        self.fft
            .process_with_scratch(
                &mut scratch.frame,
                &mut scratch.spectrum,
                &mut scratch.fft_scratch,
            )
            .expect("buffer sizes come from the plan");
        let bins = out.iter_mut().zip(&scratch.spectrum[..self.num_bins]);
        match self.kind {
            SpectrumKind::Magnitude => bins.for_each(|(v, x)| *v = x.norm_sqr().sqrt()),
            SpectrumKind::Power => bins.for_each(|(v, x)| *v = x.norm_sqr()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bin_centred_sine_peaks_in_its_bin_with_the_expected_height() {
        let n = 1024;
        let stft = Stft::new(n, Window::Rectangular, SpectrumKind::Magnitude, false);
        let mut scratch = stft.scratch();
        for (i, s) in stft.frame_buffer(&mut scratch).iter_mut().enumerate() {
            *s = (2.0 * std::f32::consts::PI * 32.0 * i as f32 / n as f32).cos();
        }
        let mut out = vec![0.0; stft.num_bins()];
        stft.process(&mut scratch, &mut out);
        assert_eq!(out.len(), 512);
        assert!((out[32] - 512.0).abs() < 1e-2);
        assert!(out.iter().enumerate().all(|(k, v)| k == 32 || *v < 1e-2));
    }
}
