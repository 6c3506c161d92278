use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Result, TrainError};

/// Everything that decides a transcription training run, saved beside its outputs.
///
/// Read from TOML with [`from_toml_file`](Self::from_toml_file): every field is optional and
/// defaults to [`Default::default`]; unknown fields are refused so that typos do not pass
/// silently. `docs/train-transcription.toml` lists every field with its default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscriptionTrainConfig {
    /// `convnet` (88 keys, MIDI 21–108), `small-convnet` (23 keys, MIDI 49–71) or `aunet`
    /// (88 keys, trained on 256-frame patches).
    pub architecture: String,
    /// Upper bound on epochs.
    pub epochs: usize,
    /// Examples per optimisation step: frames for the ConvNets, 256-frame patches for the
    /// AUNet (use a handful there).
    pub batch_size: usize,
    /// ConvNet: train on whole sequences of this many consecutive frames (`batch_size /
    /// sequence_frames` per step), computed with the convolutions shared between neighbouring
    /// windows ([`polyphon_models::transcription::ConvNet::forward_sequences`]); 0 draws
    /// single frames. The network is the same either way.
    pub sequence_frames: usize,
    /// Adam's step size.
    pub learning_rate: f64,
    /// Stop after this many epochs without a better validation frame F1.
    pub patience: usize,
    /// Seeds the shuffles, the weight initialisation and dropout.
    pub seed: u64,
    /// Cap on the steps of one epoch (an "epoch" then sees a seeded random subset of frames);
    /// `0` means every frame.
    pub max_batches_per_epoch: usize,
    /// Probability above which a frame counts as sounding, for validation F1.
    pub threshold: f32,
    /// Validate on the first this-many frames of each validation file, so that validating a
    /// large set does not take longer than the epoch; `0` means every frame.
    pub valid_frames_per_file: usize,
    /// On-the-fly mixing (ConvNets only): each training example sums the audio of 1 to this
    /// many training files at random gains and delays, labelled with the union of their notes;
    /// `0` trains on the files' own frames. An epoch is then `max_batches_per_epoch` steps (or
    /// as many as the files have frames, when that is 0).
    pub mix_max_parts: usize,
    /// Range of each mixed part's gain, in dB.
    pub mix_gain_db: [f32; 2],
    /// Largest delay of a mixed part, in seconds.
    pub mix_max_delay: f64,
    /// MIDI pitch pairs `[low, high]` never mixed together (held-out combinations).
    pub mix_excluded_pairs: Vec<[u8; 2]>,
    /// Weight of the union-consistency penalty (needs mixing): the response to a mixture should
    /// equal the union of the responses to its parts alone; `0` turns it off.
    pub consistency_weight: f64,
}

impl Default for TranscriptionTrainConfig {
    /// Kelz et al. 2016's ConvNet recipe as far as it fits a CPU: Adam at 1e-3, batches of
    /// 128 frames, early stopping on validation frame F1.
    fn default() -> Self {
        Self {
            architecture: "convnet".into(),
            epochs: 30,
            batch_size: 128,
            sequence_frames: 0,
            learning_rate: 1e-3,
            patience: 5,
            seed: 2016,
            max_batches_per_epoch: 0,
            threshold: 0.5,
            valid_frames_per_file: 0,
            mix_max_parts: 0,
            mix_gain_db: [-6.0, 0.0],
            mix_max_delay: 0.0,
            mix_excluded_pairs: Vec::new(),
            consistency_weight: 0.0,
        }
    }
}

impl TranscriptionTrainConfig {
    /// Parses a TOML configuration; missing fields take their defaults.
    pub fn from_toml(text: &str) -> std::result::Result<Self, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    /// Reads a TOML configuration file.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let error = |detail: String| TrainError::File {
            path: path.to_path_buf(),
            detail,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        Self::from_toml(&text).map_err(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_overrides_only_the_fields_it_names() {
        let config =
            TranscriptionTrainConfig::from_toml("architecture = \"small-convnet\"\nepochs = 4\n")
                .unwrap();
        assert_eq!(config.architecture, "small-convnet");
        assert_eq!(config.epochs, 4);
        assert_eq!(
            config.batch_size,
            TranscriptionTrainConfig::default().batch_size
        );
    }

    #[test]
    fn documented_example_is_the_default_configuration() {
        let text = include_str!("../../../docs/train-transcription.toml");
        let config = TranscriptionTrainConfig::from_toml(text).unwrap();
        assert_eq!(config, TranscriptionTrainConfig::default());
    }

    #[test]
    fn unknown_and_mistyped_fields_are_refused() {
        let typo = TranscriptionTrainConfig::from_toml("epoch = 4").unwrap_err();
        assert!(typo.contains("epoch"), "{typo}");
        assert!(TranscriptionTrainConfig::from_toml("epochs = \"four\"").is_err());
    }
}
