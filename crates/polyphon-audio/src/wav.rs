use std::cell::RefCell;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use polyphon_core::AtomicFile;

use crate::{AudioError, Result};

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
    let mut writer = WavStreamWriter::create(path, sample_rate, channels, format)?;
    writer.write_interleaved(samples)?;
    writer.commit()?;
    Ok(())
}

/// A WAV file written block by block (memory flat in its length) through an
/// [`AtomicFile`]: it appears under its final name only on [`commit`](Self::commit), and
/// dropped uncommitted it leaves nothing.
pub struct WavStreamWriter {
    writer: hound::WavWriter<SharedFile>,
    file: Rc<RefCell<AtomicFile>>,
    channels: u16,
    format: WavFormat,
}

/// hound's writer owns its output and `finalize` consumes it without handing it back, so
/// it writes through this shared handle and the [`AtomicFile`] stays ours to commit.
struct SharedFile(Rc<RefCell<AtomicFile>>);

impl Write for SharedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.0.borrow_mut().seek(pos)
    }
}

impl WavStreamWriter {
    pub fn create(
        path: impl AsRef<Path>,
        sample_rate: u32,
        channels: u16,
        format: WavFormat,
    ) -> Result<Self> {
        let path = path.as_ref();
        if channels == 0 {
            return Err(AudioError::Write {
                path: path.to_path_buf(),
                detail: "a WAV file needs at least one channel".into(),
            });
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
        let file = Rc::new(RefCell::new(AtomicFile::create(path)?));
        let writer = hound::WavWriter::new(SharedFile(file.clone()), spec).map_err(|e| {
            AudioError::Write {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
        })?;
        Ok(Self {
            writer,
            file,
            channels,
            format,
        })
    }

    /// Appends interleaved samples; their count must be a multiple of the channels.
    pub fn write_interleaved(&mut self, samples: &[f32]) -> Result<()> {
        if !samples.len().is_multiple_of(self.channels as usize) {
            return Err(self.fail(format!(
                "{} samples do not split into {} channels",
                samples.len(),
                self.channels
            )));
        }
        let (format, writer) = (self.format, &mut self.writer);
        let written: std::result::Result<(), hound::Error> =
            samples.iter().try_for_each(|&sample| match format {
                WavFormat::Int16 => {
                    writer.write_sample((sample.clamp(-1.0, 1.0) * 32767.0).round() as i16)
                }
                WavFormat::Float32 => writer.write_sample(sample),
            });
        written.map_err(|e| self.fail(e.to_string()))
    }

    /// Finalises the header and commits the file under its name.
    pub fn commit(self) -> Result<PathBuf> {
        let path = self.file.borrow().target().to_path_buf();
        let Self { writer, file, .. } = self;
        writer.finalize().map_err(|e| AudioError::Write {
            path,
            detail: e.to_string(),
        })?;
        let file = Rc::try_unwrap(file)
            .ok()
            .expect("the finalised writer held the only other handle");
        Ok(file.into_inner().commit()?)
    }

    fn fail(&self, detail: String) -> AudioError {
        AudioError::Write {
            path: self.file.borrow().target().to_path_buf(),
            detail,
        }
    }
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

    #[test]
    fn streamed_blocks_equal_one_write_and_nothing_appears_before_commit() {
        let dir = tempfile::tempdir().unwrap();
        let samples: Vec<f32> = (0..2000).map(|i| (i as f32 / 50.0).cos() * 0.25).collect();
        let whole = dir.path().join("whole.wav");
        write_wav(&whole, &samples, 8000, 2, WavFormat::Int16).unwrap();
        let streamed = dir.path().join("streamed.wav");
        let mut writer = WavStreamWriter::create(&streamed, 8000, 2, WavFormat::Int16).unwrap();
        for block in samples.chunks(300) {
            writer.write_interleaved(block).unwrap();
        }
        assert!(!streamed.exists());
        writer.commit().unwrap();
        assert_eq!(
            std::fs::read(&whole).unwrap(),
            std::fs::read(&streamed).unwrap()
        );

        let dropped = dir.path().join("dropped.wav");
        let mut writer = WavStreamWriter::create(&dropped, 8000, 1, WavFormat::Float32).unwrap();
        writer.write_interleaved(&samples).unwrap();
        drop(writer);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            2,
            "no temporary file left"
        );
    }
}
