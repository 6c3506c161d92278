//! BSS Eval's distortion filters: least-squares FIR filters (L taps per channel pair) that
//! best map the references onto an estimate, from the normal equations `G C = D`.
//!
//! Rows and columns of the Gram matrix G are indexed `(source, channel, lag)`, lag fastest,
//! as museval reshapes its `G`; the entry for `(p, x), (q, y)` (p, q a source channel) is the
//! inner product of reference p delayed by x with reference q delayed by y over the
//! zero-padded length, `c_pq(x - y)`. D holds, for each estimate channel, the inner products
//! of the delayed references with it, `c_{p,e}(x)`. museval adds machine epsilon to G's
//! diagonal and solves with LAPACK's LU (`numpy.linalg.solve`); so does this, with faer's LU
//! with partial pivoting. G depends on the references only, so it is factored once for all
//! estimates (museval refactors it per estimate, same result).
//!
//! v4: the filters are computed once over the whole signal, then used in every frame.

use faer::prelude::Solve;
use faer::Mat;

use super::correlation::correlations;
use super::validate::SeparationError;

/// Filters of one estimate: `all[c]` maps every reference channel onto estimate channel c,
/// `own[c]` only the channels of its own reference source. Each is a flat list of
/// `(source, channel, lag)` coefficients, `own` with the source index dropped.
pub(crate) struct Filters {
    pub all: Vec<Vec<f64>>,
    pub own: Vec<Vec<f64>>,
}

/// The filters of every estimate (`references`, `estimates`: `[source][channel][sample]`,
/// equal shapes, validated).
pub(crate) fn distortion_filters(
    references: &[Vec<Vec<f64>>],
    estimates: &[Vec<Vec<f64>>],
    taps: usize,
) -> Result<Vec<Filters>, SeparationError> {
    let sources = references.len();
    let channels = references[0].len();
    let refs: Vec<&[f64]> = references
        .iter()
        .flat_map(|s| s.iter().map(Vec::as_slice))
        .collect();
    let ests: Vec<&[f64]> = estimates
        .iter()
        .flat_map(|s| s.iter().map(Vec::as_slice))
        .collect();
    let p_count = refs.len(); // sources x channels
    let mut signals = refs.clone();
    signals.extend_from_slice(&ests);

    // reference pairs p <= q for G, then every (reference, estimate channel) pair for D
    let mut pairs = Vec::new();
    for p in 0..p_count {
        for q in p..p_count {
            pairs.push((p, q));
        }
    }
    let d_offset = pairs.len();
    for p in 0..p_count {
        for e in 0..ests.len() {
            pairs.push((p, p_count + e));
        }
    }
    let corr = correlations(&signals, &pairs, taps - 1);
    let pair_index = |p: usize, q: usize| p * p_count - p * (p.saturating_sub(1)) / 2 + (q - p);
    // c_pq(k), either order
    let gram_entry = |p: usize, q: usize, k: isize| {
        if p <= q {
            corr.get(pair_index(p, q), k)
        } else {
            corr.get(pair_index(q, p), -k)
        }
    };
    debug_assert_eq!(pair_index(p_count - 1, p_count - 1), d_offset - 1);

    let eps = f64::EPSILON;
    let n = p_count * taps;
    let gram = Mat::from_fn(n, n, |r, c| {
        let (p, x) = (r / taps, r % taps);
        let (q, y) = (c / taps, c % taps);
        gram_entry(p, q, x as isize - y as isize) + if r == c { eps } else { 0.0 }
    });
    // right-hand sides, one column per (estimate source, estimate channel)
    let d_entry =
        |p: usize, x: usize, e: usize| corr.get(d_offset + p * ests.len() + e, x as isize);
    let mut rhs = Mat::from_fn(n, ests.len(), |r, e| d_entry(r / taps, r % taps, e));
    gram.partial_piv_lu().solve_in_place(rhs.as_mut());

    // own-source systems: the diagonal block of G for one source
    let m = channels * taps;
    let mut filters = Vec::with_capacity(sources);
    for j in 0..sources {
        let block = Mat::from_fn(m, m, |r, c| gram[(j * m + r, j * m + c)]);
        let mut own_rhs = Mat::from_fn(m, channels, |r, c| {
            d_entry(j * channels + r / taps, r % taps, j * channels + c)
        });
        block.partial_piv_lu().solve_in_place(own_rhs.as_mut());
        let all: Vec<Vec<f64>> = (0..channels)
            .map(|c| rhs.col_as_slice(j * channels + c).to_vec())
            .collect();
        let own: Vec<Vec<f64>> = (0..channels)
            .map(|c| own_rhs.col_as_slice(c).to_vec())
            .collect();
        if all.iter().chain(&own).flatten().any(|v| !v.is_finite()) {
            return Err(SeparationError::Singular);
        }
        filters.push(Filters { all, own });
    }
    Ok(filters)
}
