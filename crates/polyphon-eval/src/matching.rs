//! Maximum bipartite matching between reference and estimated events, as
//! `mir_eval.util._bipartite_match` (Hopcroft–Karp, after David Eppstein's PADS code).
//!
//! The number of matched pairs is the same for every maximum matching, but *which* pairs are
//! matched is not, and the average overlap ratio depends on it. So this follows mir_eval
//! step by step: the same greedy start, the same layer order, the same search order through
//! the layers. mir_eval's graph is a Python dictionary, whose iteration order is insertion
//! order; [`HitGraph`] records that order explicitly.

/// Candidate pairs, stored the way mir_eval builds its graph: for every estimate (left
/// vertex) the references (right vertices) it may match, in ascending reference order, and
/// the estimates in the order in which a row-major scan of the hit matrix first meets them.
#[derive(Debug, Clone, Default)]
pub struct HitGraph {
    n_ref: usize,
    /// Estimates with at least one hit, in insertion order.
    estimates: Vec<usize>,
    /// `references[est]`: the references that `est` may match.
    references: Vec<Vec<usize>>,
}

impl HitGraph {
    /// The graph of all pairs `(ref, est)` for which `is_hit(ref, est)` holds, scanned in
    /// row-major order as numpy's `np.where` over an `n_ref × n_est` matrix.
    pub fn from_hits(
        n_ref: usize,
        n_est: usize,
        mut is_hit: impl FnMut(usize, usize) -> bool,
    ) -> Self {
        Self::from_rows(n_ref, n_est, |ref_index| {
            (0..n_est).filter(|&e| is_hit(ref_index, e)).collect()
        })
    }

    /// The same graph from the hits of each reference row, given as ascending estimate
    /// indices; lets a caller skip pairs that cannot hit without scanning them.
    pub fn from_rows(
        n_ref: usize,
        n_est: usize,
        mut row_hits: impl FnMut(usize) -> Vec<usize>,
    ) -> Self {
        let mut graph = HitGraph {
            n_ref,
            estimates: Vec::new(),
            references: vec![Vec::new(); n_est],
        };
        for ref_index in 0..n_ref {
            let row = row_hits(ref_index);
            debug_assert!(row.windows(2).all(|w| w[0] < w[1]), "row must ascend");
            for est_index in row {
                graph.add_hit(ref_index, est_index);
            }
        }
        graph
    }

    fn add_hit(&mut self, ref_index: usize, est_index: usize) {
        if self.references[est_index].is_empty() {
            self.estimates.push(est_index);
        }
        self.references[est_index].push(ref_index);
    }

    /// mir_eval's maximum matching: `(ref, est)` pairs sorted by reference index.
    pub fn maximum_matching(&self) -> Vec<(usize, usize)> {
        let mut matcher = Matcher::new(self);
        matcher.greedy_start();
        while matcher.augment_phase() {}
        matcher.pairs()
    }
}

/// How an estimate was reached while layering: as a free estimate of the first layer, or
/// through a matched reference of the previous layer (`pred` in mir_eval).
#[derive(Debug, Clone, Copy)]
enum Pred {
    FirstLayer,
    Via(usize),
}

struct Matcher<'g> {
    graph: &'g HitGraph,
    /// `match_of_ref[ref]`: the estimate matched to `ref` (`matching` in mir_eval).
    match_of_ref: Vec<Option<usize>>,
    /// Per estimate, its predecessor in the current layering; `None` = not (or no longer) present.
    pred: Vec<Option<Pred>>,
    /// Per reference, the estimates of the previous layer that reach it (`preds`).
    preds: Vec<Option<Vec<usize>>>,
}

impl<'g> Matcher<'g> {
    fn new(graph: &'g HitGraph) -> Self {
        Matcher {
            graph,
            match_of_ref: vec![None; graph.n_ref],
            pred: vec![None; graph.references.len()],
            preds: vec![None; graph.n_ref],
        }
    }

    /// Each estimate, in graph order, takes its first still-free reference.
    fn greedy_start(&mut self) {
        for &est in &self.graph.estimates {
            let free = self.graph.references[est]
                .iter()
                .find(|&&r| self.match_of_ref[r].is_none());
            if let Some(&r) = free {
                self.match_of_ref[r] = Some(est);
            }
        }
    }

    /// One Hopcroft–Karp phase: layer the residual graph from the free estimates, then
    /// augment along vertex-disjoint shortest paths. Returns false when no path was found.
    fn augment_phase(&mut self) -> bool {
        let unmatched = self.build_layers();
        if unmatched.is_empty() {
            return false;
        }
        for reference in unmatched {
            self.augment_from(reference);
        }
        true
    }

    /// Breadth-first layering; returns the free references of the last layer.
    fn build_layers(&mut self) -> Vec<usize> {
        self.preds.iter_mut().for_each(|p| *p = None);
        self.pred.iter_mut().for_each(|p| *p = None);
        for &est in &self.graph.estimates {
            self.pred[est] = Some(Pred::FirstLayer);
        }
        for est in self.match_of_ref.iter().flatten() {
            self.pred[*est] = None;
        }
        let mut layer: Vec<usize> = self
            .graph
            .estimates
            .iter()
            .copied()
            .filter(|&est| self.pred[est].is_some())
            .collect();
        let mut unmatched = Vec::new();
        while !layer.is_empty() && unmatched.is_empty() {
            layer = self.next_layer(&layer, &mut unmatched);
        }
        unmatched
    }

    /// Extends the layering by a layer of references and the estimates matched to them.
    fn next_layer(&mut self, layer: &[usize], unmatched: &mut Vec<usize>) -> Vec<usize> {
        // References reached from this layer, in first-reached order (a dict in mir_eval).
        let mut reached: Vec<(usize, Vec<usize>)> = Vec::new();
        let mut slot_of_ref: Vec<Option<usize>> = vec![None; self.graph.n_ref];
        for &est in layer {
            for &r in &self.graph.references[est] {
                if self.preds[r].is_some() {
                    continue;
                }
                match slot_of_ref[r] {
                    Some(slot) => reached[slot].1.push(est),
                    None => {
                        slot_of_ref[r] = Some(reached.len());
                        reached.push((r, vec![est]));
                    }
                }
            }
        }
        let mut next = Vec::new();
        for (r, from) in reached {
            self.preds[r] = Some(from);
            match self.match_of_ref[r] {
                Some(est) => {
                    next.push(est);
                    self.pred[est] = Some(Pred::Via(r));
                }
                None => unmatched.push(r),
            }
        }
        next
    }

    /// Searches backwards through the layers for an alternating path ending at `reference`
    /// and flips it. Each vertex is visited at most once per phase, so the recursion depth is
    /// bounded by the number of layers.
    fn augment_from(&mut self, reference: usize) -> bool {
        let Some(candidates) = self.preds[reference].take() else {
            return false;
        };
        for est in candidates {
            let Some(pred) = self.pred[est].take() else {
                continue;
            };
            let found = match pred {
                Pred::FirstLayer => true,
                Pred::Via(previous) => self.augment_from(previous),
            };
            if found {
                self.match_of_ref[reference] = Some(est);
                return true;
            }
        }
        false
    }

    fn pairs(&self) -> Vec<(usize, usize)> {
        self.match_of_ref
            .iter()
            .enumerate()
            .filter_map(|(r, est)| est.map(|e| (r, e)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matching(n_ref: usize, n_est: usize, hits: &[(usize, usize)]) -> Vec<(usize, usize)> {
        HitGraph::from_hits(n_ref, n_est, |r, e| hits.contains(&(r, e))).maximum_matching()
    }

    #[test]
    fn empty_graph_matches_nothing() {
        assert!(matching(3, 2, &[]).is_empty());
        assert!(matching(0, 0, &[]).is_empty());
    }

    #[test]
    fn finds_the_augmenting_path_a_greedy_matching_misses() {
        // Estimate 0 may match references 0 and 1, estimate 1 only reference 0. Greedy gives
        // estimate 0 reference 0 and leaves estimate 1 unmatched; the maximum matches both.
        let pairs = matching(2, 2, &[(0, 0), (0, 1), (1, 0)]);
        assert_eq!(pairs, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn long_alternating_chain_is_fully_matched() {
        // est i hits ref i and ref i+1; the greedy start takes (i, i) except the last est,
        // which only hits ref 0, already taken: it needs a path through the whole chain.
        let n = 6;
        let mut hits: Vec<(usize, usize)> = (0..n - 1).flat_map(|i| [(i, i), (i + 1, i)]).collect();
        hits.push((0, n - 1));
        let pairs = matching(n, n, &hits);
        assert_eq!(pairs.len(), n);
    }
}
