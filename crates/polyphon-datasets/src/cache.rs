use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use polyphon_features::{Extractor, FeatureSpec, NpyWriter};

use crate::{DatasetError, Result};

/// Bytes before the data in the `.npy` files [`NpyWriter`] writes.
const NPY_HEADER: usize = 128;

/// Features of audio files computed once per front-end and kept as `.npy` files.
///
/// A file's cache name is its path relative to the data set's root with `/` turned into
/// `__`, under a folder named after the front-end, so two front-ends never share entries.
pub struct FeatureCache {
    dir: PathBuf,
    extractor: Extractor,
}

/// One cached feature matrix, memory-mapped: (frames × bins) float32, read-only.
pub struct CachedFeatures {
    map: Mmap,
    pub frames: usize,
    pub bins: usize,
}

impl CachedFeatures {
    /// The values, row-major.
    pub fn values(&self) -> &[f32] {
        bytemuck::cast_slice(&self.map[NPY_HEADER..NPY_HEADER + self.frames * self.bins * 4])
    }

    pub fn row(&self, frame: usize) -> &[f32] {
        &self.values()[frame * self.bins..(frame + 1) * self.bins]
    }
}

impl FeatureCache {
    /// A cache for `spec` under `dir/<name>`.
    pub fn new(dir: impl AsRef<Path>, name: &str, spec: FeatureSpec) -> Result<Self> {
        let dir = dir.as_ref().join(name);
        std::fs::create_dir_all(&dir).map_err(|source| DatasetError::Io {
            path: dir.clone(),
            source,
        })?;
        Ok(Self {
            dir,
            extractor: Extractor::new(spec)?,
        })
    }

    pub fn spec(&self) -> &FeatureSpec {
        self.extractor.spec()
    }

    /// The features of `root/relative`, computed on first use.
    pub fn features(&self, root: &Path, relative: &str) -> Result<CachedFeatures> {
        let cached = self
            .dir
            .join(format!("{}.npy", relative.replace('/', "__")));
        if !cached.exists() {
            self.compute(&root.join(relative), &cached)?;
        }
        map_npy(&cached, self.extractor.num_bins())
    }

    fn compute(&self, audio: &Path, cached: &Path) -> Result<()> {
        let mut stream = self.extractor.open(audio)?;
        let mut writer = NpyWriter::create(cached, &[self.extractor.num_bins()])?;
        let finish = self
            .extractor
            .run(&mut stream, |rows| writer.write_rows(rows))?;
        if finish.adjustment.is_some() {
            writer.transform_in_place(|values| finish.apply(values))?;
        }
        writer.finish()?;
        Ok(())
    }
}

fn map_npy(path: &Path, bins: usize) -> Result<CachedFeatures> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io)?;
    // SAFETY: cache files are written whole and renamed into place, never modified after.
    let map = unsafe { Mmap::map(&file) }.map_err(io)?;
    let data = map.len().saturating_sub(NPY_HEADER);
    if map.len() < NPY_HEADER || bins == 0 || data % (4 * bins) != 0 {
        return Err(DatasetError::Invalid(format!(
            "{}: not a cache file of {bins}-bin rows; delete it to recompute",
            path.display()
        )));
    }
    Ok(CachedFeatures {
        frames: data / (4 * bins),
        bins,
        map,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use polyphon_audio::{write_wav, WavFormat};
    use polyphon_features::extract;

    #[test]
    fn cached_features_equal_direct_extraction_and_are_reused() {
        let dir = tempfile::tempdir().unwrap();
        let samples: Vec<f32> = (0..44_100).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        write_wav(
            dir.path().join("a.wav"),
            &samples,
            44_100,
            1,
            WavFormat::Float32,
        )
        .unwrap();
        let cache =
            FeatureCache::new(dir.path().join("cache"), "kelz", FeatureSpec::kelz2016()).unwrap();
        let cached = cache.features(dir.path(), "a.wav").unwrap();
        let direct = extract(&FeatureSpec::kelz2016(), dir.path().join("a.wav")).unwrap();
        assert_eq!((cached.frames, cached.bins), (100, 229));
        assert_eq!(cached.values(), &direct.values[..]);
        let stamp = std::fs::metadata(dir.path().join("cache/kelz/a.wav.npy"))
            .unwrap()
            .modified()
            .unwrap();
        cache.features(dir.path(), "a.wav").unwrap();
        let again = std::fs::metadata(dir.path().join("cache/kelz/a.wav.npy"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(stamp, again, "second use reads the cache");
    }
}
