use serde::{Deserialize, Serialize};

/// Everything that decides a transcription training run, saved beside its outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscriptionTrainConfig {
    /// `convnet` (88 keys, MIDI 21–108) or `small-convnet` (23 keys, MIDI 49–71).
    pub architecture: String,
    /// Upper bound on epochs.
    pub epochs: usize,
    /// Frames per optimisation step.
    pub batch_size: usize,
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
}

impl Default for TranscriptionTrainConfig {
    /// Kelz et al. 2016's ConvNet recipe as far as it fits a CPU: Adam at 1e-3, batches of
    /// 128 frames, early stopping on validation frame F1.
    fn default() -> Self {
        Self {
            architecture: "convnet".into(),
            epochs: 30,
            batch_size: 128,
            learning_rate: 1e-3,
            patience: 5,
            seed: 2016,
            max_batches_per_epoch: 0,
            threshold: 0.5,
            valid_frames_per_file: 0,
        }
    }
}
