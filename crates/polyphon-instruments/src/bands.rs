//! How the instrument front-ends group an STFT's bins into bands: mel or logarithmic.
//!
//! Mel bands (librosa's Slaney scale) are linear below 1 kHz: 128 of them at 16 kHz are 23 Hz
//! apart and 47 Hz wide there, so a bass note's harmonics, 41 to a few hundred Hz apart, fall
//! into a handful of bands, as do a low piano or guitar note's. The logarithmic filterbank
//! (madmom's `LogarithmicFilterbank`, the transcription front-end's) over a 2048-point STFT
//! keeps one 7.8 Hz FFT bin per band below about 270 Hz and 24 bands per octave above: 146
//! bands from 30 Hz to 8 kHz, the low harmonics resolved.

use polyphon_features::{
    DbParams, Extractor, FeatureSpec, FilterbankSpec, LogFilterbankParams, MelFilterbankParams,
    Scaling, SpectrumKind,
};
use serde::{Deserialize, Serialize};

use crate::{InstrumentError, Result};

/// The STFT grid and band count of a front-end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BandGrid {
    pub sample_rate: u32,
    pub n_fft: usize,
    pub hop: usize,
    pub bands: usize,
}

/// See the [module documentation](self). Saved with every model (`"scale"`); models without
/// it are mel models, as every model before this option was.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum BandScale {
    /// librosa's Slaney mel filterbank, area-normalised, from 0 Hz to Nyquist.
    #[default]
    Mel,
    /// madmom's logarithmic filterbank: normalised, unique filters, reference 440 Hz.
    Log {
        bands_per_octave: usize,
        fmin: f64,
        fmax: f64,
    },
}

impl std::str::FromStr for BandScale {
    type Err = String;

    /// `mel`, or `log` ([`BandScale::log`]).
    fn from_str(name: &str) -> std::result::Result<Self, String> {
        match name {
            "mel" => Ok(Self::Mel),
            "log" => Ok(Self::log()),
            other => Err(format!("unknown band scale '{other}' (mel or log)")),
        }
    }
}

impl BandScale {
    /// The logarithmic scale `--bands log` selects: 24 bands per octave, 30 Hz to 8 kHz.
    pub fn log() -> Self {
        Self::Log {
            bands_per_octave: 24,
            fmin: 30.0,
            fmax: 8000.0,
        }
    }

    /// The FFT size each scale is used with: 1024 for mel (the best for the trees when it was
    /// chosen), 2048 for log, whose low bands are single FFT bins and need the finer resolution.
    pub fn n_fft(&self) -> usize {
        match self {
            Self::Mel => 1024,
            Self::Log { .. } => 2048,
        }
    }

    /// The power (or dB, with `db`) band spectrogram on librosa's STFT grid (periodic Hann,
    /// centred frames, Nyquist bin). `grid.bands` is the mel band count; a log scale's
    /// count follows from its parameters and is checked by [`Self::extractor`].
    fn spec(&self, grid: &BandGrid, db: Option<DbParams>) -> Result<FeatureSpec> {
        let BandGrid {
            sample_rate,
            n_fft,
            hop,
            bands,
        } = *grid;
        let spec = match *self {
            Self::Mel => {
                let mel = MelFilterbankParams {
                    n_mels: bands,
                    ..MelFilterbankParams::default()
                };
                FeatureSpec::librosa_mel(sample_rate, n_fft, hop, SpectrumKind::Power, mel, db)?
            }
            Self::Log {
                bands_per_octave,
                fmin,
                fmax,
            } => FeatureSpec {
                spectrum: SpectrumKind::Power,
                filterbank: FilterbankSpec::Logarithmic(LogFilterbankParams {
                    bands_per_octave,
                    fmin,
                    fmax,
                    ..LogFilterbankParams::default()
                }),
                scaling: db.map_or(Scaling::Linear, Scaling::PowerDb),
                ..FeatureSpec::librosa_stft(sample_rate, n_fft, hop)?
            },
        };
        Ok(spec)
    }

    /// The extractor of [`Self::spec`], refused when it does not give `bands` bands (a model
    /// file whose front-end was edited, or a log scale given a wrong count).
    pub fn extractor(&self, grid: &BandGrid, db: Option<DbParams>) -> Result<Extractor> {
        let extractor = Extractor::new(self.spec(grid, db)?)?;
        if extractor.num_bins() != grid.bands {
            return Err(InstrumentError::Invalid(format!(
                "the {self:?} front-end at n_fft {} gives {} bands, not {}",
                grid.n_fft,
                extractor.num_bins(),
                grid.bands
            )));
        }
        Ok(extractor)
    }

    /// The number of bands at `n_fft` (for a mel scale, `mel_bands`).
    pub fn count(&self, sample_rate: u32, n_fft: usize, mel_bands: usize) -> Result<usize> {
        match self {
            Self::Mel => Ok(mel_bands),
            Self::Log { .. } => {
                let grid = BandGrid {
                    sample_rate,
                    n_fft,
                    hop: n_fft / 4,
                    bands: 0,
                };
                let spec = self.spec(&grid, None)?;
                Ok(Extractor::new(spec)?.num_bins())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_scale_has_146_bands_and_fine_low_bands() {
        let log = BandScale::log();
        assert_eq!(log.count(16_000, 2048, 0).unwrap(), 146);
        assert_eq!(BandScale::Mel.count(16_000, 1024, 128).unwrap(), 128);
        // A wrong count is refused, not silently used.
        let grid = |bands| BandGrid {
            sample_rate: 16_000,
            n_fft: 2048,
            hop: 256,
            bands,
        };
        let err = log.extractor(&grid(128), None).err().unwrap();
        assert!(
            err.to_string().contains("gives 146 bands, not 128"),
            "{err}"
        );
        assert!(log.extractor(&grid(146), None).is_ok());
    }

    #[test]
    fn scales_read_from_json_and_default_to_mel() {
        let log: BandScale = serde_json::from_str(
            r#"{"kind":"log","bands_per_octave":24,"fmin":30.0,"fmax":8000.0}"#,
        )
        .unwrap();
        assert_eq!(log, BandScale::log());
        let text = serde_json::to_string(&BandScale::Mel).unwrap();
        assert_eq!(text, r#"{"kind":"mel"}"#);
    }
}
