//! What `polyphon eval separation --data` compares: anything that turns a mixture into one
//! waveform per source. A trained model is one more [`Separator`].

use anyhow::{ensure, Context, Result};
use polyphon_decode::stems::ideal_ratio_stems;
use polyphon_features::ComplexStft;

/// One mixture to separate, with what the oracle baselines may look at.
pub struct Track {
    /// The mixture's file, for messages.
    pub name: String,
    pub sample_rate: u32,
    /// Source names (instrument families) in the order the estimates must come in.
    pub sources: Vec<String>,
    /// channel → samples.
    pub mix: Vec<Vec<f32>>,
    /// The true stems, source → channel → samples. Only oracle baselines read them; a real
    /// separator must not.
    pub references: Vec<Vec<Vec<f32>>>,
}

impl Track {
    pub fn samples(&self) -> usize {
        self.mix.first().map_or(0, Vec::len)
    }
}

/// A source separation system.
pub trait Separator {
    /// Short name, the row label of the table (`mixture`, `irm`, a model's name).
    fn name(&self) -> String;

    /// One estimate per source of `track.sources`, in that order: source → channel →
    /// samples, with the mixture's channel count and length.
    fn separate(&self, track: &Track) -> Result<Vec<Vec<Vec<f32>>>>;
}

/// The mixture itself as the estimate of every source: the input SDR the others improve on.
pub struct MixtureAsEstimate;

impl Separator for MixtureAsEstimate {
    fn name(&self) -> String {
        "mixture".into()
    }

    fn separate(&self, track: &Track) -> Result<Vec<Vec<Vec<f32>>>> {
        Ok(vec![track.mix.clone(); track.sources.len()])
    }
}

/// Oracle ideal ratio masks `|S_i| / Σ_j |S_j|` from the true stems, applied to the
/// mixture's STFT: the ceiling of a magnitude-mask separator at this STFT.
pub struct IdealRatioMask {
    stft: ComplexStft,
}

impl IdealRatioMask {
    pub fn new(n_fft: usize, hop: usize) -> Result<Self> {
        Ok(Self {
            stft: ComplexStft::new(n_fft, hop)?,
        })
    }
}

impl Separator for IdealRatioMask {
    fn name(&self) -> String {
        "irm".into()
    }

    fn separate(&self, track: &Track) -> Result<Vec<Vec<Vec<f32>>>> {
        let stems = ideal_ratio_stems(&self.stft, &track.mix, &track.references)
            .with_context(|| format!("{}: ideal ratio masks", track.name))?;
        Ok(stems.into_iter().map(|stem| stem.channels).collect())
    }
}

/// Runs `separator` on `track` and checks the estimates' shape.
pub fn run_separator(separator: &dyn Separator, track: &Track) -> Result<Vec<Vec<Vec<f32>>>> {
    let estimates = separator.separate(track)?;
    let (name, file) = (separator.name(), &track.name);
    ensure!(
        estimates.len() == track.sources.len(),
        "{name} gave {} sources for {file}, which has {}",
        estimates.len(),
        track.sources.len()
    );
    for (source, channels) in track.sources.iter().zip(&estimates) {
        ensure!(
            channels.len() == track.mix.len()
                && channels.iter().all(|c| c.len() == track.samples()),
            "{name}'s {source} for {file} is not {} channel(s) of {} samples",
            track.mix.len(),
            track.samples()
        );
    }
    Ok(estimates)
}

/// A trained separation model (`polyphon separate`'s pipeline), its sources reordered to the
/// track's.
pub struct ModelSeparator {
    pub name: String,
    pub model: polyphon_models::separation::SeparationModel,
    /// Wiener iterations, as `separate --wiener`.
    pub wiener: usize,
}

impl Separator for ModelSeparator {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn separate(&self, track: &Track) -> Result<Vec<Vec<Vec<f32>>>> {
        let mut stems = crate::commands::separate::separate_signal(
            &self.model,
            self.wiener,
            &track.mix,
            track.sample_rate,
        )?;
        track
            .sources
            .iter()
            .map(|source| {
                let index = self.model.sources().iter().position(|s| s == source);
                let index = index.with_context(|| {
                    format!("{}: the model does not separate {source}", self.name)
                })?;
                Ok(std::mem::take(&mut stems[index]))
            })
            .collect()
    }
}
