//! Gradient-boosted trees with [perpetual](https://crates.io/crates/perpetual), one booster
//! per class.
//!
//! Why perpetual: it is pure Rust (builds offline, no C++ toolchain), maintained, and sets its
//! own learning rate and tree sizes from one `budget`. `lightgbm3` was the alternative: its
//! `-sys` crate builds LightGBM's 200-odd C++ files with cmake and generates bindings with
//! bindgen (libclang); neither cmake nor libclang is on this project's machines, so it does
//! not build offline, and would add minutes of C++ compilation to every clean build.
//!
//! perpetual has no multi-class softmax objective: its own multi-class mode (`MultiOutputBooster`)
//! fits one log-loss booster per class and normalises their log-odds with a softmax. That is
//! what the single-label task does here; the multi-label task uses the same boosters with
//! independent sigmoids. Early stopping: each booster is fitted (perpetual stops by itself
//! when its trees stop generalising, or at `max_trees`), then cut to the prefix of trees with
//! the lowest log loss on the validation split.

use std::io::Write;
use std::path::Path;

use perpetual::objective::Objective;
use perpetual::{Matrix, PerpetualBooster};
use polyphon_core::AtomicFile;
use serde::{Deserialize, Serialize};

use crate::dataset::{Dataset, Task};
use crate::pooled::PooledSpectrum;
use crate::{InstrumentError, Result};

/// The `format` field of a model file.
pub const MODEL_FORMAT: &str = "polyphon-instruments-gbdt-1";

/// Training settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbdtParams {
    /// perpetual's budget: learning rate `10^-budget`; more budget, more and finer trees.
    pub budget: f32,
    /// Most trees per class.
    pub max_trees: usize,
    /// Histogram bins per feature.
    pub max_bin: u16,
    pub seed: u64,
    /// Worker threads; `None`: all cores.
    pub threads: Option<usize>,
}

impl Default for GbdtParams {
    fn default() -> Self {
        Self {
            budget: 1.0,
            max_trees: 1000,
            max_bin: 63,
            seed: 0,
            threads: None,
        }
    }
}

/// What training one class's booster did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassFit {
    pub class: String,
    pub trees_fitted: usize,
    /// Trees kept after early stopping on the validation split.
    pub trees_kept: usize,
    pub train_log_loss: f64,
    /// Binary log loss on validation after each tree, `[0]` before any (empty without one).
    pub valid_log_loss: Vec<f64>,
    pub seconds: f64,
}

/// A trained classifier: the front-end it expects and one booster per class.
#[derive(Clone, Serialize, Deserialize)]
pub struct GbdtModel {
    pub format: String,
    pub task: Task,
    pub classes: Vec<String>,
    pub pooling: PooledSpectrum,
    pub params: GbdtParams,
    boosters: Vec<PerpetualBooster>,
}

/// Row-major f32 rows as the column-major f64 buffer perpetual's `Matrix` reads.
pub fn column_major(rows: &[f32], num_features: usize) -> Vec<f64> {
    let n = rows.len() / num_features.max(1);
    let mut columns = vec![0f64; rows.len()];
    for (r, row) in rows.chunks_exact(num_features).enumerate() {
        for (c, &value) in row.iter().enumerate() {
            columns[c * n + r] = value as f64;
        }
    }
    columns
}

impl GbdtModel {
    /// Fits one booster per class of `train`, each cut at its best validation log loss when
    /// `valid` is given. `on_class` hears about each class as it finishes.
    pub fn train(
        train: &Dataset,
        valid: Option<&Dataset>,
        pooling: &PooledSpectrum,
        params: &GbdtParams,
        mut on_class: impl FnMut(&ClassFit),
    ) -> Result<(Self, Vec<ClassFit>)> {
        check_width(train, pooling)?;
        let train_columns = column_major(&train.features, train.num_features);
        let train_matrix = Matrix::new(&train_columns, train.len(), train.num_features);
        let valid_columns = valid.map(|v| column_major(&v.features, v.num_features));
        let mut boosters = Vec::new();
        let mut fits = Vec::new();
        for (class, name) in train.task.classes().iter().enumerate() {
            let started = std::time::Instant::now();
            let y = class_column(train, class);
            let mut booster = new_booster(params)?;
            booster
                .fit(&train_matrix, &y, None, None)
                .map_err(|e| InstrumentError::Boosting(e.to_string()))?;
            let trees_fitted = booster.trees.len();
            let valid_log_loss = match (valid, &valid_columns) {
                (Some(v), Some(columns)) => {
                    check_width(v, pooling)?;
                    let matrix = Matrix::new(columns, v.len(), v.num_features);
                    log_loss_per_tree(&booster, &matrix, &class_column(v, class))
                }
                _ => Vec::new(),
            };
            if let Some(best) = argmin(&valid_log_loss) {
                booster.trees.truncate(best);
            }
            let fit = ClassFit {
                class: name.to_string(),
                trees_fitted,
                trees_kept: booster.trees.len(),
                train_log_loss: mean_log_loss(&booster.predict(&train_matrix, true), &y),
                valid_log_loss,
                seconds: started.elapsed().as_secs_f64(),
            };
            on_class(&fit);
            fits.push(fit);
            boosters.push(booster);
        }
        let model = Self {
            format: MODEL_FORMAT.into(),
            task: train.task,
            classes: train.task.classes().iter().map(|c| c.to_string()).collect(),
            pooling: pooling.clone(),
            params: params.clone(),
            boosters,
        };
        Ok((model, fits))
    }

    /// Class probabilities of row-major feature rows, row-major `(rows, classes)`: a softmax
    /// over the boosters' log-odds for single-label models, a sigmoid of each for multi-label.
    pub fn predict_proba(&self, rows: &[f32]) -> Result<Vec<f64>> {
        let width = self.pooling.len();
        if width == 0 || !rows.len().is_multiple_of(width) {
            return Err(InstrumentError::Invalid(format!(
                "feature rows of {width} values expected, got {} values",
                rows.len()
            )));
        }
        let n = rows.len() / width;
        let columns = column_major(rows, width);
        let matrix = Matrix::new(&columns, n, width);
        let log_odds: Vec<Vec<f64>> = self
            .boosters
            .iter()
            .map(|b| b.predict(&matrix, true))
            .collect();
        let k = self.boosters.len();
        let mut out = Vec::with_capacity(n * k);
        for row in 0..n {
            let scores: Vec<f64> = log_odds.iter().map(|class| class[row]).collect();
            match self.task {
                Task::Single => out.extend(softmax(&scores)),
                Task::Multi => out.extend(scores.iter().map(|&s| sigmoid(s))),
            }
        }
        Ok(out)
    }

    /// Trees per class.
    pub fn trees_per_class(&self) -> Vec<usize> {
        self.boosters.iter().map(|b| b.trees.len()).collect()
    }

    /// Writes the model as JSON, atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut file = AtomicFile::create(path)?;
        serde_json::to_writer(file.writer(), self).map_err(|e| InstrumentError::File {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        file.flush().map_err(InstrumentError::io(path))?;
        file.commit()?;
        Ok(())
    }

    /// Reads a model written by [`save`](Self::save), checking that it is one.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read(path).map_err(InstrumentError::io(path))?;
        Self::from_json(path, &text)
    }

    /// Parses and checks the JSON of a model; `name` (a path, or a bundled model's name)
    /// labels the errors.
    pub fn from_json(name: &Path, text: &[u8]) -> Result<Self> {
        let bad = |detail: String| InstrumentError::File {
            path: name.to_path_buf(),
            detail,
        };
        let model: Self = serde_json::from_slice(text)
            .map_err(|e| bad(format!("not a polyphon GBDT model ({e})")))?;
        if model.format != MODEL_FORMAT {
            return Err(bad(format!(
                "model format '{}', expected '{MODEL_FORMAT}'",
                model.format
            )));
        }
        let expected: Vec<&str> = model.task.classes().to_vec();
        if model.classes != expected || model.boosters.len() != expected.len() {
            return Err(bad("classes do not match the task".into()));
        }
        Ok(model)
    }
}

fn new_booster(params: &GbdtParams) -> Result<PerpetualBooster> {
    if !(params.budget.is_finite() && params.budget > 0.0) || params.max_trees == 0 {
        return Err(InstrumentError::Invalid(format!(
            "budget must be positive and max_trees at least 1 (got {} and {})",
            params.budget, params.max_trees
        )));
    }
    Ok(PerpetualBooster::default()
        .set_objective(Objective::LogLoss)
        .set_budget(params.budget)
        .set_max_bin(params.max_bin)
        .set_num_threads(params.threads)
        .set_seed(params.seed)
        .set_iteration_limit(Some(params.max_trees)))
}

fn check_width(data: &Dataset, pooling: &PooledSpectrum) -> Result<()> {
    if data.num_features != pooling.len() {
        return Err(InstrumentError::Invalid(format!(
            "data has {} features per file, the front-end gives {}",
            data.num_features,
            pooling.len()
        )));
    }
    Ok(())
}

/// The 0/1 target of one class as perpetual wants it.
fn class_column(data: &Dataset, class: usize) -> Vec<f64> {
    (0..data.len())
        .map(|row| data.target(row)[class] as f64)
        .collect()
}

/// Validation log loss before any tree and after each.
fn log_loss_per_tree(booster: &PerpetualBooster, data: &Matrix<f64>, y: &[f64]) -> Vec<f64> {
    let mut scores = vec![booster.base_score; data.rows];
    let mut losses = vec![mean_log_loss(&scores, y)];
    for tree in &booster.trees {
        let step = tree.predict(data, true, &booster.cfg.missing);
        scores.iter_mut().zip(step).for_each(|(s, d)| *s += d);
        losses.push(mean_log_loss(&scores, y));
    }
    losses
}

/// Mean binary cross-entropy of log-odds `scores`, computed stably.
fn mean_log_loss(scores: &[f64], y: &[f64]) -> f64 {
    let total: f64 = scores
        .iter()
        .zip(y)
        .map(|(&s, &t)| softplus(s) - t * s)
        .sum();
    total / scores.len().max(1) as f64
}

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn softmax(scores: &[f64]) -> Vec<f64> {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let exp: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| e / sum).collect()
}

/// Index of the first minimum (the fewest trees among equals).
fn argmin(values: &[f64]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .fold(None, |best: Option<(usize, f64)>, (i, &v)| match best {
            Some((_, b)) if b <= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two well-separated blobs per class in 4 features (class c is high in feature c).
    fn blobs(task: Task, n_per_class: usize, seed: u64) -> Dataset {
        let k = task.classes().len();
        let width = 4;
        let mut state = seed;
        let mut noise = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        };
        let (mut features, mut targets, mut files) = (Vec::new(), Vec::new(), Vec::new());
        for class in 0..k {
            for i in 0..n_per_class {
                for f in 0..width {
                    let signal = if f == class % width { 3.0 } else { 0.0 };
                    features.push(signal + noise());
                }
                let mut target = vec![0f32; k];
                target[class] = 1.0;
                targets.extend(target);
                files.push(format!("{class}-{i}.wav").into());
            }
        }
        Dataset {
            task,
            features,
            num_features: width,
            targets,
            files,
        }
    }

    fn pooling_of_width_4() -> PooledSpectrum {
        PooledSpectrum {
            bands: 2,
            segments: 1,
            ..PooledSpectrum::default()
        }
    }

    #[test]
    fn separable_classes_are_learned_and_survive_a_save() {
        let (train, valid) = (blobs(Task::Single, 40, 1), blobs(Task::Single, 10, 2));
        let params = GbdtParams {
            max_trees: 30,
            threads: Some(1),
            ..GbdtParams::default()
        };
        let (model, fits) =
            GbdtModel::train(&train, Some(&valid), &pooling_of_width_4(), &params, |_| {}).unwrap();
        assert_eq!(fits.len(), 4);
        assert!(fits.iter().all(|f| f.trees_kept <= f.trees_fitted));
        let proba = model.predict_proba(&valid.features).unwrap();
        let predicted: Vec<usize> = proba.chunks(4).map(argmax).collect();
        assert_eq!(predicted, valid.class_indices());
        assert!(proba
            .chunks(4)
            .all(|p| (p.iter().sum::<f64>() - 1.0).abs() < 1e-9));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        model.save(&path).unwrap();
        let loaded = GbdtModel::load(&path).unwrap();
        assert_eq!(loaded.predict_proba(&valid.features).unwrap(), proba);
    }

    /// The early-stopping curve sums trees as perpetual's own prediction does.
    #[test]
    fn per_tree_losses_end_at_the_model_loss() {
        let data = blobs(Task::Multi, 20, 3);
        let params = GbdtParams {
            max_trees: 15,
            threads: Some(1),
            ..GbdtParams::default()
        };
        let mut booster = new_booster(&params).unwrap();
        let columns = column_major(&data.features, data.num_features);
        let matrix = Matrix::new(&columns, data.len(), data.num_features);
        let y = class_column(&data, 1);
        booster.fit(&matrix, &y, None, None).unwrap();
        let curve = log_loss_per_tree(&booster, &matrix, &y);
        assert_eq!(curve.len(), booster.trees.len() + 1);
        let direct = mean_log_loss(&booster.predict(&matrix, false), &y);
        assert!((curve.last().unwrap() - direct).abs() < 1e-12);
    }

    #[test]
    fn load_refuses_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        std::fs::write(&path, "{\"format\": 3}").unwrap();
        let error = GbdtModel::load(&path).err().unwrap().to_string();
        assert!(error.contains("not a polyphon GBDT model"), "{error}");
    }

    #[test]
    fn argmin_prefers_fewer_trees() {
        assert_eq!(argmin(&[0.7, 0.3, 0.3, 0.5]), Some(1));
        assert_eq!(argmin(&[]), None);
    }

    #[test]
    fn log_loss_is_stable_for_large_scores() {
        assert!(mean_log_loss(&[800.0, -800.0], &[1.0, 0.0]) < 1e-300);
        assert!((mean_log_loss(&[0.0], &[1.0]) - std::f64::consts::LN_2).abs() < 1e-12);
    }

    fn argmax(values: &[f64]) -> usize {
        (0..values.len())
            .max_by(|&a, &b| values[a].total_cmp(&values[b]))
            .unwrap()
    }
}
