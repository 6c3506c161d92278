//! Complex STFT and its inverse, equal to librosa 0.11's
//! `stft(y, n_fft, hop_length, window='hann', center=True, pad_mode='constant')` and
//! `istft(S, hop_length, window='hann', center=True, length=n)`.
//!
//! Frame `t` is centred on sample `t · hop` of the signal (zeros outside it), weighted by a
//! periodic Hann window; a signal of `n` samples has `1 + n / hop` frames of
//! `n_fft / 2 + 1` bins. The inverse overlap-adds the windowed inverse FFTs and divides by
//! the sum of the squared windows (librosa's `window_sumsquare`) wherever that sum is not
//! zero, so `istft(stft(x), length = x.len())` gives `x` back.
//!
//! # Long files in bounded memory
//!
//! Both directions are frame-local, so a long file never has to be held whole:
//! * [`ComplexStft::frames`] computes any range of frames from a block of the signal that
//!   covers them (frame `t` reads samples `t · hop − n_fft / 2 .. t · hop + n_fft / 2`), so a
//!   caller reads blocks that overlap by `n_fft` samples, or simply keeps the last `n_fft`
//!   samples of the previous block.
//! * [`OverlapAdd`] takes the (e.g. masked) frames one by one, in order, and hands out every
//!   sample that no later frame can touch; it holds `n_fft` samples, whatever the length.
//!
//! A separator that needs context around each frame (a network over patches of frames) runs
//! on overlapping frame blocks, keeps only each block's central frames and pushes those into
//! one [`OverlapAdd`]: the samples equal the whole-file [`ComplexStft::istft`] exactly.

use std::ops::Range;
use std::sync::Arc;

use realfft::num_complex::Complex32;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use crate::error::invalid;
use crate::{Result, Window};

/// A complex spectrogram, frames × bins, row-major (one frame after the other).
#[derive(Debug, Clone, PartialEq)]
pub struct ComplexSpectrogram {
    frames: usize,
    bins: usize,
    data: Vec<Complex32>,
}

impl ComplexSpectrogram {
    /// `data` holds `frames · bins` values, frame by frame.
    pub fn new(frames: usize, bins: usize, data: Vec<Complex32>) -> Result<Self> {
        if data.len() != frames * bins {
            return Err(invalid(format!(
                "a {frames} x {bins} spectrogram needs {} values, got {}",
                frames * bins,
                data.len()
            )));
        }
        Ok(Self { frames, bins, data })
    }

    pub fn zeros(frames: usize, bins: usize) -> Self {
        Self {
            frames,
            bins,
            data: vec![Complex32::new(0.0, 0.0); frames * bins],
        }
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    pub fn bins(&self) -> usize {
        self.bins
    }

    /// The bins of frame `t`.
    pub fn frame(&self, t: usize) -> &[Complex32] {
        &self.data[t * self.bins..(t + 1) * self.bins]
    }

    pub fn frame_mut(&mut self, t: usize) -> &mut [Complex32] {
        &mut self.data[t * self.bins..(t + 1) * self.bins]
    }

    pub fn data(&self) -> &[Complex32] {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut [Complex32] {
        &mut self.data
    }

    /// |X| of every value, frames × bins.
    pub fn magnitudes(&self) -> Vec<f32> {
        self.data.iter().map(|x| x.norm()).collect()
    }
}

/// Forward and inverse complex STFT with a periodic Hann window of `n_fft` samples.
#[derive(Clone)]
pub struct ComplexStft {
    hop: usize,
    window: Vec<f32>,
    forward: Arc<dyn RealToComplex<f32>>,
    inverse: Arc<dyn ComplexToReal<f32>>,
}

impl std::fmt::Debug for ComplexStft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComplexStft")
            .field("n_fft", &self.n_fft())
            .field("hop", &self.hop)
            .finish()
    }
}

impl ComplexStft {
    /// `n_fft` must be even (the inverse infers it from `n_fft / 2 + 1` bins, as librosa
    /// does) and `hop` between 1 and `n_fft` (a larger hop would leave samples no frame sees).
    pub fn new(n_fft: usize, hop: usize) -> Result<Self> {
        if n_fft < 2 || !n_fft.is_multiple_of(2) {
            return Err(invalid(format!(
                "n_fft must be even and at least 2, got {n_fft}"
            )));
        }
        if hop == 0 || hop > n_fft {
            return Err(invalid(format!("hop must be in 1..={n_fft}, got {hop}")));
        }
        let mut planner = RealFftPlanner::<f32>::new();
        Ok(Self {
            hop,
            window: Window::HannPeriodic.coefficients(n_fft),
            forward: planner.plan_fft_forward(n_fft),
            inverse: planner.plan_fft_inverse(n_fft),
        })
    }

    pub fn n_fft(&self) -> usize {
        self.window.len()
    }

    pub fn hop(&self) -> usize {
        self.hop
    }

    /// Bins per frame: `n_fft / 2 + 1`.
    pub fn bins(&self) -> usize {
        self.n_fft() / 2 + 1
    }

    /// Frames of a signal of `samples` samples, as librosa's centred STFT gives.
    pub fn num_frames(&self, samples: usize) -> usize {
        1 + samples / self.hop
    }

    /// The signal samples frame `t` reads (clipped to the signal, may be empty).
    pub fn frame_support(&self, t: usize, signal_len: usize) -> Range<usize> {
        let start = (t * self.hop).saturating_sub(self.n_fft() / 2);
        let end = (t * self.hop + self.n_fft() / 2).min(signal_len);
        start.min(end)..end
    }

    /// The whole STFT of `signal`: frames × bins.
    pub fn stft(&self, signal: &[f32]) -> ComplexSpectrogram {
        let frames = 0..self.num_frames(signal.len());
        self.frames(signal, 0, signal.len(), frames)
            .expect("the whole signal covers every frame")
    }

    /// Frames `frames` of a signal of `signal_len` samples of which `block` holds samples
    /// `block_start..block_start + block.len()`; the block must cover every frame's
    /// [`frame_support`](Self::frame_support).
    pub fn frames(
        &self,
        block: &[f32],
        block_start: usize,
        signal_len: usize,
        frames: Range<usize>,
    ) -> Result<ComplexSpectrogram> {
        if frames.is_empty() {
            return Ok(ComplexSpectrogram::zeros(0, self.bins()));
        }
        let block_end = block_start + block.len();
        for t in [frames.start, frames.end - 1] {
            let need = self.frame_support(t, signal_len);
            if !need.is_empty() && (need.start < block_start || need.end > block_end) {
                return Err(invalid(format!(
                    "frame {t} reads samples {need:?}, the block holds {block_start}..{block_end}"
                )));
            }
        }
        let mut out = ComplexSpectrogram::zeros(frames.len(), self.bins());
        let mut input = self.forward.make_input_vec();
        let mut scratch = self.forward.make_scratch_vec();
        for (row, t) in frames.enumerate() {
            self.fill_frame(&mut input, block, block_start, signal_len, t);
            self.forward
                .process_with_scratch(&mut input, out.frame_mut(row), &mut scratch)
                .expect("buffer sizes come from the plan");
        }
        Ok(out)
    }

    /// Windowed samples of frame `t`, zero outside the signal (librosa's constant padding).
    fn fill_frame(
        &self,
        frame: &mut [f32],
        block: &[f32],
        block_start: usize,
        signal_len: usize,
        t: usize,
    ) {
        let first = (t * self.hop) as isize - (self.n_fft() / 2) as isize;
        for (n, (value, w)) in frame.iter_mut().zip(&self.window).enumerate() {
            let position = first + n as isize;
            *value = if position >= 0 && (position as usize) < signal_len {
                block[position as usize - block_start] * w
            } else {
                0.0
            };
        }
    }

    /// librosa's `istft(..., center=True, length=length)`: `length` samples, or
    /// `hop · (frames − 1)` without a length.
    pub fn istft(
        &self,
        spectrogram: &ComplexSpectrogram,
        length: Option<usize>,
    ) -> Result<Vec<f32>> {
        let mut overlap_add = self.overlap_add(length);
        let mut out = Vec::with_capacity(length.unwrap_or(self.hop * spectrogram.frames()));
        for t in 0..spectrogram.frames() {
            overlap_add.push(spectrogram.frame(t))?;
        }
        overlap_add.finish(&mut out);
        Ok(out)
    }

    /// A streaming inverse STFT; `length` as in [`istft`](Self::istft).
    pub fn overlap_add(&self, length: Option<usize>) -> OverlapAdd<'_> {
        OverlapAdd {
            stft: self,
            length,
            sum: Vec::new(),
            window_sum: Vec::new(),
            first: 0,
            frames: 0,
            emitted: 0,
            spectrum: self.inverse.make_input_vec(),
            frame: self.inverse.make_output_vec(),
            scratch: self.inverse.make_scratch_vec(),
        }
    }
}

/// Inverse STFT frame by frame with `n_fft` samples of memory: push frames in order, take
/// the finished samples as they come, [`finish`](Self::finish) at the end.
pub struct OverlapAdd<'a> {
    stft: &'a ComplexStft,
    length: Option<usize>,
    /// Overlap-added windowed frames and squared windows at padded positions `first..`.
    sum: Vec<f32>,
    window_sum: Vec<f32>,
    first: usize,
    frames: usize,
    /// Output samples handed out so far.
    emitted: usize,
    spectrum: Vec<Complex32>,
    frame: Vec<f32>,
    scratch: Vec<Complex32>,
}

impl OverlapAdd<'_> {
    /// Adds the next frame (`n_fft / 2 + 1` bins).
    pub fn push(&mut self, bins: &[Complex32]) -> Result<()> {
        let n_fft = self.stft.n_fft();
        if bins.len() != self.stft.bins() {
            return Err(invalid(format!(
                "a frame of an n_fft {n_fft} STFT has {} bins, got {}",
                self.stft.bins(),
                bins.len()
            )));
        }
        self.spectrum.copy_from_slice(bins);
        // numpy's irfft ignores the imaginary parts of the DC and Nyquist bins; realfft
        // wants them zero.
        self.spectrum[0].im = 0.0;
        self.spectrum[n_fft / 2].im = 0.0;
        self.stft
            .inverse
            .process_with_scratch(&mut self.spectrum, &mut self.frame, &mut self.scratch)
            .expect("buffer sizes come from the plan");
        let offset = self.frames * self.stft.hop - self.first;
        if self.sum.len() < offset + n_fft {
            self.sum.resize(offset + n_fft, 0.0);
            self.window_sum.resize(offset + n_fft, 0.0);
        }
        let scale = 1.0 / n_fft as f32;
        for (n, (&x, &w)) in self.frame.iter().zip(&self.stft.window).enumerate() {
            self.sum[offset + n] += x * scale * w;
            self.window_sum[offset + n] += w * w;
        }
        self.frames += 1;
        Ok(())
    }

    /// Appends to `out` every sample no later frame can change.
    pub fn take_ready(&mut self, out: &mut Vec<f32>) {
        let done = (self.frames * self.stft.hop).saturating_sub(self.first);
        self.emit(done.min(self.sum.len()), self.total(), out);
    }

    /// Appends the remaining samples to `out`: up to `length` in all (zeros past the last
    /// frame), or `hop · (frames − 1)` without a length.
    pub fn finish(mut self, out: &mut Vec<f32>) {
        let (held, total) = (self.sum.len(), self.total());
        self.emit(held, total, out);
        out.extend(std::iter::repeat_n(0.0, total.saturating_sub(self.emitted)));
    }

    /// Output length if no more frames come (librosa's without a length).
    fn total(&self) -> usize {
        self.length
            .unwrap_or(self.stft.hop * self.frames.saturating_sub(1))
    }

    /// Normalises and hands out the first `count` held positions, skipping the centring
    /// padding at the start and anything past the length.
    fn emit(&mut self, count: usize, limit: usize, out: &mut Vec<f32>) {
        let pad = self.stft.n_fft() / 2;
        for i in 0..count {
            let position = self.first + i;
            if position < pad || self.emitted >= limit {
                continue;
            }
            let (value, norm) = (self.sum[i], self.window_sum[i]);
            out.push(if norm > f32::MIN_POSITIVE {
                value / norm
            } else {
                value
            });
            self.emitted += 1;
        }
        self.sum.drain(..count);
        self.window_sum.drain(..count);
        self.first += count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_signal(n: usize) -> Vec<f32> {
        // A chirp plus a fixed pseudo-random part: every bin carries something.
        let mut state = 12345u32;
        (0..n)
            .map(|i| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let noise = (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5;
                let t = i as f32 / 16_000.0;
                0.5 * (2.0 * std::f32::consts::PI * (200.0 + 900.0 * t) * t).sin() + 0.1 * noise
            })
            .collect()
    }

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn frame_count_and_bins_follow_librosa() {
        let stft = ComplexStft::new(1024, 256).unwrap();
        let spec = stft.stft(&test_signal(4000));
        assert_eq!((spec.frames(), spec.bins()), (1 + 4000 / 256, 513));
    }

    #[test]
    fn istft_of_stft_gives_the_signal_back() {
        for (n_fft, hop, len) in [(1024, 256, 8000), (512, 128, 3001), (1024, 300, 5000)] {
            let stft = ComplexStft::new(n_fft, hop).unwrap();
            let x = test_signal(len);
            let y = stft.istft(&stft.stft(&x), Some(len)).unwrap();
            let diff = max_abs_diff(&x, &y);
            assert!(diff < 1e-5, "n_fft {n_fft} hop {hop}: {diff}");
        }
    }

    #[test]
    fn length_pads_with_zeros_or_cuts() {
        let stft = ComplexStft::new(64, 16).unwrap();
        let x = test_signal(200);
        let spec = stft.stft(&x);
        let long = stft.istft(&spec, Some(400)).unwrap();
        assert_eq!(long.len(), 400);
        assert!(long[200 + 32..].iter().all(|v| *v == 0.0));
        let short = stft.istft(&spec, Some(50)).unwrap();
        assert!(max_abs_diff(&short, &x[..50]) < 1e-5);
        assert_eq!(
            stft.istft(&spec, None).unwrap().len(),
            16 * (spec.frames() - 1)
        );
    }

    #[test]
    fn frames_from_overlapping_blocks_equal_the_whole_stft() {
        let stft = ComplexStft::new(512, 128).unwrap();
        let x = test_signal(10_000);
        let whole = stft.stft(&x);
        let frames = whole.frames();
        let mut pieces = Vec::new();
        for chunk_start in (0..frames).step_by(7) {
            let range = chunk_start..(chunk_start + 7).min(frames);
            let first = stft.frame_support(range.start, x.len()).start;
            let last = stft.frame_support(range.end - 1, x.len()).end;
            let block = stft.frames(&x[first..last], first, x.len(), range).unwrap();
            pieces.extend_from_slice(block.data());
        }
        assert_eq!(pieces, whole.data());
    }

    #[test]
    fn a_block_that_misses_a_frames_samples_is_refused() {
        let stft = ComplexStft::new(512, 128).unwrap();
        let x = test_signal(2000);
        assert!(stft.frames(&x[100..], 100, x.len(), 0..3).is_err());
    }

    #[test]
    fn streaming_overlap_add_equals_the_whole_istft_in_bounded_memory() {
        let stft = ComplexStft::new(1024, 256).unwrap();
        let x = test_signal(20_000);
        let mut spec = stft.stft(&x);
        // A mask makes the spectrogram inconsistent, so the normalisation matters.
        for (i, v) in spec.data_mut().iter_mut().enumerate() {
            *v *= (i % 7) as f32 / 6.0;
        }
        let whole = stft.istft(&spec, Some(x.len())).unwrap();
        let mut streamed = Vec::new();
        let mut overlap_add = stft.overlap_add(Some(x.len()));
        for t in 0..spec.frames() {
            overlap_add.push(spec.frame(t)).unwrap();
            overlap_add.take_ready(&mut streamed);
            assert!(overlap_add.sum.len() <= stft.n_fft());
        }
        overlap_add.finish(&mut streamed);
        assert_eq!(streamed, whole);
    }

    #[test]
    fn bad_parameters_and_frames_are_refused() {
        assert!(ComplexStft::new(1023, 256).is_err());
        assert!(ComplexStft::new(1024, 0).is_err());
        assert!(ComplexStft::new(1024, 2048).is_err());
        let stft = ComplexStft::new(64, 16).unwrap();
        let mut overlap_add = stft.overlap_add(None);
        assert!(overlap_add.push(&[Complex32::new(0.0, 0.0); 32]).is_err());
        assert!(ComplexSpectrogram::new(2, 3, vec![Complex32::new(0.0, 0.0); 5]).is_err());
    }
}
