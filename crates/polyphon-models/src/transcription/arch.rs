use std::fmt;
use std::str::FromStr;

use crate::ModelError;

/// Number of bins of the networks' input: the log-filtered spectrogram of
/// `polyphon_features::FeatureSpec::kelz2016()`.
pub const INPUT_BINS: usize = 229;

/// Name of the front-end every architecture here expects, as written in model sidecars.
pub const FEATURE_SPEC_NAME: &str = "kelz2016";

/// The three seed architectures of Kelz & Widmer 2017.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Architecture {
    /// Table 1: frame classifier on 5-frame context windows, 88 outputs.
    ConvNet,
    /// Table 2: the 8-channel version, 23 outputs (the FLUID experiments).
    SmallConvNet,
    /// Table 3: U-Net on 256 × 256 patches, 88 outputs per frame.
    AuNet,
}

impl Architecture {
    pub const ALL: [Architecture; 3] = [Self::ConvNet, Self::SmallConvNet, Self::AuNet];

    /// Name used on the command line and in sidecars.
    pub fn name(self) -> &'static str {
        match self {
            Self::ConvNet => "convnet",
            Self::SmallConvNet => "small-convnet",
            Self::AuNet => "aunet",
        }
    }

    /// Outputs per frame.
    pub fn num_outputs(self) -> usize {
        match self {
            Self::ConvNet | Self::AuNet => 88,
            Self::SmallConvNet => 23,
        }
    }

    /// MIDI number of output 0: A0 (21) for the 88-key networks, C#3 (49) for the
    /// SmallConvNet's 23 notes around C4.
    pub fn lowest_pitch(self) -> u8 {
        match self {
            Self::ConvNet | Self::AuNet => 21,
            Self::SmallConvNet => 49,
        }
    }

    /// Parameter count as the paper gives it (Lasagne's `count_params`, see
    /// [`crate::lasagne_param_count`]).
    pub fn paper_param_count(self) -> usize {
        match self {
            Self::ConvNet => 1_877_880,
            Self::SmallConvNet => 5_327,
            Self::AuNet => 964_673,
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Architecture {
    type Err = ModelError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let key = s.to_ascii_lowercase().replace('_', "-");
        match key.as_str() {
            "convnet" => Ok(Self::ConvNet),
            "small-convnet" | "smallconvnet" => Ok(Self::SmallConvNet),
            "aunet" => Ok(Self::AuNet),
            _ => Err(ModelError::UnknownArchitecture(format!(
                "architecture {s:?} (expected convnet, small-convnet or aunet)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for arch in Architecture::ALL {
            assert_eq!(arch.name().parse::<Architecture>().unwrap(), arch);
        }
        assert_eq!(
            "SmallConvNet".parse::<Architecture>().unwrap(),
            Architecture::SmallConvNet
        );
        assert!("resnet".parse::<Architecture>().is_err());
    }
}
