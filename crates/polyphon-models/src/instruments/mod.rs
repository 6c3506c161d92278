//! Instrument-family classifiers on a log-band image `(1, bins, frames)` (mel or
//! log-frequency bands):
//!
//! - [`Mlp`] (`mlp`: hidden 64-32; `mlp5`: 256-128-64-32) on the pooled mel vector it
//!   computes itself; [`NormalizedMlp`] (`mlp-norm`) the `mlp` on the batch-normalised vector;
//!   [`OnsetMlp`] (`mlp-onset`) the `mlp` on a vector pooled in short segments at the onset;
//! - [`FrameMlp`] (`frame-mlp`): an MLP on every frame, mean and max over time, dense head;
//!   `frame-mlp-segments` takes the mean and max in 4 time segments; `frame-conv-segments`
//!   also lets the second frame layer read the frames 2 before and after;
//! - [`BandConv`] (`band-conv`): convolutions along the bands of the pooled spectrum, max
//!   and mean over the bands, so a timbre is recognised at any pitch;
//! - [`Cnn`] (`cnn`): the seed's two convolutions and dense head;
//! - [`ResNet18`] (`resnet18`): basic blocks [2, 2, 2, 2], global average pooling, dense 128
//!   + dropout + dense N, at a configurable width.
//!
//! All return logits; [`loss`] has the single-label (softmax cross-entropy) and multi-label
//! (sigmoid BCE, or L1 / squared error for comparison) losses, [`store`] saving, loading and
//! batched prediction, [`ensemble`] several networks' mean probabilities as one model.

mod band_conv;
mod cnn;
pub mod ensemble;
mod frames;
pub mod loss;
mod mlp;
mod resnet;
pub mod store;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

pub use band_conv::{BandConv, REGIONS};
pub use cnn::Cnn;
pub use ensemble::{EnsembleDescription, InstrumentEnsemble};
pub use frames::{FrameMlp, CONTEXT_SPREAD, DEFAULT_FRAME_WIDTH};
pub use loss::Loss;
pub use mlp::{pool, Mlp, NormalizedMlp, OnsetMlp, SEGMENTS};
pub use resnet::{BasicBlock, ResNet18, DEFAULT_WIDTH};
pub use store::{InstrumentNetDescription, InstrumentNetModel};

use crate::{ModelError, Result};

/// Which network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InstrumentArch {
    Mlp,
    Mlp5,
    #[serde(rename = "mlp-norm")]
    MlpNorm,
    #[serde(rename = "mlp-onset")]
    MlpOnset,
    #[serde(rename = "frame-mlp")]
    FrameMlp,
    #[serde(rename = "frame-mlp-segments")]
    FrameMlpSegments,
    #[serde(rename = "frame-conv-segments")]
    FrameConvSegments,
    #[serde(rename = "band-conv")]
    BandConv,
    Cnn,
    #[serde(rename = "resnet18")]
    ResNet18,
}

impl InstrumentArch {
    /// Every network, in the order the help lists them.
    pub const ALL: [Self; 10] = [
        Self::Mlp,
        Self::Mlp5,
        Self::MlpNorm,
        Self::MlpOnset,
        Self::FrameMlp,
        Self::FrameMlpSegments,
        Self::FrameConvSegments,
        Self::BandConv,
        Self::Cnn,
        Self::ResNet18,
    ];

    /// The name `--model` takes and sidecars store (the parse of [`FromStr`](std::str::FromStr)).
    pub fn name(self) -> &'static str {
        match self {
            Self::Mlp => "mlp",
            Self::Mlp5 => "mlp5",
            Self::MlpNorm => "mlp-norm",
            Self::MlpOnset => "mlp-onset",
            Self::FrameMlp => "frame-mlp",
            Self::FrameMlpSegments => "frame-mlp-segments",
            Self::FrameConvSegments => "frame-conv-segments",
            Self::BandConv => "band-conv",
            Self::Cnn => "cnn",
            Self::ResNet18 => "resnet18",
        }
    }
}

impl std::str::FromStr for InstrumentArch {
    type Err = ModelError;

    fn from_str(text: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|architecture| architecture.name() == text)
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|a| a.name()).collect();
                ModelError::UnknownArchitecture(format!(
                    "architecture {text:?} (instrument networks: {})",
                    names.join(", ")
                ))
            })
    }
}

/// Everything that fixes a network's shape: saved in its sidecar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetSpec {
    pub architecture: InstrumentArch,
    /// ResNet-18's first-stage channels (ignored by the others).
    pub width: usize,
    /// The frame networks' first frame layer (ignored by the others; sidecars written
    /// before it existed have the default).
    #[serde(default = "default_frame_width")]
    pub frame_width: usize,
    /// Mel bands and frames of the input image.
    pub bins: usize,
    pub frames: usize,
    pub classes: usize,
}

/// [`DEFAULT_FRAME_WIDTH`] as serde's default, for the sidecars and run configs written
/// before the width was a setting.
pub fn default_frame_width() -> usize {
    DEFAULT_FRAME_WIDTH
}

impl NetSpec {
    /// A small network of `architecture` for tests: 32 bands × 32 frames, 3 classes.
    #[cfg(test)]
    pub(crate) fn small(architecture: InstrumentArch) -> Self {
        Self {
            architecture,
            width: 2,
            frame_width: 16,
            bins: 32,
            frames: 32,
            classes: 3,
        }
    }

    pub fn check(&self) -> Result<()> {
        let too_small = self.bins < 16 || self.frames < 16;
        // The head of a frame network has frame_width / 4 units: at least 1.
        if too_small || self.classes == 0 || self.width == 0 || self.frame_width < 4 {
            return Err(ModelError::InvalidSpec(format!(
                "{}: an input of {} x {} (at least 16 x 16), {} classes, width {}, \
                 frame width {} (at least 4)",
                self.architecture.name(),
                self.bins,
                self.frames,
                self.classes,
                self.width,
                self.frame_width
            )));
        }
        Ok(())
    }
}

/// Any of the networks, as one module type for records, optimisers and training loops.
///
/// The variants differ by a few hundred bytes of layer descriptors and a network is built
/// once: boxing is not worth losing the derived `Module` implementation (as `Network`).
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum InstrumentNet {
    Mlp(Mlp),
    NormalizedMlp(NormalizedMlp),
    OnsetMlp(OnsetMlp),
    FrameMlp(FrameMlp),
    BandConv(BandConv),
    Cnn(Cnn),
    ResNet18(ResNet18),
}

impl InstrumentNet {
    /// A freshly initialised network on `device`.
    pub fn new(spec: &NetSpec, device: &Device) -> Result<Self> {
        spec.check()?;
        let (bins, classes, frame_width) = (spec.bins, spec.classes, spec.frame_width);
        Ok(match spec.architecture {
            InstrumentArch::Mlp => Self::Mlp(Mlp::new(bins, &[64, 32], classes, device)),
            InstrumentArch::Mlp5 => Self::Mlp(Mlp::new(bins, &[256, 128, 64, 32], classes, device)),
            InstrumentArch::MlpNorm => {
                Self::NormalizedMlp(NormalizedMlp::new(bins, &[64, 32], classes, device))
            }
            InstrumentArch::MlpOnset => {
                Self::OnsetMlp(OnsetMlp::new(bins, &[64, 32], classes, device))
            }
            InstrumentArch::FrameMlp => {
                Self::FrameMlp(FrameMlp::new(bins, classes, 1, 0, frame_width, device))
            }
            InstrumentArch::FrameMlpSegments => Self::FrameMlp(FrameMlp::new(
                bins,
                classes,
                SEGMENTS,
                0,
                frame_width,
                device,
            )),
            InstrumentArch::FrameConvSegments => Self::FrameMlp(FrameMlp::new(
                bins,
                classes,
                SEGMENTS,
                CONTEXT_SPREAD,
                frame_width,
                device,
            )),
            InstrumentArch::BandConv => Self::BandConv(BandConv::new(classes, REGIONS, device)),
            InstrumentArch::Cnn => Self::Cnn(Cnn::new(bins, spec.frames, classes, device)),
            InstrumentArch::ResNet18 => Self::ResNet18(ResNet18::new(spec.width, classes, device)),
        })
    }

    /// Logits `(batch, classes)` of images `(batch, 1, bins, frames)`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Self::Mlp(net) => net.forward(images),
            Self::NormalizedMlp(net) => net.forward(images),
            Self::OnsetMlp(net) => net.forward(images),
            Self::FrameMlp(net) => net.forward(images),
            Self::BandConv(net) => net.forward(images),
            Self::Cnn(net) => net.forward(images),
            Self::ResNet18(net) => net.forward(images),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainable_param_count;

    /// A network of the bundled models' input: 128 bands x 251 frames.
    fn spec_of(architecture: InstrumentArch, width: usize, classes: usize) -> NetSpec {
        NetSpec {
            architecture,
            width,
            frame_width: DEFAULT_FRAME_WIDTH,
            bins: 128,
            frames: 251,
            classes,
        }
    }

    fn count(architecture: InstrumentArch, width: usize, classes: usize) -> (usize, usize) {
        let spec = spec_of(architecture, width, classes);
        let net = InstrumentNet::new(&spec, &Device::flex()).unwrap();
        (net.num_params(), trainable_param_count(&net))
    }

    #[test]
    fn mlp_parameter_counts() {
        // 1024 pooled values -> 64 -> 32 -> 6, weights and biases.
        let mlp = 1024 * 64 + 64 + 64 * 32 + 32 + 32 * 6 + 6;
        assert_eq!(count(InstrumentArch::Mlp, 1, 6), (mlp, mlp));
        let mlp5 = 1024 * 256 + 256 + 256 * 128 + 128 + 128 * 64 + 64 + 64 * 32 + 32 + 32 * 6 + 6;
        assert_eq!(count(InstrumentArch::Mlp5, 1, 6), (mlp5, mlp5));
        // The batch norm adds a scale and shift per value (trainable) and 2 running statistics.
        let norm = 2 * 1024;
        assert_eq!(
            count(InstrumentArch::MlpNorm, 1, 6),
            (mlp + 2 * norm, mlp + norm)
        );
        // 6 onset segments: 1536 pooled values.
        let onset = 1536 * 64 + 64 + 64 * 32 + 32 + 32 * 6 + 6;
        assert_eq!(count(InstrumentArch::MlpOnset, 1, 6), (onset, onset));
    }

    #[test]
    fn frame_mlp_parameter_count() {
        // 128 -> 256 -> 128 on every frame, mean + max (256) -> 64 -> 6.
        let frames = 128 * 256 + 256 + 256 * 128 + 128;
        let head = 256 * 64 + 64 + 64 * 6 + 6;
        let all = frames + head;
        assert_eq!(count(InstrumentArch::FrameMlp, 1, 6), (all, all));
        // Mean + max in each of 4 segments: the head reads 4 times as many values.
        let segmented = frames + 4 * 256 * 64 + 64 + 64 * 6 + 6;
        assert_eq!(
            count(InstrumentArch::FrameMlpSegments, 1, 6),
            (segmented, segmented)
        );
        // The second frame layer reads 3 frames' 256 features.
        let context = segmented + 2 * 256 * 128;
        assert_eq!(
            count(InstrumentArch::FrameConvSegments, 1, 6),
            (context, context)
        );
        // --frame-width 512: 128 -> 512 -> 256, mean + max in 4 segments (2048) -> 128 -> 6.
        let wide = 128 * 512 + 512 + 512 * 256 + 256 + 2048 * 128 + 128 + 128 * 6 + 6;
        let spec = NetSpec {
            frame_width: 512,
            ..spec_of(InstrumentArch::FrameMlpSegments, 1, 6)
        };
        let net = InstrumentNet::new(&spec, &Device::flex()).unwrap();
        assert_eq!(trainable_param_count(&net), wide);
    }

    #[test]
    fn band_conv_parameter_count() {
        // 5-tap convolutions 8 -> 32 -> 32 -> 64 -> 64 with biases; mean + max (128) in 6
        // band regions -> 64 -> 6.
        let convs = (8 * 32 + 32 * 32 + 32 * 64 + 64 * 64) * 5 + 32 + 32 + 64 + 64;
        let all = convs + 6 * 128 * 64 + 64 + 64 * 6 + 6;
        assert_eq!(count(InstrumentArch::BandConv, 1, 6), (all, all));
    }

    #[test]
    fn cnn_parameter_count() {
        // Convolutions without bias, batch norms (gamma, beta + 2 running statistics), dense
        // 3,840 -> 64 -> 6.
        let trainable = 9 * 16 + 2 * 16 + 9 * 16 * 32 + 2 * 32 + 3840 * 64 + 64 + 64 * 6 + 6;
        assert_eq!(
            count(InstrumentArch::Cnn, 1, 6),
            (trainable + 2 * (16 + 32), trainable)
        );
    }

    /// ResNet-18 by formula: stem, four stages of two basic blocks (projections where the
    /// width or resolution changes), dense 128 and N.
    fn resnet18_trainable(width: usize, classes: usize) -> usize {
        let conv = |i: usize, o: usize, k: usize| i * o * k * k;
        let bn = |c: usize| 2 * c;
        let mut total = conv(1, width, 7) + bn(width);
        let mut inputs = width;
        for multiple in [1, 2, 4, 8] {
            let outputs = width * multiple;
            for block in 0..2 {
                let block_in = if block == 0 { inputs } else { outputs };
                total += conv(block_in, outputs, 3) + bn(outputs);
                total += conv(outputs, outputs, 3) + bn(outputs);
                if block == 0 && multiple != 1 {
                    total += conv(block_in, outputs, 1) + bn(outputs);
                }
            }
            inputs = outputs;
        }
        total + inputs * 128 + 128 + 128 * classes + classes
    }

    #[test]
    fn resnet18_parameter_counts() {
        // At torchvision's width, with its 3-channel stem, the convolutions and batch norms
        // are its 11,176,512.
        let rgb_stem = 2 * 64 * 7 * 7;
        assert_eq!(
            resnet18_trainable(64, 0) - 512 * 128 - 128 + rgb_stem,
            11_176_512
        );
        let (all, trainable) = count(InstrumentArch::ResNet18, DEFAULT_WIDTH, 6);
        assert_eq!(trainable, resnet18_trainable(DEFAULT_WIDTH, 6));
        assert_eq!(trainable, 717_814);
        assert!(all > trainable);
    }

    #[test]
    fn every_network_maps_images_to_logits() {
        let device = Device::flex();
        for architecture in InstrumentArch::ALL {
            let net = InstrumentNet::new(&NetSpec::small(architecture), &device).unwrap();
            let images = Tensor::<4>::zeros([2, 1, 32, 32], &device);
            assert_eq!(net.forward(images).dims(), [2, 3], "{architecture:?}");
        }
        assert!("vgg".parse::<InstrumentArch>().is_err());
        for architecture in InstrumentArch::ALL {
            assert_eq!(
                architecture.name().parse::<InstrumentArch>().unwrap(),
                architecture
            );
        }
    }
}
