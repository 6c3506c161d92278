//! Source-separation networks: magnitude spectrogram in, one soft mask per source out.
//!
//! - [`UNet`]: Jansson et al.'s spectrogram U-Net, 7 levels down and 7 up with skips;
//! - [`UNetBiLstm`]: 2 levels and a bidirectional LSTM over time at the bottleneck.
//!
//! Both read `log(1 + |X|)` of the mixture's STFT (16 kHz, 1024-point frames, hop 256; the
//! Nyquist bin is left out, its mask copied from the bin below) and return logits; the masks
//! are a softmax across sources (they sum to one, so the stems sum back to the mixture) or
//! independent sigmoids. [`SeparationModel`] runs a trained network on spectrograms of any
//! length in overlapping patches; [`store`] saves and loads it.

mod blocks;
mod native;
pub mod store;
mod unet;
mod unet_bilstm;
pub mod waveform;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use burn::module::Module;
use burn::tensor::activation::{sigmoid, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use serde::{Deserialize, Serialize};

pub use native::NativeUNet;
pub use unet::UNet;
pub use unet_bilstm::UNetBiLstm;
pub use waveform::{negative_sdr, PatchIstft};

use crate::{default_device, Engine, ModelError, Result};

/// Sample rate, FFT size and hop the separation networks are trained with.
pub const SEPARATION_SAMPLE_RATE: u32 = 16_000;
pub const SEPARATION_N_FFT: usize = 1024;
pub const SEPARATION_HOP: usize = 256;
/// STFT bins the networks see: all but the Nyquist bin.
pub const SEPARATION_BINS: usize = SEPARATION_N_FFT / 2;
/// Frames per training patch (2.05 s), a multiple of both networks' [`multiple`](SeparationArchitecture::multiple).
pub const SEPARATION_PATCH_FRAMES: usize = 128;

/// Which separation network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SeparationArchitecture {
    UNet,
    UNetBiLstm,
}

impl SeparationArchitecture {
    pub fn name(self) -> &'static str {
        match self {
            Self::UNet => "unet",
            Self::UNetBiLstm => "unet-bilstm",
        }
    }

    /// Input frames and bins must be multiples of this.
    pub fn multiple(self) -> usize {
        match self {
            Self::UNet => UNet::MULTIPLE,
            Self::UNetBiLstm => UNetBiLstm::MULTIPLE,
        }
    }
}

impl fmt::Display for SeparationArchitecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for SeparationArchitecture {
    type Err = ModelError;

    fn from_str(name: &str) -> Result<Self> {
        match name {
            "unet" => Ok(Self::UNet),
            "unet-bilstm" => Ok(Self::UNetBiLstm),
            other => Err(ModelError::UnknownArchitecture(format!(
                "architecture {other:?} (separation models: unet, unet-bilstm)"
            ))),
        }
    }
}

/// How logits become masks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MaskActivation {
    /// Across sources: the masks sum to one at every bin.
    Softmax,
    /// Each source on its own.
    Sigmoid,
}

impl FromStr for MaskActivation {
    type Err = ModelError;

    fn from_str(name: &str) -> Result<Self> {
        match name {
            "softmax" => Ok(Self::Softmax),
            "sigmoid" => Ok(Self::Sigmoid),
            other => Err(ModelError::UnknownArchitecture(format!(
                "mask activation {other} (softmax or sigmoid)"
            ))),
        }
    }
}

/// Masks `(batch, sources, frames, bins)` from logits of the same shape.
pub fn masks_from_logits(logits: Tensor<4>, activation: MaskActivation) -> Tensor<4> {
    match activation {
        MaskActivation::Softmax => softmax(logits, 1),
        MaskActivation::Sigmoid => sigmoid(logits),
    }
}

/// The "no new features" penalty: the mean magnitude the stems together hold beyond the
/// mixture's, `relu(Σ_s m_s − 1) · |X|` over masks `(batch, sources, frames, bins)` and
/// mixture magnitudes `(batch, 1, frames, bins)`. Softmax masks never pay it (they sum to
/// one); independent sigmoid masks can hand one bin's energy to several sources.
pub fn new_energy_penalty(masks: Tensor<4>, mixture: Tensor<4>) -> Tensor<1> {
    let excess = burn::tensor::activation::relu(masks.sum_dim(1).sub_scalar(1.0));
    (excess * mixture).mean()
}

/// Either network, as one module type.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum SeparationNetwork {
    UNet(UNet),
    UNetBiLstm(UNetBiLstm),
}

impl SeparationNetwork {
    pub fn new(architecture: SeparationArchitecture, sources: usize, device: &Device) -> Self {
        match architecture {
            SeparationArchitecture::UNet => Self::UNet(UNet::new(sources, device)),
            SeparationArchitecture::UNetBiLstm => {
                Self::UNetBiLstm(UNetBiLstm::new(sources, SEPARATION_BINS, device))
            }
        }
    }

    pub fn architecture(&self) -> SeparationArchitecture {
        match self {
            Self::UNet(_) => SeparationArchitecture::UNet,
            Self::UNetBiLstm(_) => SeparationArchitecture::UNetBiLstm,
        }
    }

    /// Mask logits `(batch, sources, frames, bins)` of `log(1 + |X|)` `(batch, 1, frames, bins)`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        match self {
            Self::UNet(net) => net.forward(input),
            Self::UNetBiLstm(net) => net.forward(input),
        }
    }
}

/// A trained network with what it separates, ready to run on spectrograms of any length.
#[derive(Debug, Clone)]
pub struct SeparationModel {
    network: SeparationNetwork,
    sources: Vec<String>,
    activation: MaskActivation,
    device: Device,
    /// The native path, for the U-Net, unless burn was asked for.
    native: Option<Arc<NativeUNet>>,
}

/// Frames per inference window, and frames at each side of a window whose masks are dropped
/// (the next window covers them with more context), except at the file's edges.
const WINDOW_FRAMES: usize = 512;
const WINDOW_MARGIN: usize = 64;

impl SeparationModel {
    /// Wraps a network for inference on the default device (running statistics, no dropout).
    pub fn new(
        network: SeparationNetwork,
        sources: Vec<String>,
        activation: MaskActivation,
    ) -> Self {
        let device = default_device();
        let network = network.valid().to_device(&device);
        let native = match &network {
            // Weights that cannot be read back fall back to burn, which reads them the same way.
            SeparationNetwork::UNet(net) => NativeUNet::new(net).ok().map(Arc::new),
            SeparationNetwork::UNetBiLstm(_) => None,
        };
        Self {
            network,
            sources,
            activation,
            device,
            native,
        }
    }

    /// The same model computed by `engine`: [`Engine::Native`] (the U-Net's default) or
    /// [`Engine::Burn`]; the U-Net + BiLSTM runs on burn only.
    pub fn with_engine(mut self, engine: Engine) -> Result<Self> {
        self.native = match (engine, &self.network) {
            (Engine::Burn, _) => None,
            (Engine::Native, SeparationNetwork::UNet(net)) => Some(Arc::new(NativeUNet::new(net)?)),
            (engine, network) => {
                return Err(ModelError::UnsupportedEngine {
                    engine: engine.name(),
                    architecture: network.architecture().name(),
                    runs: "the U-Net",
                })
            }
        };
        Ok(self)
    }

    /// The engine [`masks`](Self::masks) uses.
    pub fn engine(&self) -> Engine {
        match self.native {
            Some(_) => Engine::Native,
            None => Engine::Burn,
        }
    }

    pub fn network(&self) -> &SeparationNetwork {
        &self.network
    }

    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    pub fn activation(&self) -> MaskActivation {
        self.activation
    }

    /// One mask per source, each `frames × (SEPARATION_BINS + 1)` row-major, for the
    /// magnitude spectrogram `magnitudes` (`frames × (SEPARATION_BINS + 1)`, Nyquist bin last).
    ///
    /// Long inputs run in windows of 512 frames overlapping by 2 × 64, so memory stays flat.
    pub fn masks(&self, magnitudes: &[f32], frames: usize) -> Result<Vec<Vec<f32>>> {
        let width = SEPARATION_BINS + 1;
        if magnitudes.len() != frames * width {
            return Err(ModelError::FeatureLength {
                expected: frames * width,
                frames,
                bins: width,
                got: magnitudes.len(),
            });
        }
        let mut masks = vec![vec![0f32; frames * width]; self.sources.len()];
        let step = WINDOW_FRAMES - 2 * WINDOW_MARGIN;
        let mut start = 0usize;
        while start < frames {
            // A window covers [start - margin, start - margin + WINDOW_FRAMES); its central
            // frames [start, start + step) are kept.
            let first = start.saturating_sub(WINDOW_MARGIN);
            let window = self.window_masks(magnitudes, frames, first)?;
            let keep_end = (start + step).min(frames);
            for (source, mask) in masks.iter_mut().enumerate() {
                for frame in start..keep_end {
                    let row =
                        &window[source][(frame - first) * SEPARATION_BINS..][..SEPARATION_BINS];
                    let out = &mut mask[frame * width..(frame + 1) * width];
                    out[..SEPARATION_BINS].copy_from_slice(row);
                    out[SEPARATION_BINS] = row[SEPARATION_BINS - 1];
                }
            }
            start = keep_end;
        }
        Ok(masks)
    }

    /// Masks of the window of `WINDOW_FRAMES` frames from `first` (zeros past the end), per
    /// source `WINDOW_FRAMES × SEPARATION_BINS`.
    fn window_masks(
        &self,
        magnitudes: &[f32],
        frames: usize,
        first: usize,
    ) -> Result<Vec<Vec<f32>>> {
        let width = SEPARATION_BINS + 1;
        let mut input = vec![0f32; WINDOW_FRAMES * SEPARATION_BINS];
        for (row, frame) in (first..frames.min(first + WINDOW_FRAMES)).enumerate() {
            let source = &magnitudes[frame * width..frame * width + SEPARATION_BINS];
            for (value, &m) in input[row * SEPARATION_BINS..][..SEPARATION_BINS]
                .iter_mut()
                .zip(source)
            {
                *value = m.ln_1p();
            }
        }
        if let Some(native) = &self.native {
            let bins = SEPARATION_BINS;
            return Ok(native.masks(&input, WINDOW_FRAMES, bins, self.activation));
        }
        let tensor = Tensor::<4>::from_data(
            TensorData::new(input, [1, 1, WINDOW_FRAMES, SEPARATION_BINS]),
            &self.device,
        );
        let masks = masks_from_logits(self.network.forward(tensor), self.activation);
        let values: Vec<f32> = masks
            .into_data()
            .try_into_vec_as::<f32>()
            .map_err(|e| ModelError::TensorData(format!("{e:?}")))?;
        Ok(values
            .chunks_exact(WINDOW_FRAMES * SEPARATION_BINS)
            .map(<[f32]>::to_vec)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainable_param_count;

    fn ramp(frames: usize, bins: usize) -> Tensor<4> {
        let values: Vec<f32> = (0..frames * bins).map(|i| (i % 97) as f32 / 97.0).collect();
        Tensor::<4>::from_data(
            TensorData::new(values, [1, 1, frames, bins]),
            &default_device(),
        )
    }

    #[test]
    fn both_networks_give_one_mask_per_source_at_the_input_size() {
        for architecture in [
            SeparationArchitecture::UNet,
            SeparationArchitecture::UNetBiLstm,
        ] {
            let network = SeparationNetwork::new(architecture, 2, &default_device());
            let logits = network.forward(ramp(SEPARATION_PATCH_FRAMES, SEPARATION_BINS));
            assert_eq!(
                logits.dims(),
                [1, 2, SEPARATION_PATCH_FRAMES, SEPARATION_BINS]
            );
            assert_eq!(SEPARATION_PATCH_FRAMES % architecture.multiple(), 0);
        }
        let unet = SeparationNetwork::new(SeparationArchitecture::UNet, 2, &default_device());
        let params = trainable_param_count(&unet);
        assert!((900_000..1_200_000).contains(&params), "{params}");
    }

    #[test]
    fn only_masks_that_add_up_to_more_than_one_pay_the_new_energy_penalty() {
        let device = default_device();
        let tensor = |values: Vec<f32>, sources: usize| {
            Tensor::<4>::from_data(TensorData::new(values, [1, sources, 1, 2]), &device)
        };
        let mixture = tensor(vec![2.0, 4.0], 1);
        // Bin 0: 0.8 + 0.5 = 1.3, excess 0.3 of 2.0; bin 1: 0.6 + 0.2, none.
        let masks = tensor(vec![0.8, 0.6, 0.5, 0.2], 2);
        let penalty = new_energy_penalty(masks, mixture.clone()).into_scalar::<f32>();
        assert!((penalty - 0.3).abs() < 1e-6, "{penalty}");
        let logits = tensor(vec![3.0, -1.0, 0.5, 2.0], 2);
        let softmax = masks_from_logits(logits, MaskActivation::Softmax);
        assert!(new_energy_penalty(softmax, mixture).into_scalar::<f32>() < 1e-6);
    }

    #[test]
    fn softmax_masks_sum_to_one_and_windows_cover_long_inputs() {
        let network = SeparationNetwork::new(SeparationArchitecture::UNet, 2, &default_device());
        let model = SeparationModel::new(
            network,
            vec!["a".into(), "b".into()],
            MaskActivation::Softmax,
        );
        // Longer than one window, not a multiple of anything.
        let frames = 700;
        let magnitudes: Vec<f32> = (0..frames * (SEPARATION_BINS + 1))
            .map(|i| (i % 13) as f32 * 0.01)
            .collect();
        let masks = model.masks(&magnitudes, frames).unwrap();
        assert_eq!(masks.len(), 2);
        for (a, b) in masks[0].iter().zip(&masks[1]) {
            assert!((a + b - 1.0).abs() < 1e-5);
        }
        assert!(model.masks(&magnitudes[1..], frames).is_err());
    }

    #[test]
    fn saved_models_load_with_their_sources() {
        let dir = tempfile::tempdir().unwrap();
        let network =
            SeparationNetwork::new(SeparationArchitecture::UNetBiLstm, 2, &default_device());
        let model = SeparationModel::new(
            network,
            vec!["bass".into(), "flute".into()],
            MaskActivation::Sigmoid,
        );
        let path = dir.path().join("model.json");
        model.save_with(&path, crate::Precision::F32).unwrap();
        let back = SeparationModel::load(&path).unwrap();
        assert_eq!(back.sources(), ["bass", "flute"]);
        assert_eq!(back.activation(), MaskActivation::Sigmoid);
        let frames = 40;
        let magnitudes = vec![0.5f32; frames * (SEPARATION_BINS + 1)];
        assert_eq!(
            model.masks(&magnitudes, frames).unwrap(),
            back.masks(&magnitudes, frames).unwrap()
        );
        std::fs::write(&path, "{}").unwrap();
        assert!(SeparationModel::load(&path).is_err());
    }
}
