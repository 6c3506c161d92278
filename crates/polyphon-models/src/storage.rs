//! What every model store shares: a JSON sidecar beside a burnpack weight file, weights
//! stored at a chosen precision and widened to `f32` when loaded.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleMapper, Param};
use burn::store::ModuleRecord;
use burn::tensor::{Bytes, DType, Tensor};
use polyphon_core::checksum::{sha256_hex, verify_sha256};
use polyphon_core::write_atomically;
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

/// The sidecar key holding the SHA-256 of the weight file, checked before the weights load.
/// Sidecars written before it existed lack it and load unchecked.
pub const WEIGHTS_SHA256: &str = "weights_sha256";

/// The weights file `name` beside `sidecar` (whose text is `sidecar_text`), and its record.
pub(crate) fn read_weights(
    sidecar: &Path,
    sidecar_text: &str,
    name: &str,
) -> Result<(PathBuf, ModuleRecord)> {
    let weights = sidecar.parent().unwrap_or(Path::new("")).join(name);
    let bytes = fs::read(&weights).map_err(|source| ModelError::Io {
        path: weights.clone(),
        source,
    })?;
    let record = record_from_bytes(sidecar_text, &weights, bytes)?;
    Ok((weights, record))
}

/// The record in `bytes`, after checking them against the checksum of `sidecar_text`;
/// `weights` names them in errors.
pub(crate) fn record_from_bytes(
    sidecar_text: &str,
    weights: &Path,
    bytes: Vec<u8>,
) -> Result<ModuleRecord> {
    let recorded = serde_json::from_str::<serde_json::Value>(sidecar_text)
        .ok()
        .and_then(|json| json.get(WEIGHTS_SHA256)?.as_str().map(str::to_owned));
    if let Some(expected) = recorded {
        verify_sha256(&bytes, &expected, weights)?;
    }
    ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|err| ModelError::Record {
        path: weights.to_path_buf(),
        message: err.to_string(),
    })
}

pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Writes `module`'s weights at `precision` to `weights` and `description` as JSON to
/// `sidecar`, with the weights' SHA-256 ([`WEIGHTS_SHA256`]): the save step every model kind
/// shares. Each file appears whole; the sidecar last, so it never names missing weights.
pub(crate) fn save_module<M: Module, D: Serialize>(
    module: M,
    precision: Precision,
    weights: &Path,
    sidecar: &Path,
    description: &D,
) -> Result<()> {
    let record = cast(module, precision.dtype()).into_record();
    let bytes = record.into_bytes().map_err(|err| ModelError::Record {
        path: weights.to_path_buf(),
        message: err.to_string(),
    })?;
    write_atomically(weights, &bytes)?;
    let mut json = serde_json::to_value(description).expect("plain data serialises");
    if let Some(fields) = json.as_object_mut() {
        fields.insert(WEIGHTS_SHA256.into(), sha256_hex(&bytes).into());
    }
    let text = serde_json::to_string_pretty(&json).expect("plain data serialises");
    write_atomically(sidecar, (text + "\n").as_bytes())?;
    Ok(())
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
