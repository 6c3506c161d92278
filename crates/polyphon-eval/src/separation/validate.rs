//! Input checks run before the separation metrics, as `museval.metrics.validate`.
//!
//! museval raises `ValueError` for mismatched shapes, too many sources and all-zero sources;
//! here each is a variant of [`SeparationError`]. Additions: ragged inputs (a nested `Vec`
//! can hold channels of different lengths, an ndarray cannot), non-finite samples (numpy
//! would carry them into NaN scores) and a zero window or hop.

use super::{Side, Signals};

/// museval's `MAX_SOURCES`: more sources than this are refused (the cost grows with the cube
/// of the source count).
pub const MAX_SOURCES: usize = 100;

/// Why a separation cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SeparationError {
    #[error("{side} source {source_index} has {found} channels but source 0 has {expected}")]
    ChannelCount {
        side: Side,
        source_index: usize,
        found: usize,
        expected: usize,
    },
    #[error("{side} source {source_index}, channel {channel}: {found} samples but channel 0 of source 0 has {expected}")]
    RaggedLength {
        side: Side,
        source_index: usize,
        channel: usize,
        found: usize,
        expected: usize,
    },
    #[error("shape mismatch: references are {references:?} (sources, samples, channels) but estimates are {estimates:?}")]
    ShapeMismatch {
        references: (usize, usize, usize),
        estimates: (usize, usize, usize),
    },
    #[error("{count} sources is more than museval's maximum of {MAX_SOURCES}")]
    TooManySources { count: usize },
    #[error("{side} source {source_index} is silent (all zeros); museval refuses it: {why}")]
    SilentSource {
        side: Side,
        source_index: usize,
        why: &'static str,
    },
    #[error("{side} source {source_index}, channel {channel}, sample {sample}: {value} is not a finite number")]
    NonFinite {
        side: Side,
        source_index: usize,
        channel: usize,
        sample: usize,
        value: f64,
    },
    #[error("window and hop must be at least one sample (window {window}, hop {hop})")]
    ZeroWindow { window: usize, hop: usize },
    #[error("the distortion-filter system could not be solved (it gave non-finite filters); the references are too degenerate to evaluate")]
    Singular,
}

/// `(sources, samples, channels)`, museval's layout, of well-formed signals; checks that
/// every source has the same channel count and every channel the same length, and that all
/// samples are finite.
pub fn shape(side: Side, signals: &Signals) -> Result<(usize, usize, usize), SeparationError> {
    let channels = signals.first().map_or(0, Vec::len);
    let samples = signals.first().and_then(|s| s.first()).map_or(0, Vec::len);
    for (source_index, source) in signals.iter().enumerate() {
        if source.len() != channels {
            return Err(SeparationError::ChannelCount {
                side,
                source_index,
                found: source.len(),
                expected: channels,
            });
        }
        for (channel, x) in source.iter().enumerate() {
            if x.len() != samples {
                return Err(SeparationError::RaggedLength {
                    side,
                    source_index,
                    channel,
                    found: x.len(),
                    expected: samples,
                });
            }
            if let Some(sample) = x.iter().position(|v| !v.is_finite()) {
                return Err(SeparationError::NonFinite {
                    side,
                    source_index,
                    channel,
                    sample,
                    value: x[sample],
                });
            }
        }
    }
    Ok((signals.len(), samples, channels))
}

/// `museval.metrics.validate`: equal shapes, at most [`MAX_SOURCES`] sources, no silent
/// reference or estimate. Returns the common shape `(sources, samples, channels)`.
pub fn validate_separation(
    references: &Signals,
    estimates: &Signals,
) -> Result<(usize, usize, usize), SeparationError> {
    let ref_shape = shape(Side::Reference, references)?;
    let est_shape = shape(Side::Estimate, estimates)?;
    if ref_shape != est_shape {
        return Err(SeparationError::ShapeMismatch {
            references: ref_shape,
            estimates: est_shape,
        });
    }
    let (sources, samples, channels) = ref_shape;
    if sources * samples * channels == 0 {
        // museval only warns and returns empty scores
        return Ok(ref_shape);
    }
    if let Some(source_index) = first_silent(references, 0..samples) {
        return Err(SeparationError::SilentSource {
            side: Side::Reference,
            source_index,
            why: "it adds an ambiguity (any number of silent sources could be added)",
        });
    }
    if let Some(source_index) = first_silent(estimates, 0..samples) {
        return Err(SeparationError::SilentSource {
            side: Side::Estimate,
            source_index,
            why: "with every reference non-silent, the system would be underdetermined",
        });
    }
    if sources > MAX_SOURCES {
        return Err(SeparationError::TooManySources { count: sources });
    }
    Ok(ref_shape)
}

/// museval's `_any_source_silent` on the samples in `range`: the first source whose
/// channel *sum* is zero at every sample. (A sum, as museval takes it: a stereo source with
/// one channel the negative of the other counts as silent too.)
pub(crate) fn first_silent(signals: &Signals, range: std::ops::Range<usize>) -> Option<usize> {
    signals.iter().position(|source| {
        range
            .clone()
            .all(|n| source.iter().map(|channel| channel[n]).sum::<f64>() == 0.0)
    })
}
