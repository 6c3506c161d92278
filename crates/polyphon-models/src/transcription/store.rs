//! Saving and loading trained models: a burnpack weight file plus a JSON sidecar.
//!
//! `save("dir/model.json")` writes `dir/model.json`, which names the architecture and the
//! front-end the model expects, and `dir/model.bpk`, the weights (burn's burnpack record of the
//! [`Network`], including the batch-norm running statistics). Weights are stored in half
//! precision by default (the ConvNet's file is about 3.8 MB instead of 7.5 MB) and widened to
//! `f32` when loaded.

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{Architecture, Network, TranscriptionModel, FEATURE_SPEC_NAME, INPUT_BINS};
use crate::storage::{file_name, read_sidecar, read_weights, record_from_bytes, save_module};
use crate::{default_device, ModelError, Precision, Result};

const FORMAT: &str = "polyphon-model";
const VERSION: u32 = 1;

/// The JSON sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelDescription {
    /// Always `"polyphon-model"`.
    pub format: String,
    pub version: u32,
    /// [`Architecture::name`].
    pub architecture: String,
    /// Front-end the model was trained on (`"kelz2016"`).
    pub features: String,
    pub input_bins: usize,
    pub outputs: usize,
    pub precision: Precision,
    /// Weight file, relative to the sidecar's folder.
    pub weights: String,
}

impl TranscriptionModel {
    /// Saves in half precision; see [`save_with`](Self::save_with).
    pub fn save(&self, sidecar: impl AsRef<Path>) -> Result<()> {
        self.save_with(sidecar, Precision::F16)
    }

    /// Writes the sidecar at `sidecar` (conventionally `*.json`) and the weights next to it
    /// with the extension `.bpk`.
    pub fn save_with(&self, sidecar: impl AsRef<Path>, precision: Precision) -> Result<()> {
        let sidecar = sidecar.as_ref();
        let weights = sidecar.with_extension("bpk");
        let description = ModelDescription {
            format: FORMAT.to_string(),
            version: VERSION,
            architecture: self.architecture().name().to_string(),
            features: FEATURE_SPEC_NAME.to_string(),
            input_bins: INPUT_BINS,
            outputs: self.num_outputs(),
            precision,
            weights: file_name(&weights),
        };
        save_module(
            self.network().clone(),
            precision,
            &weights,
            sidecar,
            &description,
        )
    }

    /// Loads onto [`default_device`]; see [`load_on`](Self::load_on).
    pub fn load(sidecar: impl AsRef<Path>) -> Result<Self> {
        Self::load_on(sidecar, &default_device())
    }

    /// Reads a sidecar written by [`save`](Self::save) and its weights.
    pub fn load_on(sidecar: impl AsRef<Path>, device: &Device) -> Result<Self> {
        let sidecar = sidecar.as_ref();
        let text = read_sidecar(sidecar)?;
        let description = parse_description(&text, sidecar)?;
        let (weights, record) = read_weights(sidecar, &text, &description.weights)?;
        Self::from_record(&description, Ok(record), &weights, device)
    }

    /// Builds a model from a sidecar's text and its weight bytes held in memory, e.g. a
    /// model compiled into the binary with `include_bytes!`. `name` stands in for the file
    /// path in error messages.
    pub fn from_memory(name: &str, sidecar: &str, weights: &[u8], device: &Device) -> Result<Self> {
        let path = Path::new(name);
        let description = parse_description(sidecar, path)?;
        let record = record_from_bytes(sidecar, path, weights.to_vec());
        Self::from_record(&description, record, path, device)
    }

    fn from_record(
        description: &ModelDescription,
        record: Result<ModuleRecord>,
        weights: &Path,
        device: &Device,
    ) -> Result<Self> {
        let architecture: Architecture = description.architecture.parse()?;
        let record_error = |message: String| ModelError::Record {
            path: weights.to_path_buf(),
            message,
        };
        let network = Network::new(architecture, device)
            .try_load_record(record?.cast_to_module_dtype())
            .map_err(|err| record_error(err.to_string()))?;
        Ok(Self::new(network))
    }
}

/// Reads and checks a sidecar.
pub fn read_description(sidecar: &Path) -> Result<ModelDescription> {
    parse_description(&read_sidecar(sidecar)?, sidecar)
}

/// Parses and checks a sidecar's text; `sidecar` names it in errors.
fn parse_description(text: &str, sidecar: &Path) -> Result<ModelDescription> {
    let description: ModelDescription =
        serde_json::from_str(text).map_err(|source| ModelError::Sidecar {
            path: sidecar.to_path_buf(),
            source,
        })?;
    let unsupported = |message: String| ModelError::Unsupported {
        path: sidecar.to_path_buf(),
        message,
    };
    if description.format != FORMAT || description.version != VERSION {
        return Err(unsupported(format!(
            "format {:?} version {} (this build reads {FORMAT:?} version {VERSION})",
            description.format, description.version
        )));
    }
    if description.features != FEATURE_SPEC_NAME || description.input_bins != INPUT_BINS {
        return Err(unsupported(format!(
            "features {:?} with {} bins (this build supports {FEATURE_SPEC_NAME:?}, {INPUT_BINS} bins)",
            description.features, description.input_bins
        )));
    }
    Ok(description)
}
