use rubato::{FftFixedIn, Resampler};

use crate::{AudioError, Result};

/// Block size fed to rubato; small enough to keep latency and memory low.
const CHUNK: usize = 1024;

/// Streaming sample-rate conversion of a mono signal with rubato's synchronous FFT resampler.
///
/// Push blocks of any length, then call [`finish`](Self::finish). The output is aligned with
/// the input (rubato's filter delay is removed) and has `ceil(n_in * to / from)` samples.
pub struct StreamResampler {
    from: u32,
    to: u32,
    resampler: FftFixedIn<f32>,
    pending: Vec<f32>,
    delay_left: usize,
    consumed: u64,
    emitted: u64,
}

impl StreamResampler {
    pub fn new(from: u32, to: u32) -> Result<Self> {
        let resampler =
            FftFixedIn::<f32>::new(from as usize, to as usize, CHUNK, 2, 1).map_err(|e| {
                AudioError::Resample {
                    from,
                    to,
                    detail: e.to_string(),
                }
            })?;
        let delay_left = resampler.output_delay();
        Ok(Self {
            from,
            to,
            resampler,
            pending: Vec::with_capacity(2 * CHUNK),
            delay_left,
            consumed: 0,
            emitted: 0,
        })
    }

    /// Feeds `input` and appends whatever output is ready to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        self.consumed += input.len() as u64;
        self.pending.extend_from_slice(input);
        let mut offset = 0;
        while self.pending.len() - offset >= self.resampler.input_frames_next() {
            let needed = self.resampler.input_frames_next();
            let chunk = &self.pending[offset..offset + needed];
            let produced = self.resampler.process(&[chunk], None);
            let produced = self.first_channel(produced)?;
            offset += needed;
            self.emit(&produced, out, u64::MAX);
        }
        self.pending.drain(..offset);
        Ok(())
    }

    /// Flushes the filter's tail and appends the remaining output to `out`.
    pub fn finish(mut self, out: &mut Vec<f32>) -> Result<()> {
        let total = (self.consumed * self.to as u64).div_ceil(self.from as u64);
        let pending = std::mem::take(&mut self.pending);
        // rubato refuses an empty partial chunk: when the input ended on a chunk boundary
        // there is nothing left to feed, only the tail to flush.
        if !pending.is_empty() {
            let produced = self
                .resampler
                .process_partial(Some(&[pending.as_slice()]), None);
            let produced = self.first_channel(produced)?;
            self.emit(&produced, out, total);
        }
        while self.emitted < total {
            let produced = self.resampler.process_partial::<&[f32]>(None, None);
            let produced = self.first_channel(produced)?;
            self.emit(&produced, out, total);
        }
        Ok(())
    }

    fn first_channel(&self, result: rubato::ResampleResult<Vec<Vec<f32>>>) -> Result<Vec<f32>> {
        result
            .map(|mut channels| channels.swap_remove(0))
            .map_err(|e| AudioError::Resample {
                from: self.from,
                to: self.to,
                detail: e.to_string(),
            })
    }

    fn emit(&mut self, produced: &[f32], out: &mut Vec<f32>, total: u64) {
        let skip = self.delay_left.min(produced.len());
        self.delay_left -= skip;
        let room = total.saturating_sub(self.emitted) as usize;
        let usable = &produced[skip..];
        let usable = &usable[..usable.len().min(room)];
        out.extend_from_slice(usable);
        self.emitted += usable.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * freq * i as f64 / rate as f64).sin() as f32)
            .collect()
    }

    #[test]
    fn input_ending_on_a_chunk_boundary_flushes() {
        for (from, to) in [(16_000, 44_100), (44_100, 16_000)] {
            let input = sine(220.0, from, 16 * CHUNK);
            let mut resampler = StreamResampler::new(from, to).unwrap();
            let mut out = Vec::new();
            resampler.push(&input, &mut out).unwrap();
            resampler.finish(&mut out).unwrap();
            let expected = (input.len() as u64 * to as u64).div_ceil(from as u64) as usize;
            assert_eq!(out.len(), expected);
        }
    }

    #[test]
    fn resampled_sine_keeps_length_phase_and_amplitude() {
        let input = sine(440.0, 48_000, 48_000);
        let mut resampler = StreamResampler::new(48_000, 44_100).unwrap();
        let mut out = Vec::new();
        // Odd block sizes exercise the internal buffering.
        for block in input.chunks(777) {
            resampler.push(block, &mut out).unwrap();
        }
        resampler.finish(&mut out).unwrap();
        assert_eq!(out.len(), 44_100);
        let expected = sine(440.0, 44_100, 44_100);
        // Away from the edges the output is the same sine, sample-aligned.
        let max_error = out[2000..42_000]
            .iter()
            .zip(&expected[2000..42_000])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_error < 2e-3, "max error {max_error}");
    }
}
