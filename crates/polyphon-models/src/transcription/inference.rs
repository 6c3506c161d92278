//! Frame-wise note probabilities from a feature matrix.

use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor, TensorData};
use polyphon_features::ContextWindows;

use std::sync::Arc;

use super::native::NativeConvNet;
use super::patches::patches;
use super::{CONTEXT_FRAMES, PATCH_BINS, PATCH_FRAMES};
pub use crate::engine::Engine;
use crate::fold::values;
use crate::transcription::{Architecture, Network, INPUT_BINS};
use crate::{default_device, ModelError, Result};

/// Frames per network call unless [`TranscriptionModel::with_chunk_frames`] says otherwise.
/// Memory is bounded by the chunk: about 150 KB of activations per frame for the ConvNet, and
/// about 25 MB per 256-frame patch for the AUNet.
pub const DEFAULT_CHUNK_FRAMES: usize = 512;

/// The computation behind [`TranscriptionModel::predict`] when it is not burn's.
#[derive(Debug, Clone)]
enum FastPath {
    Native(Arc<NativeConvNet>),
    #[cfg(feature = "ort")]
    Ort(Arc<super::onnx::OrtConvNet>),
}

/// A network in inference mode (batch norm on running statistics, no dropout) with the
/// windowing its input needs.
#[derive(Debug, Clone)]
pub struct TranscriptionModel {
    network: Network,
    device: Device,
    chunk_frames: usize,
    /// The native or ONNX Runtime path, for the architectures that have one, unless burn was
    /// asked for.
    fast: Option<FastPath>,
}

impl TranscriptionModel {
    /// Wraps a network (trained or not) for inference, on the plain (non-autodiff) device of
    /// its parameters; the ConvNet runs on the native engine.
    pub fn new(network: Network) -> Self {
        let network = network.valid();
        let device = network
            .devices()
            .into_iter()
            .next()
            .unwrap_or_else(default_device);
        let fast = match &network {
            // Weights that cannot be read back fall back to burn, which reads them the same way.
            Network::ConvNet(net) => NativeConvNet::new(net)
                .ok()
                .map(|native| FastPath::Native(Arc::new(native))),
            _ => None,
        };
        Self {
            network,
            device,
            chunk_frames: DEFAULT_CHUNK_FRAMES,
            fast,
        }
    }

    /// The same model computed by `engine`. The native and ONNX Runtime engines run the
    /// ConvNet only, so asking for them for another architecture is an error; ONNX Runtime
    /// loads from [`onnx::default_library`](super::onnx::default_library).
    pub fn with_engine(mut self, engine: Engine) -> Result<Self> {
        if engine == self.engine() {
            return Ok(self);
        }
        let Network::ConvNet(net) = &self.network else {
            if engine == Engine::Burn {
                return Ok(self);
            }
            return Err(ModelError::UnsupportedEngine {
                engine: engine.name(),
                architecture: self.architecture().name(),
                runs: "the ConvNet",
            });
        };
        self.fast = match engine {
            Engine::Burn => None,
            Engine::Native => Some(FastPath::Native(Arc::new(NativeConvNet::new(net)?))),
            #[cfg(feature = "ort")]
            Engine::Ort => {
                let library = super::onnx::default_library();
                let threads = rayon::current_num_threads();
                let ort = super::onnx::OrtConvNet::new(net, &library, threads)?;
                Some(FastPath::Ort(Arc::new(ort)))
            }
            #[cfg(not(feature = "ort"))]
            Engine::Ort => return Err(ModelError::EngineNotBuilt("ort")),
        };
        Ok(self)
    }

    /// The engine [`predict`](Self::predict) uses.
    pub fn engine(&self) -> Engine {
        match self.fast {
            Some(FastPath::Native(_)) => Engine::Native,
            #[cfg(feature = "ort")]
            Some(FastPath::Ort(_)) => Engine::Ort,
            None => Engine::Burn,
        }
    }

    /// A freshly initialised network on [`default_device`] (useful for tests and benchmarks).
    pub fn untrained(architecture: Architecture) -> Self {
        Self::new(Network::new(architecture, &default_device()))
    }

    /// Frames per network call (at least one AUNet patch is always processed at once).
    pub fn with_chunk_frames(mut self, chunk_frames: usize) -> Self {
        self.chunk_frames = chunk_frames.max(1);
        self
    }

    pub fn architecture(&self) -> Architecture {
        self.network.architecture()
    }

    pub fn num_outputs(&self) -> usize {
        self.architecture().num_outputs()
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Note probabilities `(num_frames, outputs)`, row-major, of a `(num_frames, 229)`
    /// row-major feature matrix (`FeatureSpec::kelz2016()`).
    ///
    /// The ConvNets see each frame with 2 frames of context on each side, the first and last
    /// frames repeated at the edges (as `polyphon_features::stack_context`); the AUNet sees
    /// overlapping 256-frame patches as described in [`crate::patches`].
    pub fn predict(&self, features: &[f32], num_frames: usize) -> Result<Vec<f32>> {
        let expected = num_frames * INPUT_BINS;
        if features.len() != expected {
            return Err(ModelError::FeatureLength {
                expected,
                frames: num_frames,
                bins: INPUT_BINS,
                got: features.len(),
            });
        }
        match (&self.fast, &self.network) {
            (Some(FastPath::Native(native)), _) => Ok(native.predict(features)),
            #[cfg(feature = "ort")]
            (Some(FastPath::Ort(ort)), _) => self.predict_windows(features, |windows, batch| {
                ort.predict_windows(windows, batch)
            }),
            (None, Network::ConvNet(net)) => self.predict_frames(features, |x| net.forward(x)),
            (None, Network::SmallConvNet(net)) => self.predict_frames(features, |x| net.forward(x)),
            (None, Network::AuNet(net)) => {
                self.predict_patches(features, num_frames, |x| net.forward(x))
            }
        }
    }

    /// Context-window networks on burn.
    fn predict_frames(
        &self,
        features: &[f32],
        forward: impl Fn(Tensor<4>) -> Tensor<2>,
    ) -> Result<Vec<f32>> {
        self.predict_windows(features, |windows, batch| {
            let shape = [batch, 1, CONTEXT_FRAMES, INPUT_BINS];
            let data = TensorData::new(windows.to_vec(), shape);
            values(sigmoid(forward(Tensor::<4>::from_data(data, &self.device))))
        })
    }

    /// Context-window networks: windows `(batch, 1, 5, 229)` are built as the rows stream
    /// past and handed to `probabilities`, `chunk_frames` at a time.
    fn predict_windows(
        &self,
        features: &[f32],
        probabilities: impl Fn(&[f32], usize) -> Result<Vec<f32>>,
    ) -> Result<Vec<f32>> {
        let num_frames = features.len() / INPUT_BINS;
        let mut out = Vec::with_capacity(num_frames * self.num_outputs());
        let mut windows = ContextWindows::new(INPUT_BINS, CONTEXT_FRAMES / 2);
        let chunk_len = self.chunk_frames * windows.window_len();
        let mut pending = Vec::with_capacity(chunk_len + windows.window_len());
        let run = |pending: &mut Vec<f32>, out: &mut Vec<f32>| -> Result<()> {
            let batch = pending.len() / (CONTEXT_FRAMES * INPUT_BINS);
            if batch > 0 {
                out.extend(probabilities(pending, batch)?);
            }
            pending.clear();
            Ok(())
        };
        for row in features.chunks_exact(INPUT_BINS) {
            windows.push(row, &mut pending);
            if pending.len() >= chunk_len {
                run(&mut pending, &mut out)?;
            }
        }
        windows.finish(&mut pending);
        run(&mut pending, &mut out)?;
        Ok(out)
    }

    /// Patch networks: zero-padded 256 × 256 patches, several per call.
    fn predict_patches(
        &self,
        features: &[f32],
        num_frames: usize,
        forward: impl Fn(Tensor<4>) -> Tensor<3>,
    ) -> Result<Vec<f32>> {
        let outputs = self.num_outputs();
        let per_call = (self.chunk_frames / PATCH_FRAMES).max(1);
        let mut out = Vec::with_capacity(num_frames * outputs);
        for group in patches(num_frames).chunks(per_call) {
            let mut input = vec![0.0f32; group.len() * PATCH_FRAMES * PATCH_BINS];
            for (patch, slot) in group
                .iter()
                .zip(input.chunks_exact_mut(PATCH_FRAMES * PATCH_BINS))
            {
                let end = (patch.start + PATCH_FRAMES).min(num_frames);
                let rows =
                    features[patch.start * INPUT_BINS..end * INPUT_BINS].chunks_exact(INPUT_BINS);
                for (row, dest) in rows.zip(slot.chunks_exact_mut(PATCH_BINS)) {
                    dest[..INPUT_BINS].copy_from_slice(row);
                }
            }
            let data = TensorData::new(input, [group.len(), 1, PATCH_FRAMES, PATCH_BINS]);
            let probabilities = values(sigmoid(forward(Tensor::from_data(data, &self.device))))?;
            for (patch, result) in group
                .iter()
                .zip(probabilities.chunks_exact(PATCH_FRAMES * outputs))
            {
                let (first, last) = patch.keep;
                out.extend_from_slice(
                    &result[(first - patch.start) * outputs..(last - patch.start) * outputs],
                );
            }
        }
        Ok(out)
    }
}
