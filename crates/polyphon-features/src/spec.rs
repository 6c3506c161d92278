use polyphon_audio::Downmix;

use crate::{
    error::invalid, DbParams, Filterbank, FrameCount, FrameGrid, LogFilterbankParams,
    MelFilterbankParams, Result, Scaling, SpectrumKind, Stft, Window,
};

/// The three front-ends the command line offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureKind {
    /// Magnitude STFT on madmom's frame grid.
    Stft,
    /// madmom's `LogarithmicFilteredSpectrogram` (Kelz et al. 2016 defaults: 229 bins).
    LogFilt,
    /// librosa's `melspectrogram`.
    Mel,
}

/// Which filterbank, if any, follows the STFT.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FilterbankSpec {
    None,
    Logarithmic(LogFilterbankParams),
    Mel(MelFilterbankParams),
}

/// A complete front-end: every parameter from file to feature matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSpec {
    pub sample_rate: u32,
    pub downmix: Downmix,
    pub grid: FrameGrid,
    pub window: Window,
    pub spectrum: SpectrumKind,
    pub include_nyquist: bool,
    pub filterbank: FilterbankSpec,
    pub scaling: Scaling,
}

impl FeatureSpec {
    /// madmom's magnitude STFT: symmetric Hann, `fps` frames per second, no Nyquist bin.
    pub fn madmom_stft(sample_rate: u32, frame_size: usize, fps: f64) -> Result<Self> {
        if !(fps.is_finite() && fps > 0.0) {
            return Err(invalid(format!("frames per second {fps} must be positive")));
        }
        Ok(Self {
            sample_rate,
            downmix: Downmix::Madmom,
            grid: FrameGrid::new(frame_size, sample_rate as f64 / fps, FrameCount::Madmom)?,
            window: Window::HannSymmetric,
            spectrum: SpectrumKind::Magnitude,
            include_nyquist: false,
            filterbank: FilterbankSpec::None,
            scaling: Scaling::Linear,
        })
    }

    /// madmom's `LogarithmicFilteredSpectrogram` with `log10(1 + x)`.
    pub fn madmom_logfilt(
        sample_rate: u32,
        frame_size: usize,
        fps: f64,
        params: LogFilterbankParams,
    ) -> Result<Self> {
        Ok(Self {
            filterbank: FilterbankSpec::Logarithmic(params),
            scaling: Scaling::Log10 { mul: 1.0, add: 1.0 },
            ..Self::madmom_stft(sample_rate, frame_size, fps)?
        })
    }

    /// The input of Kelz et al. 2016: 44.1 kHz, 4096-sample frames, 100 fps, 48 bands per
    /// octave from 30 Hz to 8 kHz, normalised unique filters, `log10(1 + x)`: 229 bins.
    pub fn kelz2016() -> Self {
        Self::madmom_logfilt(44_100, 4096, 100.0, LogFilterbankParams::default())
            .expect("valid constants")
    }

    /// librosa's `abs(stft(y, n_fft, hop_length))` (periodic Hann, centred frames, zero
    /// padding), Nyquist bin included: the separation models' input and targets.
    pub fn librosa_stft(sample_rate: u32, n_fft: usize, hop: usize) -> Result<Self> {
        Ok(Self {
            sample_rate,
            downmix: Downmix::Mean,
            grid: FrameGrid::new(n_fft, hop as f64, FrameCount::Librosa)?,
            window: Window::HannPeriodic,
            spectrum: SpectrumKind::Magnitude,
            include_nyquist: true,
            filterbank: FilterbankSpec::None,
            scaling: Scaling::Linear,
        })
    }

    /// librosa's `melspectrogram(y, sr, n_fft, hop_length, power=2 or 1)`, optionally in dB.
    pub fn librosa_mel(
        sample_rate: u32,
        n_fft: usize,
        hop: usize,
        power: SpectrumKind,
        params: MelFilterbankParams,
        db: Option<DbParams>,
    ) -> Result<Self> {
        if db.is_some() && power != SpectrumKind::Power {
            return Err(invalid(
                "dB conversion is defined here for power spectra (power=2)",
            ));
        }
        Ok(Self {
            sample_rate,
            downmix: Downmix::Mean,
            grid: FrameGrid::new(n_fft, hop as f64, FrameCount::Librosa)?,
            window: Window::HannPeriodic,
            spectrum: power,
            include_nyquist: true,
            filterbank: FilterbankSpec::Mel(params),
            scaling: db.map_or(Scaling::Linear, Scaling::PowerDb),
        })
    }

    /// Frames per second of the output.
    pub fn fps(&self) -> f64 {
        self.sample_rate as f64 / self.grid.hop
    }

    pub(crate) fn build_stft(&self) -> Stft {
        Stft::new(
            self.grid.frame_size,
            self.window,
            self.spectrum,
            self.include_nyquist,
        )
    }

    pub(crate) fn build_filterbank(&self, stft: &Stft) -> Result<Option<Filterbank>> {
        match &self.filterbank {
            FilterbankSpec::None => Ok(None),
            FilterbankSpec::Logarithmic(params) => Ok(Some(Filterbank::logarithmic(
                &stft.bin_frequencies(self.sample_rate),
                params,
            )?)),
            FilterbankSpec::Mel(params) => {
                if !self.include_nyquist {
                    return Err(invalid("the mel filterbank expects the Nyquist bin"));
                }
                Ok(Some(Filterbank::mel(
                    self.sample_rate,
                    self.grid.frame_size,
                    params,
                )?))
            }
        }
    }
}
