//! Saving and loading separation models: a burnpack weight file and a JSON sidecar naming
//! the architecture, the sources in output order, the mask activation and the STFT.

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use super::{
    MaskActivation, SeparationArchitecture, SeparationModel, SeparationNetwork, SEPARATION_HOP,
    SEPARATION_N_FFT, SEPARATION_SAMPLE_RATE,
};
use crate::storage::{read_sidecar, read_weights, record_from_bytes, save_module};
use crate::{default_device, ModelError, Precision, Result};

const FORMAT: &str = "polyphon-separation-model";
const VERSION: u32 = 1;

/// The JSON sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeparationDescription {
    pub format: String,
    pub version: u32,
    pub architecture: String,
    /// Source names, in the order of the network's outputs.
    pub sources: Vec<String>,
    pub mask: MaskActivation,
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop: usize,
    pub precision: Precision,
    /// Weight file, relative to the sidecar's folder.
    pub weights: String,
}

impl SeparationModel {
    /// Writes `sidecar` and the weights beside it (extension `.bpk`).
    pub fn save_with(&self, sidecar: impl AsRef<Path>, precision: Precision) -> Result<()> {
        let sidecar = sidecar.as_ref();
        let weights = sidecar.with_extension("bpk");
        let description = SeparationDescription {
            format: FORMAT.into(),
            version: VERSION,
            architecture: self.network().architecture().name().into(),
            sources: self.sources().to_vec(),
            mask: self.activation(),
            sample_rate: SEPARATION_SAMPLE_RATE,
            n_fft: SEPARATION_N_FFT,
            hop: SEPARATION_HOP,
            precision,
            weights: weights
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        save_module(
            self.network().clone(),
            precision,
            &weights,
            sidecar,
            &description,
        )
    }

    /// Reads a sidecar written by [`save_with`](Self::save_with) and its weights.
    pub fn load(sidecar: impl AsRef<Path>) -> Result<Self> {
        let sidecar = sidecar.as_ref();
        let text = read_sidecar(sidecar)?;
        let description = parse(&text, sidecar)?;
        let (weights, record) = read_weights(sidecar, &text, &description.weights)?;
        from_record(&description, Ok(record), &weights, &default_device())
    }

    /// A model whose sidecar and weights are held in memory (compiled into the binary).
    pub fn from_memory(name: &str, sidecar: &str, weights: &[u8]) -> Result<Self> {
        let path = Path::new(name);
        let description = parse(sidecar, path)?;
        let record = record_from_bytes(sidecar, path, weights.to_vec())?;
        from_record(&description, Ok(record), path, &default_device())
    }
}

fn parse(text: &str, sidecar: &Path) -> Result<SeparationDescription> {
    let description: SeparationDescription =
        serde_json::from_str(text).map_err(|source| ModelError::Sidecar {
            path: sidecar.to_path_buf(),
            source,
        })?;
    let supported = description.format == FORMAT
        && description.version == VERSION
        && description.sample_rate == SEPARATION_SAMPLE_RATE
        && description.n_fft == SEPARATION_N_FFT
        && description.hop == SEPARATION_HOP
        && !description.sources.is_empty();
    if !supported {
        return Err(ModelError::Unsupported {
            path: sidecar.to_path_buf(),
            message: format!(
                "not a {FORMAT} version {VERSION} at {SEPARATION_SAMPLE_RATE} Hz, \
                 {SEPARATION_N_FFT}-point frames, hop {SEPARATION_HOP}, with sources"
            ),
        });
    }
    Ok(description)
}

fn from_record(
    description: &SeparationDescription,
    record: std::result::Result<ModuleRecord, String>,
    weights: &Path,
    device: &Device,
) -> Result<SeparationModel> {
    let record_error = |message: String| ModelError::Record {
        path: weights.to_path_buf(),
        message,
    };
    let architecture: SeparationArchitecture = description.architecture.parse()?;
    let network = SeparationNetwork::new(architecture, description.sources.len(), device)
        .try_load_record(record.map_err(record_error)?.cast_to_module_dtype())
        .map_err(|err| record_error(err.to_string()))?;
    Ok(SeparationModel::new(
        network,
        description.sources.clone(),
        description.mask,
    ))
}
