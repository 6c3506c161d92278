use std::path::Path;

use crate::{AudioInfo, AudioReader, Downmix, Result, StreamResampler};

/// Mono audio at a chosen sample rate, read block by block from a file.
///
/// Chains [`AudioReader`] and, when the file's rate differs from the wanted one,
/// [`StreamResampler`]. Memory use is independent of the file's length.
pub struct MonoStream {
    reader: AudioReader,
    resampler: Option<StreamResampler>,
    sample_rate: u32,
    decoded: Vec<f32>,
    done: bool,
}

impl MonoStream {
    /// Opens `path`; `sample_rate` of `None` keeps the file's own rate.
    pub fn open(
        path: impl AsRef<Path>,
        sample_rate: Option<u32>,
        downmix: Downmix,
    ) -> Result<Self> {
        let reader = AudioReader::open(path, downmix)?;
        let native = reader.info().sample_rate;
        let sample_rate = sample_rate.unwrap_or(native);
        let resampler = if sample_rate == native {
            None
        } else {
            Some(StreamResampler::new(native, sample_rate)?)
        };
        Ok(Self {
            reader,
            resampler,
            sample_rate,
            decoded: Vec::new(),
            done: false,
        })
    }

    /// Sample rate of the samples this stream yields.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// The file's own description (its native rate and length).
    pub fn source_info(&self) -> &AudioInfo {
        self.reader.info()
    }

    pub fn path(&self) -> &Path {
        self.reader.path()
    }

    /// Expected number of output samples, when the file announces its length.
    pub fn expected_len(&self) -> Option<u64> {
        let info = self.reader.info();
        info.frames
            .map(|n| (n * self.sample_rate as u64).div_ceil(info.sample_rate as u64))
    }

    /// Appends the next block of samples to `out`; `Ok(false)` once the stream is exhausted.
    pub fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        if self.done {
            return Ok(false);
        }
        let Some(resampler) = self.resampler.as_mut() else {
            let more = self.reader.read_block(out)?;
            self.done = !more;
            return Ok(more);
        };
        self.decoded.clear();
        if self.reader.read_block(&mut self.decoded)? {
            resampler.push(&self.decoded, out)?;
        } else {
            self.done = true;
            self.resampler
                .take()
                .expect("resampler present")
                .finish(out)?;
        }
        Ok(true)
    }
}

/// A whole mono signal in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct MonoAudio {
    pub samples: Vec<f32>,
    pub sample_rate: u32,
}

/// Reads a whole file into memory as mono (for short clips; long files should stream).
pub fn read_mono(
    path: impl AsRef<Path>,
    sample_rate: Option<u32>,
    downmix: Downmix,
) -> Result<MonoAudio> {
    let mut stream = MonoStream::open(path, sample_rate, downmix)?;
    let mut samples = Vec::new();
    while stream.read_block(&mut samples)? {}
    Ok(MonoAudio {
        samples,
        sample_rate: stream.sample_rate(),
    })
}
