use std::path::Path;
use std::sync::mpsc::SyncSender;

use polyphon_audio::MonoStream;
use rayon::prelude::*;

use crate::scaling::adjust;
use crate::{FeatureSpec, Filterbank, Result, Stft};

/// Frames computed per parallel batch: large enough to keep threads busy, small enough that
/// the samples held stay around a few seconds of audio.
const BATCH_FRAMES: usize = 256;
/// Samples per block handed from the decoding thread (about 1.5 s at 44.1 kHz).
const DECODE_BLOCK: usize = 1 << 16;
/// Blocks the decoding thread may run ahead.
const PREFETCH_BLOCKS: usize = 4;

/// A whole feature matrix in memory, row-major `(frames, bins)`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMatrix {
    pub values: Vec<f32>,
    pub num_frames: usize,
    pub num_bins: usize,
    pub fps: f64,
}

impl FeatureMatrix {
    pub fn row(&self, frame: usize) -> &[f32] {
        &self.values[frame * self.num_bins..(frame + 1) * self.num_bins]
    }
}

/// Runs a [`FeatureSpec`] over an audio stream.
pub struct Extractor {
    spec: FeatureSpec,
    stft: Stft,
    filterbank: Option<Filterbank>,
}

/// What an extraction leaves to do once all rows are out: the global part of the scaling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finish {
    pub num_frames: usize,
    /// `(offset, floor)` to apply to every value, for dB scalings that need the global maximum.
    pub adjustment: Option<(f32, Option<f32>)>,
}

impl Finish {
    /// Applies the pending global adjustment to values already produced.
    pub fn apply(&self, values: &mut [f32]) {
        if let Some((offset, floor)) = self.adjustment {
            adjust(values, offset, floor);
        }
    }
}

impl Extractor {
    pub fn new(spec: FeatureSpec) -> Result<Self> {
        let stft = spec.build_stft();
        let filterbank = spec.build_filterbank(&stft)?;
        Ok(Self {
            spec,
            stft,
            filterbank,
        })
    }

    pub fn spec(&self) -> &FeatureSpec {
        &self.spec
    }

    /// Values per output row.
    pub fn num_bins(&self) -> usize {
        self.filterbank
            .as_ref()
            .map_or(self.stft.num_bins(), Filterbank::num_bands)
    }

    /// STFT bins actually computed per frame: only those the filterbank reads.
    fn spectrum_bins(&self) -> usize {
        self.filterbank
            .as_ref()
            .map_or(self.stft.num_bins(), Filterbank::bins_used)
    }

    /// Opens `path` as the mono stream this front-end reads.
    pub fn open(&self, path: impl AsRef<Path>) -> Result<MonoStream> {
        Ok(MonoStream::open(
            path,
            Some(self.spec.sample_rate),
            self.spec.downmix,
        )?)
    }

    /// Streams `audio` through the front-end, handing batches of rows to `sink` in order.
    ///
    /// Decoding runs on its own thread, a few blocks ahead of the spectra, so the two overlap.
    /// Memory holds those blocks, one batch of frames and the samples they span. The rows given
    /// to `sink` are final except for a dB scaling's global part, returned in [`Finish`].
    pub fn run(
        &self,
        audio: &mut MonoStream,
        sink: impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<Finish> {
        std::thread::scope(|scope| {
            let (sender, blocks) = std::sync::mpsc::sync_channel(PREFETCH_BLOCKS);
            scope.spawn(move || decode_ahead(audio, sender));
            self.consume(|| blocks.recv().ok(), sink)
        })
    }

    /// [`run`](Self::run) with decoding on the calling thread: nothing overlaps, so with a
    /// one-thread rayon pool the whole extraction is single-threaded (for benchmarks).
    pub fn run_without_prefetch(
        &self,
        audio: &mut MonoStream,
        sink: impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<Finish> {
        self.consume(|| read_chunk(audio), sink)
    }

    fn consume(
        &self,
        mut next_block: impl FnMut() -> Option<Result<Vec<f32>>>,
        mut sink: impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<Finish> {
        let mut stream = FeatureStream::default();
        while let Some(block) = next_block() {
            stream.push(self, &block?, &mut sink)?;
        }
        stream.finish(self, &mut sink)
    }

    /// The features of mono `samples` at `sample_rate`, resampled to the front-end's rate
    /// first when they differ (a global dB scaling is applied too).
    pub fn extract_samples(&self, samples: &[f32], sample_rate: u32) -> Result<FeatureMatrix> {
        let target = self.spec.sample_rate;
        let resampled;
        let samples = match sample_rate == target {
            true => samples,
            false => {
                let mut resampler = polyphon_audio::StreamResampler::new(sample_rate, target)?;
                let mut out = Vec::new();
                resampler.push(samples, &mut out)?;
                resampler.finish(&mut out)?;
                resampled = out;
                &resampled
            }
        };
        let mut values = Vec::new();
        let mut collect = |rows: &[f32]| {
            values.extend_from_slice(rows);
            Ok(())
        };
        let mut stream = FeatureStream::default();
        stream.push(self, samples, &mut collect)?;
        let finish = stream.finish(self, &mut collect)?;
        finish.apply(&mut values);
        Ok(FeatureMatrix {
            values,
            num_frames: finish.num_frames,
            num_bins: self.num_bins(),
            fps: self.spec.fps(),
        })
    }

    /// Rows `frames` of an in-memory signal of which `segment` holds the samples from
    /// `segment_start` on (samples outside it read as zeros, as past a file's edges), for a
    /// signal `signal_len` samples long.
    ///
    /// This lets a data loader compute a few frames of audio it mixes itself without building
    /// the whole signal. Only pointwise scalings are supported: a global dB scaling needs the
    /// whole file, so it is refused.
    pub fn rows_of(
        &self,
        frames: std::ops::Range<usize>,
        segment: &[f32],
        segment_start: i64,
        signal_len: u64,
    ) -> Result<Vec<f32>> {
        if self.spec.scaling.global_adjustment(0.0).is_some() {
            return Err(crate::FeatureError::InvalidParameter(
                "a dB scaling relative to the file needs the whole file".into(),
            ));
        }
        let mut rows = Vec::new();
        self.compute_rows(frames, segment, segment_start, signal_len, &mut rows);
        Ok(rows)
    }

    fn compute_rows(
        &self,
        frames: std::ops::Range<usize>,
        buffer: &[f32],
        buffer_start: i64,
        signal_len: u64,
        rows: &mut Vec<f32>,
    ) {
        let bins = self.num_bins();
        rows.clear();
        rows.resize(frames.len() * bins, 0.0);
        rows.par_chunks_mut(bins).zip(frames).for_each_init(
            || (self.stft.scratch(), vec![0f32; self.spectrum_bins()]),
            |(scratch, spectrum), (row, k)| {
                let frame = self.stft.frame_buffer(scratch);
                self.spec
                    .grid
                    .copy_frame(k, buffer, buffer_start, signal_len, frame);
                match &self.filterbank {
                    Some(bank) => {
                        self.stft.process(scratch, spectrum);
                        bank.apply(spectrum, row);
                    }
                    None => self.stft.process(scratch, row),
                }
                self.spec.scaling.apply_pointwise(row);
            },
        );
    }
}

/// An extraction fed blocks of samples at the front-end's rate, for signals that arrive in
/// pieces (a stream, a network, a synthesizer): [`push`](Self::push) them in order, then
/// [`finish`](Self::finish). Memory holds one batch of frames and the samples they span.
/// The same rows come out as from a file: batch boundaries do not change them.
#[derive(Debug, Clone)]
pub struct FeatureStream {
    buffer: Vec<f32>,
    /// Index in the signal of `buffer[0]`.
    buffer_start: i64,
    next_frame: usize,
    rows: Vec<f32>,
    pointwise_max: f32,
}

impl Default for FeatureStream {
    fn default() -> Self {
        Self {
            buffer: Vec::new(),
            buffer_start: 0,
            next_frame: 0,
            rows: Vec::new(),
            pointwise_max: f32::NEG_INFINITY,
        }
    }
}

impl FeatureStream {
    /// Takes the next samples and hands every batch of rows now complete to `sink`.
    pub fn push(
        &mut self,
        extractor: &Extractor,
        samples: &[f32],
        sink: &mut impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        self.buffer.extend_from_slice(samples);
        self.emit(extractor, false, sink)
    }

    /// Ends the signal: hands the last rows to `sink` and says what is left to do.
    pub fn finish(
        &mut self,
        extractor: &Extractor,
        sink: &mut impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<Finish> {
        self.emit(extractor, true, sink)?;
        Ok(Finish {
            num_frames: self.next_frame,
            adjustment: extractor.spec.scaling.global_adjustment(self.pointwise_max),
        })
    }

    /// Computes and hands out batches of rows while enough samples are there (at the `ended`
    /// signal's end, every frame left).
    fn emit(
        &mut self,
        extractor: &Extractor,
        ended: bool,
        sink: &mut impl FnMut(&[f32]) -> Result<()>,
    ) -> Result<()> {
        let grid = extractor.spec.grid;
        loop {
            let available = self.buffer_start as u64 + self.buffer.len() as u64;
            let (last, signal_len) = if ended {
                (grid.num_frames(available), available)
            } else {
                (grid.complete_frames(available), u64::MAX)
            };
            if !(last >= self.next_frame + BATCH_FRAMES || (ended && last > self.next_frame)) {
                return Ok(());
            }
            let batch_end = last.min(self.next_frame + BATCH_FRAMES);
            let frames = self.next_frame..batch_end;
            extractor.compute_rows(
                frames,
                &self.buffer,
                self.buffer_start,
                signal_len,
                &mut self.rows,
            );
            self.pointwise_max = self.rows.iter().copied().fold(self.pointwise_max, f32::max);
            sink(&self.rows)?;
            self.next_frame = batch_end;
            // Drop samples that no later frame needs.
            let keep_from = grid.frame_start(self.next_frame).max(self.buffer_start);
            self.buffer
                .drain(..(keep_from - self.buffer_start) as usize);
            self.buffer_start = keep_from;
        }
    }
}

/// Sends blocks of `audio` into `blocks` until the stream ends (the channel then closes), an
/// error is sent, or the receiver hangs up.
fn decode_ahead(audio: &mut MonoStream, blocks: SyncSender<Result<Vec<f32>>>) {
    while let Some(block) = read_chunk(audio) {
        let failed = block.is_err();
        if blocks.send(block).is_err() || failed {
            return;
        }
    }
}

/// The next `DECODE_BLOCK` or so samples of `audio`; `None` once it is exhausted.
fn read_chunk(audio: &mut MonoStream) -> Option<Result<Vec<f32>>> {
    let mut block = Vec::with_capacity(DECODE_BLOCK + 8192);
    loop {
        match audio.read_block(&mut block) {
            Ok(true) if block.len() < DECODE_BLOCK => continue,
            Ok(_) if block.is_empty() => return None,
            Ok(_) => return Some(Ok(block)),
            Err(error) => return Some(Err(error.into())),
        }
    }
}

/// Computes the features of a whole file in memory.
pub fn extract(spec: &FeatureSpec, path: impl AsRef<Path>) -> Result<FeatureMatrix> {
    Extractor::new(spec.clone())?.extract_file(path, true)
}

impl Extractor {
    /// The whole feature matrix of `path` in memory; `prefetch` decodes on a second thread.
    pub fn extract_file(&self, path: impl AsRef<Path>, prefetch: bool) -> Result<FeatureMatrix> {
        let mut audio = self.open(path)?;
        let mut values = Vec::new();
        let collect = |rows: &[f32]| {
            values.extend_from_slice(rows);
            Ok(())
        };
        let finish = if prefetch {
            self.run(&mut audio, collect)?
        } else {
            self.run_without_prefetch(&mut audio, collect)?
        };
        finish.apply(&mut values);
        Ok(FeatureMatrix {
            values,
            num_frames: finish.num_frames,
            num_bins: self.num_bins(),
            fps: self.spec.fps(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyphon_audio::{write_wav, WavFormat};

    /// Rows computed in streamed batches equal rows computed frame by frame on the whole signal.
    #[test]
    fn batch_boundaries_do_not_change_the_features() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.wav");
        let mut state = 1u32;
        let signal: Vec<f32> = (0..44_100 * 12)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as f32 / (1u32 << 24) as f32 - 0.5
            })
            .collect();
        write_wav(&path, &signal, 44_100, 1, WavFormat::Float32).unwrap();
        let spec = FeatureSpec::kelz2016();
        let streamed = extract(&spec, &path).unwrap();
        assert_eq!(streamed.num_frames, 1200);
        assert!(streamed.num_frames > 4 * BATCH_FRAMES);

        let extractor = Extractor::new(spec.clone()).unwrap();
        let mut direct = Vec::new();
        extractor.compute_rows(
            0..streamed.num_frames,
            &signal,
            0,
            signal.len() as u64,
            &mut direct,
        );
        assert_eq!(streamed.values, direct);

        // A few frames from a segment equal the same rows of the whole file.
        let frames = 600..605;
        let start = spec.grid.frame_start(frames.start);
        let end = spec.grid.frame_end(frames.end - 1);
        let segment = &signal[start as usize..end as usize];
        let rows = extractor
            .rows_of(frames.clone(), segment, start, signal.len() as u64)
            .unwrap();
        let bins = streamed.num_bins;
        assert_eq!(
            rows,
            streamed.values[frames.start * bins..frames.end * bins]
        );
    }

    /// Samples pushed in blocks of any size give the rows of the same signal read from a file.
    #[test]
    fn pushed_samples_give_the_file_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tone.wav");
        let signal: Vec<f32> = (0..44_100 * 3)
            .map(|i| 0.3 * (i as f32 * 0.031).sin() + 0.1 * (i as f32 * 0.0071).sin())
            .collect();
        write_wav(&path, &signal, 44_100, 1, WavFormat::Float32).unwrap();
        let extractor = Extractor::new(FeatureSpec::kelz2016()).unwrap();
        let from_file = extractor.extract_file(&path, true).unwrap();
        for block in [1, 1000, 44_100 * 3] {
            let mut stream = FeatureStream::default();
            let mut values = Vec::new();
            let mut collect = |rows: &[f32]| {
                values.extend_from_slice(rows);
                Ok(())
            };
            for part in signal.chunks(block) {
                stream.push(&extractor, part, &mut collect).unwrap();
            }
            let finish = stream.finish(&extractor, &mut collect).unwrap();
            assert_eq!(finish.num_frames, from_file.num_frames);
            assert_eq!(values, from_file.values, "blocks of {block}");
        }
        let whole = extractor.extract_samples(&signal, 44_100).unwrap();
        assert_eq!(whole, from_file);
        let slower = extractor
            .extract_samples(&signal[..22_050 * 3], 22_050)
            .unwrap();
        assert_eq!(slower.num_frames, 300);
    }

    #[test]
    fn rows_of_refuses_file_relative_db_scaling() {
        let spec = FeatureSpec::librosa_mel(
            22_050,
            2048,
            512,
            crate::SpectrumKind::Power,
            crate::MelFilterbankParams::default(),
            Some(crate::DbParams::default()),
        )
        .unwrap();
        let extractor = Extractor::new(spec).unwrap();
        assert!(extractor.rows_of(0..1, &[0.0; 4096], 0, 4096).is_err());
    }
}
