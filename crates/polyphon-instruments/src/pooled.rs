//! The trees' input: a band spectrogram of a file (mel or logarithmic bands, dB re the file's
//! maximum) pooled into the mean and standard deviation of every band over time segments.

use std::path::{Path, PathBuf};

use polyphon_features::{segment_frames, DbParams, DbReference, Extractor, FeatureMatrix};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bands::{BandGrid, BandScale};
use crate::{InstrumentError, Result};

/// The front-end and pooling, saved with every model so inference computes the same vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledSpectrum {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop: usize,
    /// Bands of the spectrogram (models before the log scale saved it as `n_mels`).
    #[serde(alias = "n_mels")]
    pub bands: usize,
    /// Equal time segments, each giving a mean and a standard deviation per band.
    pub segments: usize,
    pub top_db: f64,
    #[serde(default)]
    pub scale: BandScale,
}

impl Default for PooledSpectrum {
    /// 128 mel bands at n_fft 1024 (128 rather than 64: the better of the two for the trees).
    fn default() -> Self {
        Self {
            sample_rate: 16_000,
            n_fft: BandScale::Mel.n_fft(),
            hop: 256,
            bands: 128,
            segments: 4,
            top_db: 80.0,
            scale: BandScale::Mel,
        }
    }
}

impl PooledSpectrum {
    /// The default pooling on `scale`'s bands at its FFT size.
    pub fn with_scale(scale: BandScale) -> Result<Self> {
        let mel = Self::default();
        let n_fft = scale.n_fft();
        Ok(Self {
            n_fft,
            bands: scale.count(mel.sample_rate, n_fft, mel.bands)?,
            scale,
            ..mel
        })
    }

    /// Values per file.
    pub fn len(&self) -> usize {
        self.segments * 2 * self.bands
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn grid(&self) -> BandGrid {
        BandGrid {
            sample_rate: self.sample_rate,
            n_fft: self.n_fft,
            hop: self.hop,
            bands: self.bands,
        }
    }

    /// The dB band spectrogram, refused when it does not give `bands` bands.
    pub fn extractor(&self) -> Result<Extractor> {
        if self.segments == 0 || self.bands == 0 {
            return Err(InstrumentError::Invalid(
                "pooling needs at least one segment and one band".into(),
            ));
        }
        let db = DbParams {
            reference: DbReference::Max,
            amin: 1e-10,
            top_db: Some(self.top_db),
        };
        self.scale.extractor(&self.grid(), Some(db))
    }

    /// The pooled vector of one audio file.
    pub fn features_of(&self, extractor: &Extractor, path: &Path) -> Result<Vec<f32>> {
        let matrix = extractor.extract_file(path, false)?;
        let spec = extractor.spec();
        // Centred frames: the audio is at least `frames - 1` and under `frames` hops long.
        let hops = |frames: usize| frames as f64 * spec.grid.hop / f64::from(spec.sample_rate);
        let frames = matrix.num_frames;
        crate::check_clip_length(path, hops(frames.saturating_sub(1))..=hops(frames))?;
        Ok(self.pool(&matrix))
    }

    /// Mean and standard deviation (population) of each band over each segment, segment by
    /// segment: `[mean(bands), std(bands)]` for segment 0, then 1, ... A file with fewer
    /// frames than segments repeats frames so that no segment is empty.
    pub fn pool(&self, matrix: &FeatureMatrix) -> Vec<f32> {
        let n = matrix.num_frames;
        let mut out = Vec::with_capacity(self.len());
        for segment in 0..self.segments {
            let (mean, std) = band_moments(matrix, segment_frames(n, self.segments, segment));
            out.extend(mean);
            out.extend(std);
        }
        out
    }
}

/// Per-band mean and population standard deviation over `frames`, in f64.
fn band_moments(matrix: &FeatureMatrix, frames: std::ops::Range<usize>) -> (Vec<f32>, Vec<f32>) {
    let bins = matrix.num_bins;
    let count = frames.len() as f64;
    let mut sum = vec![0f64; bins];
    let mut sum_sq = vec![0f64; bins];
    for frame in frames {
        for (band, &value) in matrix.row(frame).iter().enumerate() {
            sum[band] += value as f64;
            sum_sq[band] += (value as f64) * (value as f64);
        }
    }
    let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
    let std = sum_sq
        .iter()
        .zip(&mean)
        .map(|(sq, m)| ((sq / count - m * m).max(0.0)).sqrt() as f32)
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), std)
}

/// Pooled features of many files, row-major, computed one file per rayon task.
pub fn features_of_files(files: &[PathBuf], pooling: &PooledSpectrum) -> Result<Vec<f32>> {
    let extractor = pooling.extractor()?;
    let rows: Vec<Vec<f32>> = files
        .par_iter()
        .map(|path| pooling.features_of(&extractor, path))
        .collect::<Result<_>>()?;
    Ok(rows.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pooling_saved_before_the_band_scale_reads_as_mel() {
        let old = r#"{"sample_rate":16000,"n_fft":1024,"hop":256,"n_mels":128,"segments":4,"top_db":80.0}"#;
        let pooling: PooledSpectrum = serde_json::from_str(old).unwrap();
        assert_eq!(pooling, PooledSpectrum::default());
        let log = PooledSpectrum::with_scale(BandScale::log()).unwrap();
        let text = serde_json::to_string(&log).unwrap();
        assert_eq!(serde_json::from_str::<PooledSpectrum>(&text).unwrap(), log);
        assert_eq!(log.len(), 4 * 2 * 146);
    }

    #[test]
    fn pooling_gives_segment_means_and_stds() {
        // 8 frames x 2 bands: band 0 counts 0..8, band 1 is constant.
        let values: Vec<f32> = (0..8).flat_map(|k| [k as f32, 5.0]).collect();
        let matrix = FeatureMatrix {
            values,
            num_frames: 8,
            num_bins: 2,
            fps: 1.0,
        };
        let pooling = PooledSpectrum {
            bands: 2,
            segments: 2,
            ..PooledSpectrum::default()
        };
        let pooled = pooling.pool(&matrix);
        let std_0_to_3 = (1.25f32).sqrt();
        assert_eq!(pooled.len(), pooling.len());
        let expected = [1.5, 5.0, std_0_to_3, 0.0, 5.5, 5.0, std_0_to_3, 0.0];
        for (got, want) in pooled.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{pooled:?}");
        }
    }

    #[test]
    fn pooling_a_short_file_repeats_frames() {
        let matrix = FeatureMatrix {
            values: vec![1.0, 2.0],
            num_frames: 1,
            num_bins: 2,
            fps: 1.0,
        };
        let pooling = PooledSpectrum {
            bands: 2,
            segments: 3,
            ..PooledSpectrum::default()
        };
        assert_eq!(pooling.pool(&matrix), [1.0, 2.0, 0.0, 0.0].repeat(3));
    }
}
