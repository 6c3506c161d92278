//! What every training run shares: its folder, a configuration that must match on resume,
//! and files written atomically (temporary name, then rename).

use std::fs;
use std::path::{Path, PathBuf};

use polyphon_core::checksum::{read_verified, sha256_hex};
use polyphon_models::adam;
use polyphon_models::burn::module::Module;
use polyphon_models::burn::optim::ModuleOptimizer;
use polyphon_models::burn::store::ModuleRecord;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::{Result, TrainError};

fn file_error(path: &Path, detail: String) -> TrainError {
    TrainError::File {
        path: path.to_path_buf(),
        detail,
    }
}

/// The files of a run folder, the same for every task.
pub(crate) struct RunFiles {
    pub config: PathBuf,
    pub state: PathBuf,
    pub weights: PathBuf,
    pub optimizer: PathBuf,
    /// The best model's sidecar.
    pub best: PathBuf,
    pub log_csv: PathBuf,
    pub loss_png: PathBuf,
}

impl RunFiles {
    pub fn new(out: &Path) -> Self {
        Self {
            config: out.join("config.json"),
            state: out.join("state.json"),
            weights: out.join("checkpoint.bpk"),
            optimizer: out.join("optimizer.bpk"),
            best: out.join("model.json"),
            log_csv: out.join("log.csv"),
            loss_png: out.join("loss.png"),
        }
    }
}

/// The SHA-256 of a checkpoint's two files, kept in the run state written after them and
/// checked before a resumed run loads them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CheckpointSums {
    pub weights_sha256: String,
    pub optimizer_sha256: String,
}

/// The last epoch's weights (into `fresh`, a new module on the training device, so that it
/// keeps tracking gradients) and Adam state, as [`save_checkpoint`] wrote them; `sums`, where
/// the run state has them, are checked first.
pub(crate) fn load_checkpoint<M: Module>(
    fresh: M,
    weights: &Path,
    optimizer: &Path,
    sums: Option<&CheckpointSums>,
) -> Result<(M, ModuleOptimizer)> {
    if let Some(sums) = sums {
        for (path, expected) in [
            (weights, &sums.weights_sha256),
            (optimizer, &sums.optimizer_sha256),
        ] {
            read_verified(path, expected).map_err(|e| file_error(path, without_path(e)))?;
        }
    }
    let record = ModuleRecord::load(weights)
        .map_err(|e| file_error(weights, e.to_string()))?
        .cast_to_module_dtype();
    let module = fresh
        .try_load_record(record)
        .map_err(|e| file_error(weights, e.to_string()))?;
    let optimizer_state = adam()
        .load(optimizer)
        .map_err(|e| file_error(optimizer, e.to_string()))?;
    Ok((module, optimizer_state))
}

/// What went wrong, without the path (the caller's error names it once).
fn without_path(error: polyphon_core::CoreError) -> String {
    match error {
        polyphon_core::CoreError::Checksum { .. } => {
            format!("{}; start a new run or restore the file", error.detail())
        }
        other => other.detail(),
    }
}

/// Writes the weights of `module` and the optimizer's state, to resume from; returns their
/// checksums.
pub(crate) fn save_checkpoint<M: Module>(
    module: &M,
    weights: &Path,
    optimizer_state: &ModuleOptimizer,
    optimizer: &Path,
) -> Result<CheckpointSums> {
    module
        .clone()
        .into_record()
        .save(weights)
        .map_err(|e| file_error(weights, e.to_string()))?;
    optimizer_state
        .save(optimizer)
        .map_err(|e| file_error(optimizer, e.to_string()))?;
    let sum = |path: &Path| -> Result<String> {
        let bytes = fs::read(path).map_err(|e| file_error(path, e.to_string()))?;
        Ok(sha256_hex(&bytes))
    };
    Ok(CheckpointSums {
        weights_sha256: sum(weights)?,
        optimizer_sha256: sum(optimizer)?,
    })
}

/// Reads the run state in `out` to resume it, or starts a new one; refuses to resume where
/// there is nothing to resume, to resume a run of another configuration (`same` compares the saved configuration with this one, e.g.
/// ignoring the epoch limit, which may grow) and to overwrite a run without `resume`.
pub(crate) fn prepare_run<C, S>(
    config: &C,
    config_path: &Path,
    state_path: &Path,
    out: &Path,
    resume: bool,
    same: impl Fn(&C, &C) -> bool,
) -> Result<S>
where
    C: Serialize + DeserializeOwned,
    S: Default + DeserializeOwned,
{
    let file_error = |path: &Path, detail: String| TrainError::File {
        path: path.to_path_buf(),
        detail,
    };
    if resume && !state_path.exists() {
        return Err(file_error(
            out,
            "has no finished epoch to resume from; start the run without --resume".into(),
        ));
    }
    fs::create_dir_all(out).map_err(|e| file_error(out, e.to_string()))?;
    if resume {
        let saved: C = read_json(config_path)?;
        if !same(&saved, config) {
            return Err(file_error(
                config_path,
                "was written by a run with another configuration; resume with the same one".into(),
            ));
        }
        write_json(config_path, config)?;
        return read_json(state_path);
    }
    if state_path.exists() {
        return Err(file_error(
            out,
            "holds a previous run; pass --resume to continue it or choose another folder".into(),
        ));
    }
    write_json(config_path, config)?;
    Ok(S::default())
}

pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).expect("plain data serialises");
    write_atomically(path, (text + "\n").as_bytes())
}

pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let error = |detail: String| TrainError::File {
        path: path.to_path_buf(),
        detail,
    };
    let text = fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
    serde_json::from_str(&text).map_err(|e| error(e.to_string()))
}

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    polyphon_core::write_atomically(path, bytes)
        .map(drop)
        .map_err(|e| file_error(path, without_path(e)))
}
