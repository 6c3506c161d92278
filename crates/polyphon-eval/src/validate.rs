//! Input checks run before every metric, as mir_eval's `validate` functions.
//!
//! mir_eval raises `ValueError` for malformed annotations; here each check is a variant of
//! [`ValidationError`]. Like mir_eval, empty inputs are valid (the metrics then score 0).
//! One addition: NaN and infinite values are rejected, where numpy's comparisons would let
//! them slip through.

/// Which side of an evaluation a bad value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Reference,
    Estimate,
}

impl std::fmt::Display for Side {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Side::Reference => "reference",
            Side::Estimate => "estimate",
        })
    }
}

/// Why an annotation cannot be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    #[error("{side}: {what} have {left} entries but {right_what} have {right}")]
    LengthMismatch {
        side: Side,
        what: &'static str,
        left: usize,
        right_what: &'static str,
        right: usize,
    },
    #[error("{side} note {index}: time {value} is not a finite number")]
    NonFiniteTime {
        side: Side,
        index: usize,
        value: f64,
    },
    #[error("{side} note {index}: negative time {value} s")]
    NegativeTime {
        side: Side,
        index: usize,
        value: f64,
    },
    #[error("{side} note {index}: offset {offset} s is not after onset {onset} s (durations must be strictly positive)")]
    NonPositiveDuration {
        side: Side,
        index: usize,
        onset: f64,
        offset: f64,
    },
    #[error("{side} note {index}: pitch {value} Hz is not a positive number")]
    NonPositivePitch {
        side: Side,
        index: usize,
        value: f64,
    },
    #[error(
        "{side} frame {index}: time {value} s is not finite or exceeds the maximum of {max} s"
    )]
    TimeOutOfRange {
        side: Side,
        index: usize,
        value: f64,
        max: f64,
    },
    #[error(
        "{side} frame {index}: times must be in increasing order ({value} s follows {previous} s)"
    )]
    DecreasingTime {
        side: Side,
        index: usize,
        value: f64,
        previous: f64,
    },
    #[error(
        "{side} frame {index}: frequency {value} Hz outside mir_eval.multipitch's range {min}..={max} Hz"
    )]
    FrequencyOutOfRange {
        side: Side,
        index: usize,
        value: f64,
        min: f64,
        max: f64,
    },
    #[error(
        "{side} note {index}: offset {offset} s is past the {max} s that frame-level scores accept"
    )]
    NoteTooLate {
        side: Side,
        index: usize,
        offset: f64,
        max: f64,
    },
    #[error("{side} note {index}: MIDI pitch {pitch} ({hz:.2} Hz) is outside the {min}..={max} Hz that frame-level scores accept (MIDI 16..=111)")]
    PitchOutOfFrameRange {
        side: Side,
        index: usize,
        pitch: f64,
        hz: f64,
        min: f64,
        max: f64,
    },
}

/// Checks one note list as `mir_eval.transcription.validate` does: one pitch per interval,
/// times non-negative, offsets strictly after onsets, pitches (Hz) positive.
pub fn validate_notes(
    side: Side,
    intervals: &[[f64; 2]],
    pitches: &[f64],
) -> Result<(), ValidationError> {
    validate_intervals(side, intervals)?;
    check_lengths(side, "intervals", intervals.len(), "pitches", pitches.len())?;
    for (index, &value) in pitches.iter().enumerate() {
        if !(value.is_finite() && value > 0.0) {
            return Err(ValidationError::NonPositivePitch { side, index, value });
        }
    }
    Ok(())
}

/// Checks intervals as `mir_eval.util.validate_intervals`: non-negative times and strictly
/// positive durations.
pub fn validate_intervals(side: Side, intervals: &[[f64; 2]]) -> Result<(), ValidationError> {
    for (index, &[onset, offset]) in intervals.iter().enumerate() {
        for value in [onset, offset] {
            if !value.is_finite() {
                return Err(ValidationError::NonFiniteTime { side, index, value });
            }
            if value < 0.0 {
                return Err(ValidationError::NegativeTime { side, index, value });
            }
        }
        if offset <= onset {
            return Err(ValidationError::NonPositiveDuration {
                side,
                index,
                onset,
                offset,
            });
        }
    }
    Ok(())
}

/// mir_eval.multipitch's limits on time stamps and frequencies.
pub const MULTIPITCH_MAX_TIME: f64 = 30000.0;
pub const MULTIPITCH_MIN_FREQ: f64 = 20.0;
pub const MULTIPITCH_MAX_FREQ: f64 = 5000.0;

/// Checks a multi-pitch time series as `mir_eval.multipitch.validate`: times at most
/// 30000 s and non-decreasing, one frequency list per time, every frequency within
/// 20..=5000 Hz.
pub fn validate_multipitch(
    side: Side,
    times: &[f64],
    frequencies: &[Vec<f64>],
) -> Result<(), ValidationError> {
    validate_frame_times(side, times)?;
    check_lengths(
        side,
        "times",
        times.len(),
        "frequency lists",
        frequencies.len(),
    )?;
    for (index, frame) in frequencies.iter().enumerate() {
        for &value in frame {
            if !(MULTIPITCH_MIN_FREQ..=MULTIPITCH_MAX_FREQ).contains(&value) {
                return Err(ValidationError::FrequencyOutOfRange {
                    side,
                    index,
                    value,
                    min: MULTIPITCH_MIN_FREQ,
                    max: MULTIPITCH_MAX_FREQ,
                });
            }
        }
    }
    Ok(())
}

fn validate_frame_times(side: Side, times: &[f64]) -> Result<(), ValidationError> {
    for (index, &value) in times.iter().enumerate() {
        if !value.is_finite() || value > MULTIPITCH_MAX_TIME {
            return Err(ValidationError::TimeOutOfRange {
                side,
                index,
                value,
                max: MULTIPITCH_MAX_TIME,
            });
        }
    }
    for (index, pair) in times.windows(2).enumerate() {
        if pair[1] < pair[0] {
            return Err(ValidationError::DecreasingTime {
                side,
                index: index + 1,
                value: pair[1],
                previous: pair[0],
            });
        }
    }
    Ok(())
}

fn check_lengths(
    side: Side,
    what: &'static str,
    left: usize,
    right_what: &'static str,
    right: usize,
) -> Result<(), ValidationError> {
    if left == right {
        Ok(())
    } else {
        Err(ValidationError::LengthMismatch {
            side,
            what,
            left,
            right_what,
            right,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_empty_and_well_formed_notes() {
        assert!(validate_notes(Side::Reference, &[], &[]).is_ok());
        assert!(validate_notes(Side::Estimate, &[[0.0, 0.5]], &[440.0]).is_ok());
    }

    #[test]
    fn rejects_what_mir_eval_rejects() {
        let bad = |intervals: &[[f64; 2]], pitches: &[f64]| {
            validate_notes(Side::Estimate, intervals, pitches).unwrap_err()
        };
        assert!(matches!(
            bad(&[[-0.1, 0.5]], &[440.0]),
            ValidationError::NegativeTime { .. }
        ));
        assert!(matches!(
            bad(&[[0.5, 0.5]], &[440.0]),
            ValidationError::NonPositiveDuration { .. }
        ));
        assert!(matches!(
            bad(&[[0.5, 0.4]], &[440.0]),
            ValidationError::NonPositiveDuration { .. }
        ));
        assert!(matches!(
            bad(&[[0.0, 0.4]], &[0.0]),
            ValidationError::NonPositivePitch { .. }
        ));
        assert!(matches!(
            bad(&[[0.0, 0.4]], &[f64::NAN]),
            ValidationError::NonPositivePitch { .. }
        ));
        assert!(matches!(
            bad(&[[0.0, 0.4]], &[]),
            ValidationError::LengthMismatch { .. }
        ));
        assert!(matches!(
            bad(&[[f64::NAN, 0.4]], &[440.0]),
            ValidationError::NonFiniteTime { .. }
        ));
    }

    #[test]
    fn multipitch_limits_follow_mir_eval() {
        let ok = validate_multipitch(Side::Reference, &[0.0, 0.01], &[vec![20.0], vec![5000.0]]);
        assert!(ok.is_ok());
        let low = validate_multipitch(Side::Reference, &[0.0], &[vec![19.9]]);
        assert!(matches!(
            low,
            Err(ValidationError::FrequencyOutOfRange { .. })
        ));
        let order = validate_multipitch(Side::Estimate, &[0.1, 0.0], &[vec![], vec![]]);
        assert!(matches!(order, Err(ValidationError::DecreasingTime { .. })));
        let long = validate_multipitch(Side::Estimate, &[30000.5], &[vec![]]);
        assert!(matches!(long, Err(ValidationError::TimeOutOfRange { .. })));
        let shape = validate_multipitch(Side::Estimate, &[0.0], &[]);
        assert!(matches!(shape, Err(ValidationError::LengthMismatch { .. })));
    }
}
