//! A trained instrument network: its sidecar (`model.json`: shape, classes, loss, front-end),
//! weights (`model.bpk`) and batched prediction.

use std::path::Path;

use burn::module::Module;
use burn::store::ModuleRecord;
use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use super::{InstrumentNet, Loss, NetSpec};
use crate::storage::{read_sidecar, read_weights, record_from_bytes, save_module};
use crate::{default_device, ModelError, Precision, Result};

/// Value of the sidecar's `format`: how `polyphon classify` tells a network from a GBDT.
pub const FORMAT: &str = "polyphon-instrument-net";
const VERSION: u32 = 1;
/// Images per network call in prediction: bounds memory (ResNet-18 at width 16 needs about
/// 2 MB of activations per image).
const BATCH: usize = 32;

/// The JSON sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentNetDescription {
    pub format: String,
    pub version: u32,
    pub spec: NetSpec,
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// The loss it was trained with; `ce` means single-label (softmax).
    pub loss: Loss,
    /// The front-end's parameters, as the data crate writes them (this crate does not read
    /// them; `polyphon_instruments::BandImage` does).
    pub frontend: serde_json::Value,
    pub precision: Precision,
    /// Weight file, relative to the sidecar's folder.
    pub weights: String,
}

impl InstrumentNetDescription {
    pub fn new(
        spec: NetSpec,
        classes: Vec<String>,
        loss: Loss,
        frontend: serde_json::Value,
    ) -> Self {
        Self {
            format: FORMAT.into(),
            version: VERSION,
            spec,
            classes,
            loss,
            frontend,
            precision: Precision::F16,
            weights: "model.bpk".into(),
        }
    }
}

/// A network in inference mode with its description.
#[derive(Debug, Clone)]
pub struct InstrumentNetModel {
    net: InstrumentNet,
    description: InstrumentNetDescription,
    device: Device,
}

impl InstrumentNetModel {
    /// Wraps a (trained) network for inference on the plain device of its parameters.
    pub fn new(net: InstrumentNet, description: InstrumentNetDescription) -> Self {
        let net = net.valid();
        let device = net
            .devices()
            .into_iter()
            .next()
            .unwrap_or_else(default_device);
        Self {
            net,
            description,
            device,
        }
    }

    pub fn description(&self) -> &InstrumentNetDescription {
        &self.description
    }

    pub fn net(&self) -> &InstrumentNet {
        &self.net
    }

    /// Writes the sidecar at `sidecar` and the weights beside it (`.bpk`), at `precision`.
    pub fn save(&self, sidecar: &Path, precision: Precision) -> Result<()> {
        let weights = sidecar.with_extension("bpk");
        let description = InstrumentNetDescription {
            precision,
            weights: weights
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ..self.description.clone()
        };
        save_module(self.net.clone(), precision, &weights, sidecar, &description)
    }

    /// Reads a sidecar written by [`save`](Self::save) and its weights.
    pub fn load(sidecar: &Path) -> Result<Self> {
        Self::load_text(sidecar, &read_sidecar(sidecar)?)
    }

    /// As [`Self::load`], with the sidecar's text already read (its weights are read from
    /// beside it).
    pub fn load_text(sidecar: &Path, text: &str) -> Result<Self> {
        let description = parse(text, sidecar)?;
        let (weights, record) = read_weights(sidecar, text, &description.weights)?;
        Self::from_record(description, record, &weights)
    }

    /// A model from a sidecar's text and weight bytes in memory (e.g. `include_bytes!`);
    /// `name` stands in for the path in errors.
    pub fn from_memory(name: &str, sidecar: &str, weights: &[u8]) -> Result<Self> {
        let path = Path::new(name);
        let description = parse(sidecar, path)?;
        let record = record_from_bytes(sidecar, path, weights.to_vec())?;
        Self::from_record(description, record, path)
    }

    fn from_record(
        description: InstrumentNetDescription,
        record: ModuleRecord,
        weights: &Path,
    ) -> Result<Self> {
        let net = InstrumentNet::new(&description.spec, &default_device())?
            .try_load_record(record.cast_to_module_dtype())
            .map_err(|err| ModelError::Record {
                path: weights.to_path_buf(),
                message: err.to_string(),
            })?;
        Ok(Self::new(net, description))
    }

    /// Class probabilities `(images, classes)`, row-major, of row-major images
    /// `(images, bins, frames)`: a softmax for single-label models, a sigmoid per class
    /// otherwise.
    pub fn predict(&self, images: &[f32]) -> Result<Vec<f32>> {
        let spec = &self.description.spec;
        let size = spec.bins * spec.frames;
        if !images.len().is_multiple_of(size) {
            return Err(ModelError::FeatureLength {
                expected: size * (images.len() / size + 1),
                frames: spec.frames,
                bins: spec.bins,
                got: images.len(),
            });
        }
        let mut out = Vec::with_capacity(images.len() / size * spec.classes);
        for chunk in images.chunks(size * BATCH) {
            let n = chunk.len() / size;
            let input = Tensor::<4>::from_data(
                TensorData::new(chunk.to_vec(), [n, 1, spec.bins, spec.frames]),
                &self.device,
            );
            let logits = self.net.forward(input);
            let p = if self.description.loss.is_single_label() {
                softmax(logits, 1)
            } else {
                sigmoid(logits)
            };
            let values = p
                .into_data()
                .try_to_vec::<f32>()
                .map_err(|e| ModelError::TensorData(format!("{e:?}")))?;
            out.extend(values);
        }
        Ok(out)
    }
}

fn parse(text: &str, sidecar: &Path) -> Result<InstrumentNetDescription> {
    let description: InstrumentNetDescription =
        serde_json::from_str(text).map_err(|source| ModelError::Sidecar {
            path: sidecar.to_path_buf(),
            source,
        })?;
    if description.format != FORMAT || description.version != VERSION {
        return Err(ModelError::Unsupported {
            path: sidecar.to_path_buf(),
            message: format!(
                "format {:?} version {} (this build reads {FORMAT:?} version {VERSION})",
                description.format, description.version
            ),
        });
    }
    if description.classes.len() != description.spec.classes {
        return Err(ModelError::Unsupported {
            path: sidecar.to_path_buf(),
            message: "the class names do not match the network's outputs".into(),
        });
    }
    Ok(description)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::InstrumentArch;

    #[test]
    fn saved_model_predicts_the_same_after_loading() {
        let dir = tempfile::tempdir().unwrap();
        let sidecar = dir.path().join("model.json");
        let images: Vec<f32> = (0..2 * 32 * 32).map(|i| (i % 7) as f32 / 7.0).collect();
        for architecture in InstrumentArch::ALL {
            let spec = NetSpec::small(architecture);
            let net = InstrumentNet::new(&spec, &default_device()).unwrap();
            let classes = vec!["a".into(), "b".into(), "c".into()];
            let description =
                InstrumentNetDescription::new(spec, classes, Loss::Ce, serde_json::json!({}));
            let model = InstrumentNetModel::new(net, description);
            model.save(&sidecar, Precision::F32).unwrap();
            let loaded = InstrumentNetModel::load(&sidecar).unwrap();
            let (a, b) = (
                model.predict(&images).unwrap(),
                loaded.predict(&images).unwrap(),
            );
            assert_eq!(a.len(), 6);
            assert!(
                (a[0] + a[1] + a[2] - 1.0).abs() < 1e-5,
                "softmax rows sum to 1"
            );
            assert!(
                a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6),
                "{architecture:?}"
            );
            assert!(model.predict(&images[1..]).is_err());
        }
        let written = std::fs::read_to_string(&sidecar).unwrap();
        use super::super::ensemble::{format_of, is_instrument_net_format};
        let format = format_of(&written).unwrap();
        assert!(is_instrument_net_format(&format));
        assert!(!is_instrument_net_format("polyphon-instruments-gbdt-1"));
    }
}
