//! What every model store shares: a JSON sidecar beside a burnpack weight file, weights
//! stored at a chosen precision and widened to `f32` when loaded.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, Param};
use burn::store::ModuleRecord;
use burn::tensor::{DType, Tensor};
use serde::{Deserialize, Serialize};

use crate::{ModelError, Result};

/// How the weights are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// IEEE half precision (`f16`): half the size, about 3 significant digits.
    F16,
    /// Single precision, bit-exact.
    F32,
}

impl Precision {
    pub(crate) fn dtype(self) -> DType {
        match self {
            Self::F16 => DType::F16,
            Self::F32 => DType::F32,
        }
    }
}

/// The text of a sidecar (any of the model stores').
pub(crate) fn read_sidecar(sidecar: &Path) -> Result<String> {
    fs::read_to_string(sidecar).map_err(|source| ModelError::Io {
        path: sidecar.to_path_buf(),
        source,
    })
}

/// The weights file `name` beside `sidecar`, and its record.
pub(crate) fn read_weights(sidecar: &Path, name: &str) -> Result<(PathBuf, ModuleRecord)> {
    let weights = sidecar.parent().unwrap_or(Path::new("")).join(name);
    let record = ModuleRecord::load(&weights).map_err(|err| ModelError::Record {
        path: weights.clone(),
        message: err.to_string(),
    })?;
    Ok((weights, record))
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes `module`'s weights at `precision` to `weights` and `description` as JSON to
/// `sidecar`: the save step every model kind shares.
pub(crate) fn save_module<M: Module, D: Serialize>(
    module: M,
    precision: Precision,
    weights: &Path,
    sidecar: &Path,
    description: &D,
) -> Result<()> {
    let record = cast(module, precision.dtype()).into_record();
    record.save(weights).map_err(|err| ModelError::Record {
        path: weights.to_path_buf(),
        message: err.to_string(),
    })?;
    let json = serde_json::to_string_pretty(description).expect("plain data serialises");
    fs::write(sidecar, json + "\n").map_err(|source| ModelError::Io {
        path: sidecar.to_path_buf(),
        source,
    })
}

/// Casts every float tensor of a module (running statistics included).
pub(crate) fn cast<M: Module>(module: M, dtype: DType) -> M {
    struct Cast(DType);
    impl ModuleMapper for Cast {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let dtype = self.0;
            param.map(|tensor| tensor.cast(dtype))
        }
    }
    module.map(&mut Cast(dtype))
}
