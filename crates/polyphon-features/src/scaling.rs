/// Reference level of a dB conversion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DbReference {
    /// A fixed value (librosa's default `ref=1.0`).
    Fixed(f64),
    /// The maximum of the whole spectrogram (`ref=np.max`).
    Max,
}

/// librosa's `power_to_db` parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DbParams {
    pub reference: DbReference,
    /// Floor applied before the logarithm (`amin`).
    pub amin: f64,
    /// Clamp to this many dB below the maximum (`top_db`), if set.
    pub top_db: Option<f64>,
}

impl Default for DbParams {
    fn default() -> Self {
        Self {
            reference: DbReference::Fixed(1.0),
            amin: 1e-10,
            top_db: Some(80.0),
        }
    }
}

/// Element-wise compression applied to every spectrogram value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scaling {
    Linear,
    /// madmom's `LogarithmicSpectrogram`: `log10(mul * x + add)`.
    Log10 {
        mul: f32,
        add: f32,
    },
    /// librosa's `power_to_db` of power values (`10 log10`).
    PowerDb(DbParams),
}

impl Scaling {
    /// The part of the scaling that depends on one value alone.
    pub(crate) fn apply_pointwise(&self, values: &mut [f32]) {
        match *self {
            Scaling::Linear => {}
            Scaling::Log10 { mul, add } => values
                .iter_mut()
                .for_each(|v| *v = (mul * *v + add).log10()),
            Scaling::PowerDb(params) => values
                .iter_mut()
                .for_each(|v| *v = (10.0 * (*v as f64).max(params.amin).log10()) as f32),
        }
    }

    /// The part that needs the whole spectrogram: given the maximum of the pointwise-scaled
    /// values, returns the offset to subtract and the floor to clamp to after subtracting.
    pub(crate) fn global_adjustment(&self, pointwise_max: f32) -> Option<(f32, Option<f32>)> {
        let Scaling::PowerDb(params) = *self else {
            return None;
        };
        let reference_db = match params.reference {
            DbReference::Fixed(r) => 10.0 * r.abs().max(params.amin).log10(),
            DbReference::Max => pointwise_max as f64,
        };
        let max_after = pointwise_max as f64 - reference_db;
        let floor = params.top_db.map(|top| (max_after - top) as f32);
        Some((reference_db as f32, floor))
    }
}

/// Applies a global dB adjustment (see [`Scaling::global_adjustment`]) in place.
pub(crate) fn adjust(values: &mut [f32], offset: f32, floor: Option<f32>) {
    for v in values.iter_mut() {
        *v -= offset;
        if let Some(floor) = floor {
            *v = v.max(floor);
        }
    }
}

/// librosa's `power_to_db` of a whole array, in place.
pub fn power_to_db(values: &mut [f32], params: DbParams) {
    let scaling = Scaling::PowerDb(params);
    scaling.apply_pointwise(values);
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if let Some((offset, floor)) = scaling.global_adjustment(max) {
        adjust(values, offset, floor);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_to_db_matches_librosa_by_hand() {
        // librosa.power_to_db([1, 10, 1e-12, 100], ref=1.0, amin=1e-10, top_db=80)
        let mut values = [1.0, 10.0, 1e-12, 100.0];
        power_to_db(&mut values, DbParams::default());
        assert_eq!(values, [0.0, 10.0, -60.0, 20.0]);
        let mut values = [1.0, 10.0, 1e-12, 100.0];
        power_to_db(
            &mut values,
            DbParams {
                reference: DbReference::Max,
                top_db: Some(30.0),
                ..Default::default()
            },
        );
        assert_eq!(values, [-20.0, -10.0, -30.0, 0.0]);
    }
}
