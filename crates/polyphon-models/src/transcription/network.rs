use burn::module::Module;
use burn::tensor::Device;

use super::{AuNet, ConvNet, SmallConvNet};
use crate::transcription::Architecture;

/// Any of the three networks, as one module type (for records, optimisers and training loops
/// that do not care which one they hold).
///
/// The variants differ in size (a few KB of layer descriptors); a network is built once, so
/// boxing them is not worth losing the derived `Module` implementation.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Network {
    ConvNet(ConvNet),
    SmallConvNet(SmallConvNet),
    AuNet(AuNet),
}

impl Network {
    /// A freshly initialised network on `device` (use [`crate::training_device`] to train it).
    pub fn new(architecture: Architecture, device: &Device) -> Self {
        match architecture {
            Architecture::ConvNet => Self::ConvNet(ConvNet::new(device)),
            Architecture::SmallConvNet => Self::SmallConvNet(SmallConvNet::new(device)),
            Architecture::AuNet => Self::AuNet(AuNet::new(device)),
        }
    }

    pub fn architecture(&self) -> Architecture {
        match self {
            Self::ConvNet(_) => Architecture::ConvNet,
            Self::SmallConvNet(_) => Architecture::SmallConvNet,
            Self::AuNet(_) => Architecture::AuNet,
        }
    }
}
