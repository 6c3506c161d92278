//! Several instrument networks as one model: the mean of their class probabilities.
//!
//! Networks trained from different seeds err on different unseen timbres; averaging their
//! probabilities is the cheapest variance reduction there is (Dietterich 2000). An ensemble
//! is a small sidecar naming its members' sidecars, relative to its own folder:
//!
//! ```json
//! {"format": "polyphon-instrument-ensemble", "version": 1,
//!  "members": ["member-0/model.json", "member-1/model.json"]}
//! ```
//!
//! Every member must read the same input and name the same classes with the same kind of
//! output (softmax or sigmoids), so one feature matrix serves them all.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::store::{InstrumentNetDescription, InstrumentNetModel};
use crate::storage::read_sidecar;
use crate::{ModelError, Result};

/// Value of an ensemble sidecar's `format`.
pub const ENSEMBLE_FORMAT: &str = "polyphon-instrument-ensemble";
const VERSION: u32 = 1;

/// The ensemble sidecar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnsembleDescription {
    pub format: String,
    pub version: u32,
    /// Members' sidecars, relative to this sidecar's folder.
    pub members: Vec<String>,
}

impl EnsembleDescription {
    pub fn new(members: Vec<String>) -> Self {
        Self {
            format: ENSEMBLE_FORMAT.into(),
            version: VERSION,
            members,
        }
    }
}

/// One or more networks of the same input and classes; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct InstrumentEnsemble {
    members: Vec<InstrumentNetModel>,
}

impl InstrumentEnsemble {
    /// An ensemble of `members`, checked to agree; `name` stands for it in errors.
    pub fn new(members: Vec<InstrumentNetModel>, name: &Path) -> Result<Self> {
        let unsupported = |message: String| ModelError::Unsupported {
            path: name.to_path_buf(),
            message,
        };
        let Some(first) = members.first() else {
            return Err(unsupported("an ensemble needs at least one member".into()));
        };
        let key = |d: &InstrumentNetDescription| {
            (
                d.classes.clone(),
                d.loss.is_single_label(),
                (d.spec.bins, d.spec.frames),
                d.frontend.clone(),
            )
        };
        let expected = key(first.description());
        if let Some(i) = members
            .iter()
            .position(|m| key(m.description()) != expected)
        {
            return Err(unsupported(format!(
                "member {i} differs from member 0 in its classes, output kind or input"
            )));
        }
        Ok(Self { members })
    }

    /// A single network as an ensemble of one.
    pub fn single(model: InstrumentNetModel) -> Self {
        Self {
            members: vec![model],
        }
    }

    /// Reads an ensemble sidecar and its members, or a single network's sidecar.
    pub fn load(sidecar: &Path) -> Result<Self> {
        Self::load_text(sidecar, &read_sidecar(sidecar)?)
    }

    /// As [`Self::load`], with the sidecar's text already read.
    pub fn load_text(sidecar: &Path, text: &str) -> Result<Self> {
        if format_of(text).as_deref() != Some(ENSEMBLE_FORMAT) {
            return Ok(Self::single(InstrumentNetModel::load_text(sidecar, text)?));
        }
        let description: EnsembleDescription =
            serde_json::from_str(text).map_err(|source| ModelError::Sidecar {
                path: sidecar.to_path_buf(),
                source,
            })?;
        if description.version != VERSION {
            return Err(ModelError::Unsupported {
                path: sidecar.to_path_buf(),
                message: format!(
                    "ensemble version {} (this build reads version {VERSION})",
                    description.version
                ),
            });
        }
        let folder = sidecar.parent().unwrap_or(Path::new(""));
        let members = description
            .members
            .iter()
            .map(|member| InstrumentNetModel::load(&folder.join(member)))
            .collect::<Result<Vec<_>>>()?;
        Self::new(members, sidecar)
    }

    pub fn members(&self) -> &[InstrumentNetModel] {
        &self.members
    }

    /// What every member shares (classes, loss kind, input): the first member's sidecar.
    pub fn description(&self) -> &InstrumentNetDescription {
        self.members[0].description()
    }

    /// The members' mean class probabilities, laid out as [`InstrumentNetModel::predict`]'s.
    pub fn predict(&self, images: &[f32]) -> Result<Vec<f32>> {
        let mut sum = self.members[0].predict(images)?;
        for member in &self.members[1..] {
            for (total, p) in sum.iter_mut().zip(member.predict(images)?) {
                *total += p;
            }
        }
        let count = self.members.len() as f32;
        sum.iter_mut().for_each(|p| *p /= count);
        Ok(sum)
    }
}

/// Whether a sidecar's `format` is an instrument network's or an ensemble of them (rather
/// than another model file's).
pub fn is_instrument_net_format(format: &str) -> bool {
    matches!(format, super::store::FORMAT | ENSEMBLE_FORMAT)
}

/// The `format` field of a sidecar's text, if it has one.
pub fn format_of(text: &str) -> Option<String> {
    sidecar_format(text).ok().flatten()
}

/// The `format` field of a model sidecar's text (`None` if it has none), or the error that
/// makes the text no whole JSON object, e.g. a cut-short file. Only that field is kept: a
/// multi-megabyte GBDT model is scanned, not built into a tree.
pub fn sidecar_format(text: &str) -> serde_json::Result<Option<String>> {
    #[derive(Deserialize)]
    struct Kind {
        format: Option<String>,
    }
    serde_json::from_str::<Kind>(text).map(|kind| kind.format)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::default_device;
    use crate::instruments::{InstrumentArch, InstrumentNet, Loss, NetSpec, DEFAULT_FRAME_WIDTH};

    fn spec(classes: usize) -> NetSpec {
        NetSpec {
            architecture: InstrumentArch::Mlp,
            width: 16,
            frame_width: DEFAULT_FRAME_WIDTH,
            bins: 16,
            frames: 16,
            classes,
        }
    }

    fn member(seed: u64, classes: usize, loss: Loss) -> InstrumentNetModel {
        let device = default_device();
        device.seed(seed);
        let spec = spec(classes);
        let net = InstrumentNet::new(&spec, &device).unwrap();
        let names = (0..classes).map(|c| format!("class{c}")).collect();
        let description =
            InstrumentNetDescription::new(spec, names, loss, serde_json::json!({"bands": 16}));
        InstrumentNetModel::new(net, description)
    }

    fn images(count: usize) -> Vec<f32> {
        (0..count * 256)
            .map(|i| ((i * 37) % 17) as f32 / 8.5 - 1.0)
            .collect()
    }

    #[test]
    fn predictions_are_the_members_mean() {
        let (a, b) = (member(1, 3, Loss::Bce), member(2, 3, Loss::Bce));
        let x = images(5);
        let (pa, pb) = (a.predict(&x).unwrap(), b.predict(&x).unwrap());
        assert_ne!(pa, pb);
        let ensemble = InstrumentEnsemble::new(vec![a, b], Path::new("e")).unwrap();
        let mean = ensemble.predict(&x).unwrap();
        for ((m, a), b) in mean.iter().zip(&pa).zip(&pb) {
            assert!((m - (a + b) / 2.0).abs() < 1e-6);
        }
    }

    #[test]
    fn members_that_disagree_are_refused() {
        let name = Path::new("e.json");
        let classes =
            InstrumentEnsemble::new(vec![member(1, 3, Loss::Bce), member(2, 4, Loss::Bce)], name);
        assert!(classes.unwrap_err().to_string().contains("member 1"));
        let kind =
            InstrumentEnsemble::new(vec![member(1, 3, Loss::Bce), member(2, 3, Loss::Ce)], name);
        assert!(kind.is_err());
        assert!(InstrumentEnsemble::new(vec![], name).is_err());
    }

    #[test]
    fn a_saved_ensemble_loads_its_members_relative_to_itself() {
        let dir = tempfile::tempdir().unwrap();
        let x = images(3);
        let mut expected = Vec::new();
        let mut names = Vec::new();
        for seed in [3, 4] {
            let model = member(seed, 2, Loss::Ce);
            let name = format!("member-{seed}/model.json");
            std::fs::create_dir_all(dir.path().join(format!("member-{seed}"))).unwrap();
            model
                .save(&dir.path().join(&name), crate::Precision::F32)
                .unwrap();
            expected.push(model);
            names.push(name);
        }
        let sidecar = dir.path().join("model.json");
        let json = serde_json::to_string(&EnsembleDescription::new(names)).unwrap();
        std::fs::write(&sidecar, json).unwrap();
        let loaded = InstrumentEnsemble::load(&sidecar).unwrap();
        assert_eq!(loaded.members().len(), 2);
        let direct = InstrumentEnsemble::new(expected, &sidecar).unwrap();
        assert_eq!(loaded.predict(&x).unwrap(), direct.predict(&x).unwrap());
        // A single network's sidecar loads as an ensemble of one.
        let single = InstrumentEnsemble::load(&dir.path().join("member-3/model.json")).unwrap();
        assert_eq!(single.members().len(), 1);
        // A missing member names its file.
        std::fs::remove_dir_all(dir.path().join("member-4")).unwrap();
        let missing = InstrumentEnsemble::load(&sidecar).unwrap_err().to_string();
        assert!(missing.contains("member-4"), "{missing}");
    }
}
