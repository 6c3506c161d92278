//! Whole files with their channels kept apart, in f64: what evaluation needs (the separation
//! metrics compare every channel of a stem), where the front-ends only want a mono stream.

use std::path::Path;

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::sample::{i24, u24, Sample};

use crate::{AudioReader, Downmix, Result};

/// A decoded file, `channels[c][n]` in [-1, 1] (integer PCM scaled by 2^-(bits-1), unsigned
/// PCM centred first: what soundfile returns with `dtype="float64"`).
#[derive(Debug, Clone, PartialEq)]
pub struct MultiChannelAudio {
    pub sample_rate: u32,
    pub channels: Vec<Vec<f64>>,
}

impl MultiChannelAudio {
    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

/// Reads all of `path` (any format [`AudioReader`] decodes), channels kept.
pub fn read_channels(path: impl AsRef<Path>) -> Result<MultiChannelAudio> {
    let mut reader = AudioReader::open(path, Downmix::Mean)?;
    let mut channels = vec![Vec::new(); reader.info().channels];
    while reader.read_block_channels(&mut channels)? {}
    Ok(MultiChannelAudio {
        sample_rate: reader.info().sample_rate,
        channels,
    })
}

/// Appends each channel of `buffer` to `out[channel]`; returns the channel count of the
/// buffer (nothing is appended when it differs from `out.len()`) and whether the samples
/// were floating point.
pub(crate) fn append_channels(buffer: &AudioBufferRef<'_>, out: &mut [Vec<f64>]) -> (usize, bool) {
    let channels = buffer.spec().channels.count();
    if channels != out.len() {
        return (channels, false);
    }
    const S8: f64 = 1.0 / 128.0;
    const S16: f64 = 1.0 / 32_768.0;
    const S24: f64 = 1.0 / 8_388_608.0;
    const S32: f64 = 1.0 / 2_147_483_648.0;
    match buffer {
        AudioBufferRef::F32(b) => append(b, out, |s| s as f64),
        AudioBufferRef::F64(b) => append(b, out, |s| s),
        AudioBufferRef::S8(b) => append(b, out, |s| s as f64 * S8),
        AudioBufferRef::S16(b) => append(b, out, |s| s as f64 * S16),
        AudioBufferRef::S24(b) => append(b, out, |s: i24| s.inner() as f64 * S24),
        AudioBufferRef::S32(b) => append(b, out, |s| s as f64 * S32),
        AudioBufferRef::U8(b) => append(b, out, |s| (s as f64 - 128.0) * S8),
        AudioBufferRef::U16(b) => append(b, out, |s| (s as f64 - 32_768.0) * S16),
        AudioBufferRef::U24(b) => append(b, out, |s: u24| (s.inner() as f64 - 8_388_608.0) * S24),
        AudioBufferRef::U32(b) => append(b, out, |s| (s as f64 - 2_147_483_648.0) * S32),
    }
    let float = matches!(buffer, AudioBufferRef::F32(_) | AudioBufferRef::F64(_));
    (channels, float)
}

fn append<S: Sample>(b: &AudioBuffer<S>, out: &mut [Vec<f64>], value: impl Fn(S) -> f64) {
    for (c, channel) in out.iter_mut().enumerate() {
        channel.extend(b.chan(c).iter().map(|&s| value(s)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, spec: hound::WavSpec, interleaved: &[i32]) {
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for &s in interleaved {
            match spec.bits_per_sample {
                16 => writer.write_sample(s as i16).unwrap(),
                _ => writer.write_sample(s).unwrap(),
            }
        }
        writer.finalize().unwrap();
    }

    #[test]
    fn keeps_channels_apart_and_scales_as_soundfile() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stereo.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        // enough frames for several packets
        let frames = 10_000;
        let interleaved: Vec<i32> = (0..frames)
            .flat_map(|n| [(n % 65_536) - 32_768, -(n % 1000)])
            .collect();
        write(&path, spec, &interleaved);
        let audio = read_channels(&path).unwrap();
        assert_eq!(audio.sample_rate, 8000);
        assert_eq!(audio.channels.len(), 2);
        assert_eq!(audio.frames(), frames as usize);
        for n in [0usize, 1, 4095, 4096, 9999] {
            assert_eq!(audio.channels[0][n], interleaved[2 * n] as f64 / 32_768.0);
            assert_eq!(
                audio.channels[1][n],
                interleaved[2 * n + 1] as f64 / 32_768.0
            );
        }

        let path = dir.path().join("mono24.wav");
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 44_100,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        write(&path, spec, &[-8_388_608, 0, 8_388_607, 12_345]);
        let audio = read_channels(&path).unwrap();
        assert_eq!(audio.channels.len(), 1);
        assert_eq!(
            audio.channels[0],
            vec![-1.0, 0.0, 8_388_607.0 / 8_388_608.0, 12_345.0 / 8_388_608.0]
        );
    }
}
