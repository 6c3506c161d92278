//! Gradient-boosted trees for instrument recognition (perpetual, through
//! polyphon-instruments), trained into a run folder as the networks are.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polyphon_core::manifest::Split;
use polyphon_features::NpyWriter;
use polyphon_instruments::evaluate::write_text;
use polyphon_instruments::{
    load_split, ClassFit, Dataset, GbdtModel, GbdtParams, PooledSpectrum, Task, Thresholds,
};
use serde::Serialize;

use crate::{Result, TrainError};

/// A run of the trees.
pub struct GbdtRun<'a> {
    pub task: Task,
    /// Manifest with train and valid splits.
    pub data: &'a Path,
    /// Run folder.
    pub out: &'a Path,
    pub pooling: PooledSpectrum,
    pub params: GbdtParams,
    /// Also write each split's features and targets as `<split>_x.npy`, `<split>_y.npy` here.
    pub export_features: Option<&'a Path>,
}

/// RUN/config.json: everything needed to repeat the run, and how long it took.
#[derive(Serialize)]
struct RunConfig<'a> {
    model: &'a str,
    task: Task,
    data: &'a Path,
    pooling: &'a PooledSpectrum,
    params: &'a GbdtParams,
    train_files: usize,
    valid_files: usize,
    feature_seconds: f64,
    train_seconds: f64,
    trees_per_class: Vec<usize>,
}

/// Trains gradient-boosted trees (one booster per class, each cut at the lowest log loss on
/// the valid split) into the run folder `run.out`: `model.json`, `config.json`, `log.txt` and
/// `valid_loss.png`; with `export_features`, also each split's features as `.npy`. Every line
/// of the log also goes to `note` as it is written. Returns the model's path.
pub fn train_gbdt(run: &GbdtRun, mut note: impl FnMut(&str)) -> Result<PathBuf> {
    let (pooling, params) = (&run.pooling, &run.params);
    let mut log = String::new();
    let mut note = |line: String| {
        note(&line);
        let _ = writeln!(log, "{line}");
    };

    let started = Instant::now();
    let train = load_split(run.data, Split::Train, run.task, pooling)?;
    let valid = load_split(run.data, Split::Valid, run.task, pooling)?;
    // Created once the data has loaded, so that bad data leaves no folder behind, and before
    // training, so that an uncreatable folder is reported before the boosters' minutes.
    std::fs::create_dir_all(run.out).map_err(|e| TrainError::File {
        path: run.out.to_path_buf(),
        detail: format!("cannot create the run folder: {e}"),
    })?;
    let feature_seconds = started.elapsed().as_secs_f64();
    note(format!(
        "features: {} train + {} valid files in {feature_seconds:.1} s ({:.0} files/s)",
        train.len(),
        valid.len(),
        (train.len() + valid.len()) as f64 / feature_seconds
    ));
    if let Some(dir) = run.export_features {
        export(dir, run.data, run.task, pooling, [&train, &valid])?;
        note(format!("features written to {}", dir.display()));
    }

    let started = Instant::now();
    let (model, fits) = GbdtModel::train(&train, Some(&valid), pooling, params, |fit| {
        note(describe(fit));
    })?;
    let train_seconds = started.elapsed().as_secs_f64();
    note(format!("trained in {train_seconds:.1} s"));

    let config = RunConfig {
        model: "gbdt",
        task: run.task,
        data: run.data,
        pooling,
        params,
        train_files: train.len(),
        valid_files: valid.len(),
        feature_seconds,
        train_seconds,
        trees_per_class: model.trees_per_class(),
    };
    write_run(run.out, &model, &config, &log, &fits)?;
    Ok(run.out.join("model.json"))
}

fn describe(fit: &ClassFit) -> String {
    let best = fit
        .valid_log_loss
        .get(fit.trees_kept)
        .copied()
        .unwrap_or(f64::NAN);
    format!(
        "{:<9} {:>4} trees fitted, {:>4} kept (valid log loss {best:.4}, train {:.4}), {:.1} s",
        fit.class, fit.trees_fitted, fit.trees_kept, fit.train_log_loss, fit.seconds
    )
}

fn write_run(
    out: &Path,
    model: &GbdtModel,
    config: &RunConfig,
    log: &str,
    fits: &[ClassFit],
) -> Result<()> {
    let json = serde_json::to_string_pretty(config).expect("plain data serialises") + "\n";
    write_text(&out.join("config.json"), &json)?;
    write_text(&out.join("log.txt"), log)?;
    polyphon_instruments::plot::valid_loss_png(&out.join("valid_loss.png"), fits)?;
    // Thresholds fitted to an earlier model of this folder no longer apply.
    Thresholds::discard_from_run(out)?;
    // The model last: a run folder with model.json is a finished run.
    model.save(&out.join("model.json"))?;
    Ok(())
}

/// Writes `<split>_x.npy` and `<split>_y.npy` for train, valid and (when the manifest has
/// one) test.
fn export(
    dir: &Path,
    manifest: &Path,
    task: Task,
    pooling: &PooledSpectrum,
    loaded: [&Dataset; 2],
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| TrainError::File {
        path: dir.to_path_buf(),
        detail: format!("cannot create the folder: {e}"),
    })?;
    let test = load_split(manifest, Split::Test, task, pooling).ok();
    let splits = [
        ("train", Some(loaded[0])),
        ("valid", Some(loaded[1])),
        ("test", test.as_ref()),
    ];
    for (name, data) in splits {
        let Some(data) = data else { continue };
        write_npy(
            &dir.join(format!("{name}_x.npy")),
            &data.features,
            data.num_features,
        )?;
        write_npy(
            &dir.join(format!("{name}_y.npy")),
            &data.targets,
            data.num_classes(),
        )?;
    }
    Ok(())
}

fn write_npy(path: &Path, rows: &[f32], width: usize) -> Result<()> {
    let mut writer = NpyWriter::create(path, &[width])?;
    writer.write_rows(rows)?;
    writer.finish()?;
    Ok(())
}
