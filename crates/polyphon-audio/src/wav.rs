use std::path::Path;

use crate::{AtomicFile, AudioError, Result};

/// Sample format of a written WAV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WavFormat {
    /// 16-bit integer PCM, clipped to [-1, 1].
    #[default]
    Int16,
    /// 32-bit IEEE float, written as is.
    Float32,
}

/// Writes interleaved `samples` with `channels` channels to a WAV file, atomically.
pub fn write_wav(
    path: impl AsRef<Path>,
    samples: &[f32],
    sample_rate: u32,
    channels: u16,
    format: WavFormat,
) -> Result<()> {
    let path = path.as_ref();
    let fail = |detail: String| AudioError::Write {
        path: path.to_path_buf(),
        detail,
    };
    if channels == 0 || !samples.len().is_multiple_of(channels as usize) {
        return Err(fail(format!(
            "{} samples do not split into {channels} channels",
            samples.len()
        )));
    }
    let spec = hound::WavSpec {
        channels,
        sample_rate,
        bits_per_sample: match format {
            WavFormat::Int16 => 16,
            WavFormat::Float32 => 32,
        },
        sample_format: match format {
            WavFormat::Int16 => hound::SampleFormat::Int,
            WavFormat::Float32 => hound::SampleFormat::Float,
        },
    };
    let mut file = AtomicFile::create(path)?;
    {
        let mut writer = hound::WavWriter::new(&mut file, spec).map_err(|e| fail(e.to_string()))?;
        for &sample in samples {
            let written = match format {
                WavFormat::Int16 => {
                    writer.write_sample((sample.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                }
                WavFormat::Float32 => writer.write_sample(sample),
            };
            written.map_err(|e| fail(e.to_string()))?;
        }
        writer.finalize().map_err(|e| fail(e.to_string()))?;
    }
    file.commit()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{read_mono, Downmix};

    #[test]
    fn float_wav_round_trips_through_the_decoder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        let samples: Vec<f32> = (0..1000).map(|i| (i as f32 / 100.0).sin() * 0.5).collect();
        write_wav(&path, &samples, 22_050, 1, WavFormat::Float32).unwrap();
        let audio = read_mono(&path, None, Downmix::Mean).unwrap();
        assert_eq!(audio.sample_rate, 22_050);
        assert_eq!(audio.samples, samples);
    }

    #[test]
    fn ragged_interleaving_is_rejected_without_output() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.wav");
        assert!(write_wav(&path, &[0.0; 3], 8000, 2, WavFormat::Int16).is_err());
        assert!(!path.exists());
    }
}
