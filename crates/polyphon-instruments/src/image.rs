//! The networks' input: a file's log-band spectrogram as an image `(bands, frames)`.
//!
//! The same front-end as [`PooledSpectrum`](crate::PooledSpectrum) (by default librosa's
//! `melspectrogram` at 16 kHz, n_fft 1024, hop 256, power 2, 128 Slaney mels,
//! `power_to_db(ref=np.max, top_db=80)`; or the [log scale](crate::BandScale)), not pooled:
//! `frames` columns (251 = a 4 s file), longer inputs cropped, shorter ones padded with
//! silence. dB values map linearly from [-top_db, 0] to [-1, 1], a range the first layer of
//! every network handles without further normalisation.

use std::path::{Path, PathBuf};

use polyphon_audio::read_mono;
use polyphon_features::Extractor;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bands::{BandGrid, BandScale};
use crate::pooled::PooledSpectrum;
use crate::{InstrumentError, Result};

/// See the [module documentation](self).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandImage {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop: usize,
    /// Rows of the image (models before the log scale saved it as `n_mels`).
    #[serde(alias = "n_mels")]
    pub bands: usize,
    /// Columns of the image.
    pub frames: usize,
    pub top_db: f64,
    #[serde(default)]
    pub scale: BandScale,
}

impl Default for BandImage {
    /// The trees' front-end (`PooledSpectrum`'s defaults), unpooled: 251 frames, a 4 s file.
    fn default() -> Self {
        Self::of_pooling(&PooledSpectrum::default(), 251)
    }
}

/// The power band spectrogram front-end, reused across files (it holds the FFT plan and the
/// filterbank).
pub struct BandImager {
    params: BandImage,
    extractor: Extractor,
}

impl BandImage {
    /// `pooling`'s front-end, unpooled, `frames` columns.
    pub fn of_pooling(pooling: &PooledSpectrum, frames: usize) -> Self {
        Self {
            sample_rate: pooling.sample_rate,
            n_fft: pooling.n_fft,
            hop: pooling.hop,
            bands: pooling.bands,
            frames,
            top_db: pooling.top_db,
            scale: pooling.scale,
        }
    }

    pub fn grid(&self) -> BandGrid {
        BandGrid {
            sample_rate: self.sample_rate,
            n_fft: self.n_fft,
            hop: self.hop,
            bands: self.bands,
        }
    }

    /// Values per image.
    pub fn len(&self) -> usize {
        self.bands * self.frames
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples of audio one image covers (the last frame's centre).
    pub fn samples(&self) -> usize {
        (self.frames - 1) * self.hop
    }

    pub fn imager(&self) -> Result<BandImager> {
        if self.frames == 0 || self.bands == 0 || self.top_db <= 0.0 {
            return Err(InstrumentError::Invalid(
                "an image needs frames, bands and a positive top_db".into(),
            ));
        }
        // Power only: the dB scaling relative to the image's maximum is done here, since the
        // extractor computes rows of in-memory audio only with pointwise scalings.
        let extractor = self.scale.extractor(&self.grid(), None)?;
        Ok(BandImager {
            params: self.clone(),
            extractor,
        })
    }
}

impl BandImager {
    pub fn params(&self) -> &BandImage {
        &self.params
    }

    /// The image of a whole file, decoded and resampled to the front-end's rate.
    pub fn image_of_file(&self, path: &Path) -> Result<Vec<f32>> {
        let spec = self.extractor.spec();
        let audio = read_mono(path, Some(spec.sample_rate), spec.downmix)?;
        let seconds = audio.samples.len() as f64 / f64::from(spec.sample_rate);
        crate::check_clip_length(path, seconds..=seconds)?;
        self.image_of_samples(&audio.samples)
    }

    /// The image of mono samples at the front-end's rate (the first `frames` frames).
    pub fn image_of_samples(&self, samples: &[f32]) -> Result<Vec<f32>> {
        let p = &self.params;
        let len = samples.len() as u64;
        let frames = self.extractor.spec().grid.num_frames(len).min(p.frames);
        let rows = self.extractor.rows_of(0..frames, samples, 0, len)?;
        Ok(self.to_image(&rows, frames))
    }

    /// librosa's `power_to_db(ref=np.max, amin=1e-10, top_db)`, scaled to [-1, 1] and
    /// transposed to `(bands, frames)`, padded with -1 (silence) to `frames` columns.
    fn to_image(&self, rows: &[f32], frames: usize) -> Vec<f32> {
        let p = &self.params;
        let db = |power: f32| 10.0 * (power.max(1e-10) as f64).log10();
        let peak = rows.iter().fold(1e-10f32, |m, &v| m.max(v));
        let reference = db(peak);
        let mut image = vec![-1f32; p.len()];
        for frame in 0..frames {
            for band in 0..p.bands {
                let level = (db(rows[frame * p.bands + band]) - reference).max(-p.top_db);
                image[band * p.frames + frame] = (1.0 + 2.0 * level / p.top_db) as f32;
            }
        }
        image
    }
}

/// Images of many files, row-major `(files, bands · frames)`, one file per rayon task.
pub fn images_of_files(files: &[PathBuf], params: &BandImage) -> Result<Vec<f32>> {
    let imager = params.imager()?;
    let rows: Vec<Vec<f32>> = files
        .par_iter()
        .map(|path| imager.image_of_file(path))
        .collect::<Result<_>>()?;
    Ok(rows.concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_fills_the_image_and_silence_pads_it() {
        let params = BandImage::default();
        let imager = params.imager().unwrap();
        // One second of 440 Hz: 63 frames, the rest padded.
        let samples: Vec<f32> = (0..16_000)
            .map(|i| (std::f32::consts::TAU * 440.0 * i as f32 / 16_000.0).sin())
            .collect();
        let image = imager.image_of_samples(&samples).unwrap();
        assert_eq!(image.len(), 128 * 251);
        let max = image.iter().fold(f32::MIN, |m, &v| m.max(v));
        assert!((max - 1.0).abs() < 1e-6, "the loudest cell is 0 dB");
        assert!(image.iter().all(|&v| (-1.0..=1.0).contains(&v)));
        // Column 100 lies past the end of the audio.
        assert!((0..128).all(|band| image[band * 251 + 100] == -1.0));
        // The louder the input, the same image (dB relative to the maximum).
        let louder: Vec<f32> = samples.iter().map(|s| s * 0.25).collect();
        let other = imager.image_of_samples(&louder).unwrap();
        assert!(image.iter().zip(&other).all(|(a, b)| (a - b).abs() < 1e-4));
    }

    #[test]
    fn matches_the_pooled_front_end() {
        // The image's dB values are those PooledSpectrum pools: compare the first segment's
        // means.
        let samples: Vec<f32> = (0..64_000)
            .map(|i| (i as f32 * 0.05).sin() * (1.0 + (i as f32 * 0.0003).sin()))
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.wav");
        polyphon_audio::write_wav(
            &path,
            &samples,
            16_000,
            1,
            polyphon_audio::WavFormat::Float32,
        )
        .unwrap();
        let pooled = crate::PooledSpectrum::default();
        let extractor = pooled.extractor().unwrap();
        let vector = pooled.features_of(&extractor, &path).unwrap();
        let image = BandImage::default()
            .imager()
            .unwrap()
            .image_of_file(&path)
            .unwrap();
        for band in [0, 40, 127] {
            let row = &image[band * 251..band * 251 + 62];
            let mean_db = row.iter().map(|&v| (v as f64 - 1.0) * 40.0).sum::<f64>() / 62.0;
            assert!((mean_db - vector[band] as f64).abs() < 1e-3, "band {band}");
        }
    }

    /// Peaks of the time-averaged band profile below `max_band` (bands louder than both
    /// neighbours).
    fn low_peaks(image: &[f32], params: &BandImage, max_band: usize) -> usize {
        let frames = 60;
        let profile: Vec<f32> = (0..max_band)
            .map(|band| image[band * params.frames..][..frames].iter().sum::<f32>())
            .collect();
        (1..max_band - 1)
            .filter(|&b| profile[b] > profile[b - 1] && profile[b] > profile[b + 1])
            .count()
    }

    #[test]
    fn the_log_scale_resolves_two_bass_tones_the_mel_scale_merges() {
        // 55 Hz (A1) and 82.4 Hz (E2), 27 Hz apart: mel bands are 23 Hz apart there and 47 Hz
        // wide, log bands are single 7.8 Hz FFT bins.
        let samples: Vec<f32> = (0..32_000)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                (std::f32::consts::TAU * 55.0 * t).sin() + (std::f32::consts::TAU * 82.4 * t).sin()
            })
            .collect();
        let mel = BandImage::default();
        let log = BandImage::of_pooling(
            &crate::PooledSpectrum::with_scale(BandScale::log()).unwrap(),
            251,
        );
        assert_eq!((log.bands, log.n_fft), (146, 2048));
        let image_of = |p: &BandImage| p.imager().unwrap().image_of_samples(&samples).unwrap();
        // Bands below 200 Hz: 8 mel bands, 22 log bands.
        assert_eq!(low_peaks(&image_of(&mel), &mel, 8), 1);
        assert_eq!(low_peaks(&image_of(&log), &log, 22), 2);
    }
}
