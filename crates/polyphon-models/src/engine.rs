//! Which computation runs a network in inference.

/// What computes a network's outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// burn's forward pass on the model's device (every architecture).
    Burn,
    /// The native paths: folded batch norm, weights laid out once for `gemm`, activations
    /// fused (the transcription ConvNet, with shared convolutions, and the separation U-Net);
    /// the same outputs to within 1e-4.
    Native,
    /// ONNX Runtime, loaded at run time (crate feature `ort`; see
    /// `transcription::onnx`), for the transcription ConvNet; the same probabilities to
    /// within 1e-4.
    Ort,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Self::Burn => "burn",
            Self::Native => "native",
            Self::Ort => "ort",
        }
    }
}
