use crate::{error::invalid, Result};

/// A filterbank stored sparsely: each band is a run of weights starting at some FFT bin.
///
/// Applying it costs one multiply-add per non-zero weight (a few thousand per frame for the
/// 229-band log filterbank), far less than a dense (bins × bands) product.
#[derive(Debug, Clone, PartialEq)]
pub struct Filterbank {
    bands: Vec<Band>,
    num_bins: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct Band {
    start: usize,
    weights: Vec<f32>,
}

/// madmom's `LogarithmicFilterbank` parameters (bands per octave, Hz limits, reference).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogFilterbankParams {
    pub bands_per_octave: usize,
    pub fmin: f64,
    pub fmax: f64,
    pub fref: f64,
    /// Scale each filter to unit area.
    pub norm_filters: bool,
    /// Drop filters that would map to an FFT bin already used.
    pub unique_filters: bool,
}

impl Default for LogFilterbankParams {
    /// The parameters of Kelz et al. 2016: 48 bands per octave from 30 Hz to 8 kHz.
    fn default() -> Self {
        Self {
            bands_per_octave: 48,
            fmin: 30.0,
            fmax: 8000.0,
            fref: 440.0,
            norm_filters: true,
            unique_filters: true,
        }
    }
}

/// Mel frequency scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MelScale {
    /// Slaney's Auditory Toolbox scale: linear below 1 kHz, logarithmic above (librosa default).
    #[default]
    Slaney,
    /// HTK: `2595 log10(1 + f / 700)`.
    Htk,
}

/// librosa's `filters.mel` parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MelFilterbankParams {
    pub n_mels: usize,
    pub fmin: f64,
    /// Upper edge in Hz; `None` means half the sample rate.
    pub fmax: Option<f64>,
    pub scale: MelScale,
    /// Slaney area normalisation (`norm='slaney'`); otherwise peak 1.
    pub slaney_norm: bool,
}

impl Default for MelFilterbankParams {
    fn default() -> Self {
        Self {
            n_mels: 128,
            fmin: 0.0,
            fmax: None,
            scale: MelScale::Slaney,
            slaney_norm: true,
        }
    }
}

impl Filterbank {
    /// Number of output bands.
    pub fn num_bands(&self) -> usize {
        self.bands.len()
    }

    /// Number of input FFT bins it expects.
    pub fn num_bins(&self) -> usize {
        self.num_bins
    }

    /// One past the highest FFT bin any band reads: spectra need only be computed this far.
    pub fn bins_used(&self) -> usize {
        self.bands
            .iter()
            .map(|band| band.start + band.weights.len())
            .max()
            .unwrap_or(0)
    }

    /// Writes the band energies of `spectrum` to `out`.
    pub fn apply(&self, spectrum: &[f32], out: &mut [f32]) {
        for (value, band) in out.iter_mut().zip(&self.bands) {
            let bins = &spectrum[band.start..band.start + band.weights.len()];
            let sum: f64 = bins
                .iter()
                .zip(&band.weights)
                .map(|(x, w)| *x as f64 * *w as f64)
                .sum();
            *value = sum as f32;
        }
    }

    /// The dense (bands × bins) weight matrix, for inspection and tests.
    pub fn dense(&self) -> Vec<Vec<f32>> {
        self.bands
            .iter()
            .map(|band| {
                let mut row = vec![0.0; self.num_bins];
                row[band.start..band.start + band.weights.len()].copy_from_slice(&band.weights);
                row
            })
            .collect()
    }

    /// madmom's `LogarithmicFilterbank` over FFT bins centred at `bin_frequencies`:
    /// triangular filters between neighbouring log-spaced centre bins.
    pub fn logarithmic(bin_frequencies: &[f64], params: &LogFilterbankParams) -> Result<Self> {
        let centres = log_frequencies(params);
        let mut bins = nearest_bins(&centres, bin_frequencies);
        if params.unique_filters {
            bins.dedup();
        }
        if bins.len() < 3 {
            return Err(invalid(format!(
                "{} Hz – {} Hz with {} bands per octave gives fewer than 3 filter bins",
                params.fmin, params.fmax, params.bands_per_octave
            )));
        }
        let bands = bins
            .windows(3)
            .map(|w| triangular_band(w[0], w[1], w[2], params.norm_filters))
            .map(|band| truncate_band(band, bin_frequencies.len()))
            .collect();
        Ok(Self {
            bands,
            num_bins: bin_frequencies.len(),
        })
    }

    /// librosa's `filters.mel(sr, n_fft, ...)` over the `n_fft / 2 + 1` rfft bins.
    pub fn mel(sample_rate: u32, n_fft: usize, params: &MelFilterbankParams) -> Result<Self> {
        let nyquist = sample_rate as f64 / 2.0;
        let fmax = params.fmax.unwrap_or(nyquist);
        if params.n_mels == 0 || !(0.0..fmax).contains(&params.fmin) {
            return Err(invalid(format!(
                "mel filterbank needs n_mels > 0 and 0 <= fmin < fmax (got {}, {}, {})",
                params.n_mels, params.fmin, fmax
            )));
        }
        let num_bins = n_fft / 2 + 1;
        let fft_freqs: Vec<f64> = (0..num_bins)
            .map(|k| k as f64 * sample_rate as f64 / n_fft as f64)
            .collect();
        let mel_points = mel_frequencies(params.n_mels + 2, params.fmin, fmax, params.scale);
        let bands = (0..params.n_mels)
            .map(|i| mel_band(&mel_points[i..i + 3], &fft_freqs, params.slaney_norm))
            .collect();
        Ok(Self { bands, num_bins })
    }
}

/// madmom's `log_frequencies`: `fref * 2^(k / bpo)` for every k that lands in [fmin, fmax].
fn log_frequencies(params: &LogFilterbankParams) -> Vec<f64> {
    let bpo = params.bands_per_octave as f64;
    let left = ((params.fmin / params.fref).log2() * bpo).floor() as i64;
    let right = ((params.fmax / params.fref).log2() * bpo).ceil() as i64;
    (left..right)
        .map(|k| params.fref * 2f64.powf(k as f64 / bpo))
        .filter(|&f| f >= params.fmin && f <= params.fmax)
        .collect()
}

/// madmom's `frequencies2bins`: the index of the closest bin, ties going to the upper one.
fn nearest_bins(frequencies: &[f64], bin_frequencies: &[f64]) -> Vec<usize> {
    let last = bin_frequencies.len() - 1;
    frequencies
        .iter()
        .map(|&f| {
            let upper = bin_frequencies.partition_point(|&b| b < f).clamp(1, last);
            let closer_to_lower = f - bin_frequencies[upper - 1] < bin_frequencies[upper] - f;
            upper - usize::from(closer_to_lower)
        })
        .collect()
}

/// madmom's `TriangularFilter`: rising edge `start..centre`, falling edge `centre..stop`
/// (stop excluded), both built like `np.linspace(…, endpoint=False)`.
fn triangular_band(start: usize, centre: usize, stop: usize, normalise: bool) -> Band {
    let (centre, stop) = if stop - start < 2 {
        (start, start + 1)
    } else {
        (centre, stop)
    };
    let rising = centre - start;
    let falling = stop - centre;
    let mut weights: Vec<f64> = (0..rising)
        .map(|i| i as f64 / rising as f64)
        .chain((0..falling).map(|i| 1.0 - i as f64 / falling as f64))
        .collect();
    if normalise {
        let area: f64 = weights.iter().sum();
        weights.iter_mut().for_each(|w| *w /= area);
    }
    Band {
        start,
        weights: weights.into_iter().map(|w| w as f32).collect(),
    }
}

fn truncate_band(mut band: Band, num_bins: usize) -> Band {
    band.weights.truncate(num_bins.saturating_sub(band.start));
    band
}

/// librosa's mel triangle between three mel-spaced frequencies, with Slaney area norm.
fn mel_band(points: &[f64], fft_freqs: &[f64], slaney_norm: bool) -> Band {
    let (lower_edge, centre, upper_edge) = (points[0], points[1], points[2]);
    let norm = if slaney_norm {
        2.0 / (upper_edge - lower_edge)
    } else {
        1.0
    };
    let weights: Vec<f64> = fft_freqs
        .iter()
        .map(|&f| {
            let rising = (f - lower_edge) / (centre - lower_edge);
            let falling = (upper_edge - f) / (upper_edge - centre);
            rising.min(falling).max(0.0) * norm
        })
        .collect();
    let first = weights.iter().position(|&w| w > 0.0).unwrap_or(0);
    let last = weights
        .iter()
        .rposition(|&w| w > 0.0)
        .map_or(first, |i| i + 1);
    Band {
        start: first,
        weights: weights[first..last.max(first)]
            .iter()
            .map(|&w| w as f32)
            .collect(),
    }
}

/// librosa's `mel_frequencies`: `n` points evenly spaced on the mel scale, in Hz.
fn mel_frequencies(n: usize, fmin: f64, fmax: f64, scale: MelScale) -> Vec<f64> {
    let (low, high) = (hz_to_mel(fmin, scale), hz_to_mel(fmax, scale));
    (0..n)
        .map(|i| mel_to_hz(low + (high - low) * i as f64 / (n - 1) as f64, scale))
        .collect()
}

const SLANEY_HZ_PER_MEL: f64 = 200.0 / 3.0;
const SLANEY_BREAK_HZ: f64 = 1000.0;
const SLANEY_BREAK_MEL: f64 = SLANEY_BREAK_HZ / SLANEY_HZ_PER_MEL;

fn slaney_log_step() -> f64 {
    6.4f64.ln() / 27.0
}

/// Hz to mel on the given scale (librosa's `hz_to_mel`).
pub fn hz_to_mel(hz: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 2595.0 * (1.0 + hz / 700.0).log10(),
        MelScale::Slaney if hz >= SLANEY_BREAK_HZ => {
            SLANEY_BREAK_MEL + (hz / SLANEY_BREAK_HZ).ln() / slaney_log_step()
        }
        MelScale::Slaney => hz / SLANEY_HZ_PER_MEL,
    }
}

/// Mel to Hz on the given scale (librosa's `mel_to_hz`).
pub fn mel_to_hz(mel: f64, scale: MelScale) -> f64 {
    match scale {
        MelScale::Htk => 700.0 * (10f64.powf(mel / 2595.0) - 1.0),
        MelScale::Slaney if mel >= SLANEY_BREAK_MEL => {
            SLANEY_BREAK_HZ * (slaney_log_step() * (mel - SLANEY_BREAK_MEL)).exp()
        }
        MelScale::Slaney => mel * SLANEY_HZ_PER_MEL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn madmom_bins(sample_rate: f64, frame_size: usize) -> Vec<f64> {
        (0..frame_size / 2)
            .map(|k| k as f64 * sample_rate / frame_size as f64)
            .collect()
    }

    #[test]
    fn kelz_parameters_give_229_bands() {
        let bank = Filterbank::logarithmic(
            &madmom_bins(44_100.0, 4096),
            &LogFilterbankParams::default(),
        )
        .unwrap();
        assert_eq!(bank.num_bands(), 229);
        assert_eq!(bank.num_bins(), 2048);
    }

    #[test]
    fn normalised_log_filters_have_unit_area() {
        let bank = Filterbank::logarithmic(
            &madmom_bins(44_100.0, 4096),
            &LogFilterbankParams::default(),
        )
        .unwrap();
        for row in bank.dense() {
            let area: f32 = row.iter().sum();
            assert!((area - 1.0).abs() < 1e-5, "area {area}");
        }
    }

    #[test]
    fn slaney_and_htk_scales_invert() {
        for hz in [0.0, 440.0, 1000.0, 8000.0] {
            for scale in [MelScale::Slaney, MelScale::Htk] {
                assert!((mel_to_hz(hz_to_mel(hz, scale), scale) - hz).abs() < 1e-9);
            }
        }
        assert!((hz_to_mel(1000.0, MelScale::Slaney) - 15.0).abs() < 1e-12);
    }

    #[test]
    fn too_narrow_a_log_range_is_an_error() {
        let params = LogFilterbankParams {
            fmin: 100.0,
            fmax: 101.0,
            ..Default::default()
        };
        assert!(Filterbank::logarithmic(&madmom_bins(44_100.0, 4096), &params).is_err());
    }
}
