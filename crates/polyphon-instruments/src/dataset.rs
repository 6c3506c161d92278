//! From a `polyphon synth` manifest to a feature matrix and labels.
//!
//! Every file becomes one flat vector: its log-band spectrogram (by default librosa's
//! `melspectrogram`; or the [log scale](crate::BandScale)) in dB,
//! `power_to_db(ref=np.max, top_db=80)`, pooled to the mean and standard deviation of
//! each band over a few equal time segments. For a 4 s note, four segments follow attack,
//! sustain and release; the dB reference at the file's maximum makes the vector independent
//! of the SoundFont's level. 128 bands rather than 64: on the notes set's single-label task
//! XGBoost on the same pooling reached 94.1 % test accuracy with 128 and 91.1 % with 64 (8
//! segments instead of 4 did not help: 90.9 %).

use std::path::{Path, PathBuf};

use polyphon_features::{segment_frames, DbParams, DbReference, Extractor, FeatureMatrix};
use polyphon_synth::manifest::{read_split, ManifestEntry, Split};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bands::{BandGrid, BandScale};
use crate::image::{images_of_files, BandImage};
use crate::{InstrumentError, Result};

/// The four families of the single-label task (the seed's keyboard/bass/flute/guitar set).
pub const SINGLE_CLASSES: [&str; 4] = ["bass", "flute", "guitar", "keyboard"];
/// The six families of the multi-label task.
pub const MULTI_CLASSES: [&str; 6] = ["bass", "flute", "guitar", "keyboard", "organ", "vocal"];

/// Single-label (one family per file, softmax over classes) or multi-label (any subset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    Single,
    Multi,
}

impl std::str::FromStr for Task {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        match text {
            "single" => Ok(Task::Single),
            "multi" => Ok(Task::Multi),
            _ => Err(format!("unknown task '{text}' (single or multi)")),
        }
    }
}

impl Task {
    pub fn name(self) -> &'static str {
        match self {
            Task::Single => "single",
            Task::Multi => "multi",
        }
    }

    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Task::Single => &SINGLE_CLASSES,
            Task::Multi => &MULTI_CLASSES,
        }
    }

    /// The multi-hot target of an entry, or `None` when the task skips it: single-label
    /// keeps files of exactly one of its families; multi-label keeps everything but the
    /// bass + flute `pair-*` sets (made for separation) and refuses unknown families.
    fn target(self, entry: &ManifestEntry) -> Result<Option<Vec<f32>>> {
        let classes = self.classes();
        let mut target = vec![0f32; classes.len()];
        match self {
            Task::Single => {
                let first = entry.families.first();
                let one_family = first.is_some_and(|f| entry.families.iter().all(|g| g == f));
                let index = first.and_then(|f| classes.iter().position(|c| c == f));
                match index {
                    Some(index) if one_family => target[index] = 1.0,
                    _ => return Ok(None),
                }
            }
            Task::Multi => {
                if is_pair(&entry.file) {
                    return Ok(None);
                }
                if entry.families.is_empty() {
                    return Err(InstrumentError::Invalid(format!(
                        "{}: no families listed",
                        entry.file
                    )));
                }
                for family in &entry.families {
                    let index = classes.iter().position(|c| c == family).ok_or_else(|| {
                        InstrumentError::Invalid(format!(
                            "{}: family '{family}' is not one of {}",
                            entry.file,
                            classes.join(", ")
                        ))
                    })?;
                    target[index] = 1.0;
                }
            }
        }
        Ok(Some(target))
    }
}

/// A `pair-NNNNN` folder of the mixtures recipe.
fn is_pair(file: &str) -> bool {
    file.split('/').any(|part| part.starts_with("pair-"))
}

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
    /// 128 mel bands at n_fft 1024 (128 rather than 64 chosen with the trees in session 4).
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
        if matrix.num_frames == 0 {
            return Err(InstrumentError::File {
                path: path.to_path_buf(),
                detail: "no audio samples".into(),
            });
        }
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

/// Feature vectors and multi-hot targets of the files of one split, in manifest order.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    pub task: Task,
    /// Row-major `(files, features)`.
    pub features: Vec<f32>,
    pub num_features: usize,
    /// Row-major `(files, classes)`, 0 or 1; single-label rows are one-hot.
    pub targets: Vec<f32>,
    pub files: Vec<PathBuf>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn num_classes(&self) -> usize {
        self.task.classes().len()
    }

    pub fn row(&self, index: usize) -> &[f32] {
        &self.features[index * self.num_features..(index + 1) * self.num_features]
    }

    pub fn target(&self, index: usize) -> &[f32] {
        let k = self.num_classes();
        &self.targets[index * k..(index + 1) * k]
    }

    /// The class of each file (the first set one; single-label rows have exactly one).
    pub fn class_indices(&self) -> Vec<usize> {
        (0..self.len())
            .map(|i| self.target(i).iter().position(|&t| t > 0.5).unwrap_or(0))
            .collect()
    }

    /// Targets as booleans, row-major.
    pub fn target_bools(&self) -> Vec<bool> {
        self.targets.iter().map(|&t| t > 0.5).collect()
    }
}

/// Loads one split of `manifest` for `task`: the entries the task keeps, their pooled
/// features computed in parallel. Any unreadable file is an error naming it.
pub fn load_split(
    manifest: &Path,
    split: Split,
    task: Task,
    pooling: &PooledSpectrum,
) -> Result<Dataset> {
    load_with(manifest, split, task, pooling.len(), |files| {
        features_of_files(files, pooling)
    })
}

/// As [`load_split`], with each file's band image (row-major `(bands, frames)`) as its
/// features: the networks' input.
pub fn load_images(
    manifest: &Path,
    split: Split,
    task: Task,
    image: &BandImage,
) -> Result<Dataset> {
    load_with(manifest, split, task, image.len(), |files| {
        images_of_files(files, image)
    })
}

fn load_with(
    manifest: &Path,
    split: Split,
    task: Task,
    num_features: usize,
    features_of: impl FnOnce(&[PathBuf]) -> Result<Vec<f32>>,
) -> Result<Dataset> {
    let root = manifest.parent().unwrap_or(Path::new("."));
    let mut files = Vec::new();
    let mut targets = Vec::new();
    for (entry, target) in task_entries(manifest, split, task)? {
        files.push(root.join(&entry.file));
        targets.extend(target);
    }
    let features = features_of(&files)?;
    Ok(Dataset {
        task,
        features,
        num_features,
        targets,
        files,
    })
}

/// The entries of one split that `task` keeps, in manifest order, with their targets; an
/// error when there are none.
pub fn task_entries(
    manifest: &Path,
    split: Split,
    task: Task,
) -> Result<Vec<(ManifestEntry, Vec<f32>)>> {
    let mut kept = Vec::new();
    for entry in read_split(manifest, split)? {
        if let Some(target) = task.target(&entry)? {
            kept.push((entry, target));
        }
    }
    if kept.is_empty() {
        return Err(InstrumentError::Invalid(format!(
            "{}: no files of split '{}' fit the {} task (families {})",
            manifest.display(),
            split.name(),
            task.name(),
            task.classes().join(", ")
        )));
    }
    Ok(kept)
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

    fn entry(file: &str, families: &[&str]) -> ManifestEntry {
        ManifestEntry {
            file: file.into(),
            split: Split::Train,
            synthesizer: "sf:000:000".into(),
            labels_csv: String::new(),
            labels_midi: String::new(),
            duration: 4.0,
            sample_rate: 16_000,
            source: None,
            instruments: Vec::new(),
            families: families.iter().map(|f| f.to_string()).collect(),
            stems: Vec::new(),
        }
    }

    #[test]
    fn single_label_keeps_one_family_of_four() {
        let target = |families: &[&str]| Task::Single.target(&entry("a.wav", families)).unwrap();
        assert_eq!(target(&["flute"]), Some(vec![0.0, 1.0, 0.0, 0.0]));
        assert_eq!(target(&["organ"]), None);
        assert_eq!(target(&["bass", "flute"]), None);
        assert_eq!(target(&["bass", "bass"]), Some(vec![1.0, 0.0, 0.0, 0.0]));
    }

    #[test]
    fn multi_label_is_multi_hot_and_skips_pairs() {
        let multi = |file: &str, families: &[&str]| Task::Multi.target(&entry(file, families));
        assert_eq!(
            multi(
                "mixtures/test/mix-00001/mix.wav",
                &["vocal", "bass", "bass"]
            )
            .unwrap(),
            Some(vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0])
        );
        assert_eq!(
            multi("mixtures/test/pair-00001/mix.wav", &["bass", "flute"]).unwrap(),
            None
        );
        assert!(multi("x.wav", &["brass"]).is_err());
        assert!(multi("x.wav", &[]).is_err());
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
