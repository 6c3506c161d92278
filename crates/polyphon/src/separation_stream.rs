//! Separation of a signal of any length in bounded memory: blocks in, stem blocks out.
//!
//! Each channel is resampled to the model's 16 kHz as it arrives; every 30 s of it are
//! separated as one segment (STFT, masks, inverse STFT), consecutive segments overlapping by
//! 1 s and cross-faded linearly there, and the stems are resampled back as they are final.
//! What is held at any time is one segment per channel and one fade per stem and channel,
//! whatever the input's length.

use polyphon_audio::StreamResampler;
use polyphon_decode::stems::{masks_to_stems, source_magnitude, wiener_masks, Mask};
use polyphon_features::ComplexStft;
use polyphon_models::separation::{
    SeparationModel, SEPARATION_BINS, SEPARATION_HOP, SEPARATION_N_FFT, SEPARATION_SAMPLE_RATE,
};

use crate::{invalid, Result};

/// Samples (at 16 kHz) per segment and of the cross-fade between segments.
const SEGMENT: usize = 30 * SEPARATION_SAMPLE_RATE as usize;
const FADE: usize = SEPARATION_SAMPLE_RATE as usize;

/// `stems[source][channel]`: samples.
pub type Stems = Vec<Vec<Vec<f32>>>;

/// One channel's rate conversion, or a copy when the rates are equal.
struct RateConverter(Option<StreamResampler>);

impl RateConverter {
    fn new(from: u32, to: u32) -> Result<Self> {
        Ok(Self(match from == to {
            true => None,
            false => Some(StreamResampler::new(from, to)?),
        }))
    }

    fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<()> {
        match &mut self.0 {
            Some(resampler) => resampler.push(input, out)?,
            None => out.extend_from_slice(input),
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<f32>) -> Result<()> {
        if let Some(resampler) = self.0.take() {
            resampler.finish(out)?;
        }
        Ok(())
    }
}

/// See the [module documentation](self).
pub struct SeparationStream<'a> {
    model: &'a SeparationModel,
    stft: ComplexStft,
    /// Wiener refinement iterations of the masks (0: the network's masks as they are).
    wiener: usize,
    /// Per channel, input rate → 16 kHz.
    down: Vec<RateConverter>,
    /// Per channel, 16 kHz samples not yet separated (the next segment's start).
    pending: Vec<Vec<f32>>,
    /// Per source and channel, the faded-out last second of the previous segment.
    tail: Stems,
    first_segment: bool,
    /// Per source and channel, 16 kHz → input rate.
    up: Vec<Vec<RateConverter>>,
    input_frames: u64,
    emitted_frames: u64,
    separated: u64,
}

impl<'a> SeparationStream<'a> {
    pub(crate) fn new(
        model: &'a SeparationModel,
        channels: usize,
        sample_rate: u32,
    ) -> Result<Self> {
        if channels == 0 {
            return invalid!("the input has no channels");
        }
        let rate = SEPARATION_SAMPLE_RATE;
        let converters = |from, to| {
            (0..channels)
                .map(|_| RateConverter::new(from, to))
                .collect::<Result<Vec<_>>>()
        };
        let sources = model.sources().len();
        Ok(Self {
            model,
            stft: ComplexStft::new(SEPARATION_N_FFT, SEPARATION_HOP)?,
            wiener: 0,
            down: converters(sample_rate, rate)?,
            pending: vec![Vec::new(); channels],
            tail: vec![vec![Vec::new(); channels]; sources],
            first_segment: true,
            up: (0..sources)
                .map(|_| converters(rate, sample_rate))
                .collect::<Result<_>>()?,
            input_frames: 0,
            emitted_frames: 0,
            separated: 0,
        })
    }

    /// Refines the masks by `iterations` of [`wiener_masks`] before they are applied.
    pub(crate) fn with_wiener(mut self, iterations: usize) -> Self {
        self.wiener = iterations;
        self
    }

    /// Input frames taken so far.
    pub fn input_frames(&self) -> u64 {
        self.input_frames
    }

    /// Seconds of input separated so far.
    pub fn separated_seconds(&self) -> f64 {
        self.separated as f64 / SEPARATION_SAMPLE_RATE as f64
    }

    /// Takes the next block (`block[channel]`, equal lengths) and returns the stem samples
    /// that became final, at the input's rate.
    pub fn push(&mut self, block: &[Vec<f32>]) -> Result<Stems> {
        if block.len() != self.pending.len() {
            return invalid!(
                "a block has {} channels, the stream {}",
                block.len(),
                self.pending.len()
            );
        }
        let frames = block.first().map_or(0, Vec::len);
        if block.iter().any(|c| c.len() != frames) {
            return invalid!("the channels of a block differ in length");
        }
        self.input_frames += frames as u64;
        for ((converter, pending), samples) in
            self.down.iter_mut().zip(&mut self.pending).zip(block)
        {
            converter.push(samples, pending)?;
        }
        let mut out = self.empty_stems();
        while self.buffered() >= SEGMENT {
            self.separate_segment(SEGMENT, false, &mut out)?;
        }
        self.limit_to_input(&mut out, false);
        Ok(out)
    }

    /// Separates what is left and returns the last stem samples; the stems then hold exactly
    /// as many frames as the input.
    pub fn finish(mut self) -> Result<Stems> {
        for (converter, pending) in self.down.iter_mut().zip(&mut self.pending) {
            converter.finish(pending)?;
        }
        let mut out = self.empty_stems();
        let left = self.buffered();
        if left > 0 || !self.first_segment {
            self.separate_segment(left, true, &mut out)?;
        }
        for (converters, stem) in self.up.iter_mut().zip(&mut out) {
            for (converter, channel) in converters.iter_mut().zip(stem) {
                converter.finish(channel)?;
            }
        }
        self.limit_to_input(&mut out, true);
        Ok(out)
    }

    fn empty_stems(&self) -> Stems {
        vec![vec![Vec::new(); self.pending.len()]; self.up.len()]
    }

    /// 16 kHz samples every channel holds (resamplers of equal rates emit equal lengths).
    fn buffered(&self) -> usize {
        self.pending.iter().map(Vec::len).min().unwrap_or(0)
    }

    /// Separates the first `len` pending samples, cross-fades them with the previous
    /// segment's tail, and sends all but the next fade (the whole segment when `last`)
    /// through the rate converters into `out`.
    fn separate_segment(&mut self, len: usize, last: bool, out: &mut Stems) -> Result<()> {
        let segment: Vec<Vec<f32>> = self.pending.iter().map(|c| c[..len].to_vec()).collect();
        let mut stems = separate_segment(self.model, &self.stft, self.wiener, &segment)?;
        let keep = if last { len } else { len - FADE };
        for (source, stem) in stems.iter_mut().enumerate() {
            for (channel, samples) in stem.iter_mut().enumerate() {
                // Linear fades whose weights add up to exactly one, so the stems still sum
                // to the mixture across the overlap.
                if !self.first_segment {
                    let tail = &self.tail[source][channel];
                    for (i, (value, faded)) in samples.iter_mut().zip(tail).enumerate() {
                        *value = *value * (i as f32 / FADE as f32) + faded;
                    }
                }
                if !last {
                    self.tail[source][channel] = samples[keep..]
                        .iter()
                        .enumerate()
                        .map(|(i, v)| v * (1.0 - i as f32 / FADE as f32))
                        .collect();
                }
                self.up[source][channel].push(&samples[..keep], &mut out[source][channel])?;
            }
        }
        for pending in &mut self.pending {
            pending.drain(..keep);
        }
        self.separated += keep as u64;
        self.first_segment = false;
        Ok(())
    }

    /// Cuts `out` so no more than the input's frames are ever emitted; at the end, pads too.
    fn limit_to_input(&mut self, out: &mut Stems, at_end: bool) {
        let available = out.iter().flatten().map(Vec::len).min().unwrap_or(0) as u64;
        let room = self.input_frames.saturating_sub(self.emitted_frames);
        let frames = if at_end { room } else { available.min(room) };
        for channel in out.iter_mut().flatten() {
            channel.resize(frames as usize, 0.0);
        }
        self.emitted_frames += frames;
    }
}

/// One segment at 16 kHz: channel STFTs, masks from their mean magnitude, stems
/// (`[source][channel]`, the segment's length).
fn separate_segment(
    model: &SeparationModel,
    stft: &ComplexStft,
    wiener: usize,
    channels: &[Vec<f32>],
) -> Result<Stems> {
    let length = channels.first().map_or(0, Vec::len);
    let spectrograms: Vec<_> = channels.iter().map(|c| stft.stft(c)).collect();
    let frames = spectrograms[0].frames();
    let magnitude = source_magnitude(&spectrograms)?;
    let bins = SEPARATION_BINS + 1;
    let masks = model
        .masks(&magnitude, frames)?
        .into_iter()
        .map(|values| {
            let values = values.into_iter().map(|v| v.clamp(0.0, 1.0)).collect();
            Mask::new(frames, bins, values)
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let masks = wiener_masks(masks, wiener)?;
    Ok(masks_to_stems(stft, &spectrograms, &masks, length)?
        .into_iter()
        .map(|stem| stem.channels)
        .collect())
}

#[cfg(all(test, feature = "bundled"))]
mod tests {
    use super::*;

    fn bundled() -> SeparationModel {
        crate::Separator::bundled().unwrap().model().clone()
    }

    /// Two tones per channel, a few seconds, at `rate`.
    fn signal(rate: u32, seconds: f32, channels: usize) -> Vec<Vec<f32>> {
        let n = (rate as f32 * seconds) as usize;
        (0..channels)
            .map(|c| {
                (0..n)
                    .map(|i| {
                        let t = i as f32 / rate as f32;
                        0.3 * (2.0 * std::f32::consts::PI * (55.0 + c as f32) * t).sin()
                            + 0.2 * (2.0 * std::f32::consts::PI * 880.0 * t).sin()
                    })
                    .collect()
            })
            .collect()
    }

    fn run(separator: &mut SeparationStream, input: &[Vec<f32>], block: usize) -> Stems {
        let mut stems: Stems = Vec::new();
        let frames = input[0].len();
        let mut start = 0;
        while start < frames {
            let end = (start + block).min(frames);
            let part: Vec<Vec<f32>> = input.iter().map(|c| c[start..end].to_vec()).collect();
            append(&mut stems, separator.push(&part).unwrap());
            start = end;
        }
        stems
    }

    fn append(stems: &mut Stems, more: Stems) {
        if stems.is_empty() {
            *stems = more;
            return;
        }
        for (stem, extra) in stems.iter_mut().zip(more) {
            for (channel, samples) in stem.iter_mut().zip(extra) {
                channel.extend(samples);
            }
        }
    }

    #[test]
    fn blocks_of_any_size_give_the_same_stems_of_the_input_length_that_sum_to_it() {
        let model = bundled();
        // Longer than two segments, so two cross-fades are crossed.
        let input = signal(16_000, 61.5, 2);
        let mut outputs = Vec::new();
        for block in [4_096, 100_003] {
            let mut separator = SeparationStream::new(&model, 2, 16_000).unwrap();
            let mut stems = run(&mut separator, &input, block);
            append(&mut stems, separator.finish().unwrap());
            outputs.push(stems);
        }
        assert_eq!(outputs[0], outputs[1]);
        let stems = &outputs[0];
        for (c, channel) in input.iter().enumerate() {
            assert_eq!(stems[0][c].len(), channel.len());
            let worst = channel
                .iter()
                .enumerate()
                .map(|(i, x)| (stems[0][c][i] + stems[1][c][i] - x).abs())
                .fold(0f32, f32::max);
            assert!(
                worst < 1e-3,
                "channel {c}: stems miss the mixture by {worst}"
            );
        }
    }

    #[test]
    fn other_rates_come_back_at_their_rate_and_length() {
        let model = bundled();
        let input = signal(44_100, 2.3, 1);
        let mut separator = SeparationStream::new(&model, 1, 44_100).unwrap();
        let mut stems = run(&mut separator, &input, 10_000);
        append(&mut stems, separator.finish().unwrap());
        assert_eq!(stems.len(), 2);
        assert_eq!(stems[0][0].len(), input[0].len());
        assert!(SeparationStream::new(&model, 0, 44_100).is_err());
    }
}
