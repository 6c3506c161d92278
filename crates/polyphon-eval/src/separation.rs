//! Source-separation metrics equal to museval 0.4.1's BSS Eval v4 (SDR, ISR, SIR, SAR), and
//! SI-SDR.
//!
//! [`evaluate`] is `museval.evaluate(references, estimates, win, hop, mode="v4",
//! padding=True)`: the estimates are zero-padded or truncated to the references' length,
//! [`validate_separation`] runs, then
//!
//! 1. the distortion filters (512 taps for every pair of channels) that best map the
//!    references onto each estimate are solved for **once over the whole signal** (v4; v3
//!    solved them anew in every frame), both onto all references and onto the estimate's own
//!    reference only;
//! 2. the signal is cut into frames (`window` samples every `hop`; a trailing part shorter
//!    than a window belongs to no frame; a signal shorter than a window is one frame), and in
//!    each frame the estimate is split into the filtered reference, spatial distortion,
//!    interference and artifacts, whose energy ratios are the four metrics (see
//!    [`frames`](self::frames) for the formulas);
//! 3. a frame in which any reference or any estimate is silent (every sample's channel sum
//!    zero) scores NaN for every source.
//!
//! museval reports the median over frames ignoring NaN (`np.nanmedian`), here
//! [`nanmedian`] and [`evaluate_separation`], which uses 1 s windows and hops (museval's
//! default `win=1.0, hop=1.0` seconds) and adds [`si_sdr()`] over the whole signal.
//!
//! Sources are given planar, `[source][channel][sample]` (museval's arrays are
//! `(source, sample, channel)`); source j of the estimates is scored against source j of
//! the references (no permutation search, as `evaluate`).

mod correlation;
mod filters;
mod frames;
mod si_sdr;
mod validate;

pub use self::si_sdr::{si_sdr, si_sdr_channel};
pub use self::validate::{validate_separation, SeparationError, MAX_SOURCES};
pub use crate::validate::Side;

use std::borrow::Cow;

use self::frames::FrameScorer;
use self::validate::first_silent;

/// Sources, `[source][channel][sample]`.
pub type Signals = [Vec<Vec<f64>>];

/// museval's `filters_len`: taps of every distortion filter.
pub const FILTER_TAPS: usize = 512;

/// Framewise scores of one source, dB, one value per frame (NaN where the frame is silent).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceFrames {
    pub sdr: Vec<f64>,
    pub isr: Vec<f64>,
    pub sir: Vec<f64>,
    pub sar: Vec<f64>,
}

/// One source's scores as museval reports them (median over frames) plus SI-SDR, dB.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeparationScores {
    pub sdr: f64,
    pub isr: f64,
    pub sir: f64,
    pub sar: f64,
    pub si_sdr: f64,
}

/// Framewise scores and their summary for one source.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceEvaluation {
    pub frames: SourceFrames,
    pub scores: SeparationScores,
}

/// museval's `Framing`: the sample ranges of the frames.
pub fn frame_ranges(samples: usize, window: usize, hop: usize) -> Vec<std::ops::Range<usize>> {
    if window < samples {
        let count = (samples - window + hop) / hop;
        (0..count)
            .map(|t| t * hop..(t * hop + window).min(samples))
            .collect()
    } else {
        std::iter::once(0..samples).collect()
    }
}

/// `museval.metrics.bss_eval` as `museval.evaluate` calls it for v4: no permutation search,
/// 512-tap filters computed over the whole signal, `bss_eval_images` criteria. References
/// and estimates must have the same shape. `window` and `hop` are in samples.
pub fn bss_eval_v4(
    references: &Signals,
    estimates: &Signals,
    window: usize,
    hop: usize,
) -> Result<Vec<SourceFrames>, SeparationError> {
    if window == 0 || hop == 0 {
        return Err(SeparationError::ZeroWindow { window, hop });
    }
    let (sources, samples, channels) = validate_separation(references, estimates)?;
    if sources * samples * channels == 0 {
        return Ok(vec![SourceFrames::default(); sources]);
    }
    let filters = filters::distortion_filters(references, estimates, FILTER_TAPS)?;
    let mut scorer = FrameScorer::new(&filters, channels, FILTER_TAPS);
    let mut out = vec![SourceFrames::default(); sources];
    for range in frame_ranges(samples, window, hop) {
        let silent = first_silent(references, range.clone()).is_some()
            || first_silent(estimates, range.clone()).is_some();
        if silent {
            for frames in &mut out {
                frames.sdr.push(f64::NAN);
                frames.isr.push(f64::NAN);
                frames.sir.push(f64::NAN);
                frames.sar.push(f64::NAN);
            }
            continue;
        }
        for (frames, s) in out
            .iter_mut()
            .zip(scorer.score(references, estimates, range))
        {
            frames.sdr.push(s.sdr);
            frames.isr.push(s.isr);
            frames.sir.push(s.sir);
            frames.sar.push(s.sar);
        }
    }
    Ok(out)
}

/// museval's `pad_or_truncate`: the estimates cut or zero-padded at the end to the
/// references' length (the length of their first channel).
pub fn pad_or_truncate(references: &Signals, estimates: &Signals) -> Vec<Vec<Vec<f64>>> {
    let samples = references
        .first()
        .and_then(|s| s.first())
        .map_or(0, Vec::len);
    estimates
        .iter()
        .map(|source| {
            source
                .iter()
                .map(|x| {
                    let mut x = x.clone();
                    x.resize(samples, 0.0);
                    x
                })
                .collect()
        })
        .collect()
}

/// `museval.evaluate(references, estimates, win=window, hop=hop, mode="v4", padding=True)`:
/// [`pad_or_truncate`], then [`bss_eval_v4`].
pub fn evaluate(
    references: &Signals,
    estimates: &Signals,
    window: usize,
    hop: usize,
) -> Result<Vec<SourceFrames>, SeparationError> {
    let estimates = padded(references, estimates)?;
    bss_eval_v4(references, &estimates, window, hop)
}

/// What museval reports for a track at `sample_rate` (1 s windows and hops, median over
/// frames ignoring NaN), plus SI-SDR over the whole (padded) signal, per source.
pub fn evaluate_separation(
    references: &Signals,
    estimates: &Signals,
    sample_rate: usize,
) -> Result<Vec<SourceEvaluation>, SeparationError> {
    let estimates = padded(references, estimates)?;
    let frames = bss_eval_v4(references, &estimates, sample_rate, sample_rate)?;
    Ok(frames
        .into_iter()
        .enumerate()
        .map(|(j, frames)| SourceEvaluation {
            scores: SeparationScores {
                sdr: nanmedian(&frames.sdr),
                isr: nanmedian(&frames.isr),
                sir: nanmedian(&frames.sir),
                sar: nanmedian(&frames.sar),
                si_sdr: si_sdr(&references[j], &estimates[j]),
            },
            frames,
        })
        .collect())
}

/// The estimates at the references' length: borrowed when they already are (long inputs are
/// not copied), else [`pad_or_truncate`]d.
fn padded<'a>(
    references: &Signals,
    estimates: &'a Signals,
) -> Result<Cow<'a, Signals>, SeparationError> {
    let (_, samples, _) = validate::shape(Side::Estimate, estimates)?;
    let wanted = references
        .first()
        .and_then(|s| s.first())
        .map_or(0, Vec::len);
    Ok(if samples == wanted {
        Cow::Borrowed(estimates)
    } else {
        Cow::Owned(pad_or_truncate(references, estimates))
    })
}

/// `np.nanmedian`: the median of the values that are not NaN (the mean of the middle two for
/// an even count); NaN when every value is NaN or there are none.
pub fn nanmedian(values: &[f64]) -> f64 {
    let mut kept: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if kept.is_empty() {
        return f64::NAN;
    }
    kept.sort_by(f64::total_cmp);
    let mid = kept.len() / 2;
    if kept.len() % 2 == 1 {
        kept[mid]
    } else {
        (kept[mid - 1] + kept[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_follows_museval() {
        assert_eq!(frame_ranges(10, 4, 4), vec![0..4, 4..8]);
        assert_eq!(frame_ranges(12, 4, 4), vec![0..4, 4..8, 8..12]);
        assert_eq!(frame_ranges(10, 4, 3), vec![0..4, 3..7, 6..10]);
        assert_eq!(
            frame_ranges(3, 4, 4),
            std::iter::once(0..3).collect::<Vec<_>>()
        );
        assert_eq!(
            frame_ranges(4, 4, 4),
            std::iter::once(0..4).collect::<Vec<_>>()
        );
    }

    #[test]
    fn nanmedian_skips_nan() {
        assert_eq!(nanmedian(&[3.0, f64::NAN, 1.0, 2.0]), 2.0);
        assert_eq!(nanmedian(&[4.0, 1.0, f64::NAN, 2.0, 3.0]), 2.5);
        assert!(nanmedian(&[f64::NAN]).is_nan());
        assert!(nanmedian(&[]).is_nan());
        assert_eq!(nanmedian(&[f64::INFINITY, 1.0, 2.0]), 2.0);
    }

    fn noise(seed: u64, n: usize) -> Vec<f64> {
        let mut state = seed;
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    }

    #[test]
    fn checks_before_scoring() {
        let refs = vec![vec![noise(1, 2000)], vec![noise(2, 2000)]];
        let silent = vec![vec![noise(3, 2000)], vec![vec![0.0; 2000]]];
        assert!(matches!(
            bss_eval_v4(&refs, &silent, 1000, 1000),
            Err(SeparationError::SilentSource {
                side: Side::Estimate,
                source_index: 1,
                ..
            })
        ));
        assert!(matches!(
            bss_eval_v4(&silent, &refs, 1000, 1000),
            Err(SeparationError::SilentSource {
                side: Side::Reference,
                ..
            })
        ));
        let short = vec![vec![noise(3, 1999)], vec![noise(4, 1999)]];
        assert!(matches!(
            bss_eval_v4(&refs, &short, 1000, 1000),
            Err(SeparationError::ShapeMismatch { .. })
        ));
        // evaluate pads, as museval does
        assert_eq!(evaluate(&refs, &short, 1000, 1000).unwrap()[0].sdr.len(), 2);
        let mut bad = refs.clone();
        bad[1][0][5] = f64::NAN;
        assert!(matches!(
            bss_eval_v4(&refs, &bad, 1000, 1000),
            Err(SeparationError::NonFinite { sample: 5, .. })
        ));
        assert!(matches!(
            bss_eval_v4(&refs, &refs, 0, 1000),
            Err(SeparationError::ZeroWindow { .. })
        ));
    }

    #[test]
    fn perfect_and_swapped_estimates() {
        let refs = vec![vec![noise(1, 3000)], vec![noise(2, 3000)]];
        let perfect = bss_eval_v4(&refs, &refs, 1000, 1000).unwrap();
        assert!(perfect[0].sdr.iter().all(|&v| v > 100.0), "{perfect:?}");
        let swapped = vec![refs[1].clone(), refs[0].clone()];
        let bad = bss_eval_v4(&refs, &swapped, 1000, 1000).unwrap();
        assert!(bad[0].sir.iter().all(|&v| v < 0.0), "{bad:?}");
    }
}
