//! The spectrogram a user asks for by name and settings, as `polyphon features` takes it.

use polyphon_features::{
    DbParams, DbReference, FeatureSpec, LogFilterbankParams, MelFilterbankParams, MelScale,
    SpectrumKind,
};

use crate::{invalid, Result};

/// Which front-end.
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpectrumKindChoice {
    /// madmom's LogarithmicFilteredSpectrogram (Kelz et al. 2016: 229 bins).
    #[default]
    Logfilt,
    /// librosa's melspectrogram.
    Mel,
    /// Magnitude STFT on madmom's frame grid.
    Stft,
}

/// A front-end and its settings; unset settings take the kind's defaults (see [`spec`](Self::spec)).
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Debug, Clone)]
pub struct SpectrumOptions {
    /// Which front-end.
    #[cfg_attr(feature = "cli", arg(long, value_enum, default_value = "logfilt"))]
    pub kind: SpectrumKindChoice,
    /// Sample rate to resample to [default: 44100 for logfilt/stft, 22050 for mel].
    #[cfg_attr(feature = "cli", arg(long))]
    pub sr: Option<u32>,
    /// Frames per second (logfilt/stft) [default: 100].
    #[cfg_attr(feature = "cli", arg(long, conflicts_with = "hop"))]
    pub fps: Option<f64>,
    /// Hop size in samples (mel) [default: 512].
    #[cfg_attr(feature = "cli", arg(long))]
    pub hop: Option<usize>,
    /// Frame / FFT size in samples [default: 4096 for logfilt/stft, 2048 for mel].
    #[cfg_attr(feature = "cli", arg(long))]
    pub frame_size: Option<usize>,
    /// Bands per octave of the logarithmic filterbank.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 48))]
    pub bands_per_octave: usize,
    /// Lowest frequency in Hz [default: 30 for logfilt, 0 for mel].
    #[cfg_attr(feature = "cli", arg(long))]
    pub fmin: Option<f64>,
    /// Highest frequency in Hz [default: 8000 for logfilt, sr/2 for mel].
    #[cfg_attr(feature = "cli", arg(long))]
    pub fmax: Option<f64>,
    /// Number of mel bands.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 128))]
    pub n_mels: usize,
    /// Use the HTK mel scale instead of Slaney's.
    #[cfg_attr(feature = "cli", arg(long))]
    pub htk: bool,
    /// Mel of magnitudes (librosa power=1) instead of powers (power=2).
    #[cfg_attr(feature = "cli", arg(long))]
    pub magnitude: bool,
    /// Convert mel powers to dB as librosa.power_to_db(S, ref=np.max, top_db=80).
    #[cfg_attr(feature = "cli", arg(long))]
    pub db: bool,
    /// Floor for --db, in dB below the maximum; 0 disables it.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 80.0))]
    pub top_db: f64,
}

impl Default for SpectrumOptions {
    /// The logarithmic filterbank of Kelz et al. 2016, and the CLI's defaults for the rest.
    fn default() -> Self {
        Self {
            kind: SpectrumKindChoice::Logfilt,
            sr: None,
            fps: None,
            hop: None,
            frame_size: None,
            bands_per_octave: 48,
            fmin: None,
            fmax: None,
            n_mels: 128,
            htk: false,
            magnitude: false,
            db: false,
            top_db: 80.0,
        }
    }
}

impl SpectrumOptions {
    /// The front-end these options describe; an error where a setting belongs to another
    /// kind (`--hop` with logfilt, `--fps` with mel).
    pub fn spec(&self) -> Result<FeatureSpec> {
        match self.kind {
            SpectrumKindChoice::Logfilt | SpectrumKindChoice::Stft => self.madmom_spec(),
            SpectrumKindChoice::Mel => self.mel_spec(),
        }
    }

    fn madmom_spec(&self) -> Result<FeatureSpec> {
        if self.hop.is_some() {
            return invalid!("--hop applies to --kind mel; use --fps for logfilt and stft");
        }
        let sr = self.sr.unwrap_or(44_100);
        let frame_size = self.frame_size.unwrap_or(4096);
        let fps = self.fps.unwrap_or(100.0);
        if self.kind == SpectrumKindChoice::Stft {
            return Ok(FeatureSpec::madmom_stft(sr, frame_size, fps)?);
        }
        let params = LogFilterbankParams {
            bands_per_octave: self.bands_per_octave,
            fmin: self.fmin.unwrap_or(30.0),
            fmax: self.fmax.unwrap_or(8000.0),
            ..Default::default()
        };
        Ok(FeatureSpec::madmom_logfilt(sr, frame_size, fps, params)?)
    }

    fn mel_spec(&self) -> Result<FeatureSpec> {
        if self.fps.is_some() {
            return invalid!("--fps applies to logfilt and stft; use --hop for --kind mel");
        }
        let params = MelFilterbankParams {
            n_mels: self.n_mels,
            fmin: self.fmin.unwrap_or(0.0),
            fmax: self.fmax,
            scale: match self.htk {
                true => MelScale::Htk,
                false => MelScale::Slaney,
            },
            slaney_norm: true,
        };
        let power = match self.magnitude {
            true => SpectrumKind::Magnitude,
            false => SpectrumKind::Power,
        };
        let db = self.db.then_some(DbParams {
            reference: DbReference::Max,
            amin: 1e-10,
            top_db: (self.top_db > 0.0).then_some(self.top_db),
        });
        let sr = self.sr.unwrap_or(22_050);
        let (n_fft, hop) = (self.frame_size.unwrap_or(2048), self.hop.unwrap_or(512));
        Ok(FeatureSpec::librosa_mel(sr, n_fft, hop, power, params, db)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kelz_2016_and_settings_of_another_kind_are_refused() {
        let spec = SpectrumOptions::default().spec().unwrap();
        assert_eq!(spec, FeatureSpec::kelz2016());
        let mel = SpectrumOptions {
            kind: SpectrumKindChoice::Mel,
            fps: Some(50.0),
            ..SpectrumOptions::default()
        };
        assert!(mel
            .spec()
            .unwrap_err()
            .to_string()
            .contains("--fps applies"));
        let logfilt = SpectrumOptions {
            hop: Some(256),
            ..SpectrumOptions::default()
        };
        assert!(logfilt
            .spec()
            .unwrap_err()
            .to_string()
            .contains("--hop applies"));
    }
}
