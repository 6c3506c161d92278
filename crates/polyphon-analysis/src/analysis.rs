//! The entanglement accumulator: per reference combination, how many frames were transcribed
//! exactly, with notes added, with notes omitted; and whether the training data had it.

use std::collections::HashMap;

use polyphon_core::Note;
use serde::Serialize;

use crate::frames::frame_pairs_from_notes;
use crate::{AnalysisError, Combination};

/// The combinations of the training data's reference frames, with their frame counts. A
/// combination is **shared** when it is in here, **unshared** otherwise.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingSet {
    frames: HashMap<Combination, u64>,
}

impl TrainingSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the reference frames of one training file (silent frames included; silence is
    /// never shared or unshared, see [`Entanglement`]).
    pub fn add_frames(&mut self, frames: &[Combination]) {
        for &frame in frames {
            *self.frames.entry(frame).or_default() += 1;
        }
    }

    /// Training frames whose reference is exactly `combination`.
    pub fn frames_of(&self, combination: Combination) -> u64 {
        self.frames.get(&combination).copied().unwrap_or(0)
    }

    /// Whether a sounding combination occurs in the training data. Silence never does.
    pub fn is_shared(&self, combination: Combination) -> bool {
        !combination.is_empty() && self.frames_of(combination) > 0
    }

    /// Distinct sounding combinations.
    pub fn combinations(&self) -> usize {
        self.frames.keys().filter(|c| !c.is_empty()).count()
    }

    /// Frames with at least one note.
    pub fn sounding_frames(&self) -> u64 {
        self.frames
            .iter()
            .filter(|(c, _)| !c.is_empty())
            .map(|(_, &n)| n)
            .sum()
    }

    /// All frames, silent ones included.
    pub fn frames(&self) -> u64 {
        self.frames.values().sum()
    }
}

impl FromIterator<Combination> for TrainingSet {
    fn from_iter<I: IntoIterator<Item = Combination>>(frames: I) -> Self {
        let mut set = TrainingSet::new();
        for frame in frames {
            *set.frames.entry(frame).or_default() += 1;
        }
        set
    }
}

/// Frame counts of one reference combination (or of a group of them).
///
/// `exact`: the estimate equals the reference. `added`: the estimate has a note the reference
/// lacks. `omitted`: the reference has a note the estimate lacks. A frame can be both added
/// and omitted, so `exact + added + omitted` can exceed `frames`; `exact` frames are neither.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FrameCounts {
    pub frames: u64,
    pub exact: u64,
    pub added: u64,
    pub omitted: u64,
}

impl FrameCounts {
    /// Counts one frame.
    pub fn add(&mut self, reference: Combination, estimate: Combination) {
        self.frames += 1;
        self.exact += u64::from(reference == estimate);
        self.added += u64::from(!estimate.without(reference).is_empty());
        self.omitted += u64::from(!reference.without(estimate).is_empty());
    }

    pub fn merge(&mut self, other: &FrameCounts) {
        self.frames += other.frames;
        self.exact += other.exact;
        self.added += other.added;
        self.omitted += other.omitted;
    }

    /// `exact / frames`; `None` without frames.
    pub fn exact_share(&self) -> Option<f64> {
        self.share(self.exact)
    }

    pub fn added_share(&self) -> Option<f64> {
        self.share(self.added)
    }

    pub fn omitted_share(&self) -> Option<f64> {
        self.share(self.omitted)
    }

    fn share(&self, count: u64) -> Option<f64> {
        (self.frames > 0).then(|| count as f64 / self.frames as f64)
    }
}

/// Which group a reference combination belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// Occurs in the training data's reference frames.
    Shared,
    /// Occurs only in the evaluation data.
    Unshared,
    /// The empty combination: reported on its own, in neither group.
    Silence,
}

/// Accumulates (reference, estimate) frame pairs of an evaluation set against a training set.
///
/// Every frame is filed under its reference combination. Silent reference frames are filed
/// under [`Combination::SILENCE`] and reported as their own group: they are exact when the
/// estimate is silent too and "added" otherwise (nothing can be omitted from silence).
#[derive(Debug, Clone)]
pub struct Entanglement {
    training: TrainingSet,
    counts: HashMap<Combination, FrameCounts>,
}

impl Entanglement {
    pub fn new(training: TrainingSet) -> Self {
        Self {
            training,
            counts: HashMap::new(),
        }
    }

    pub fn training(&self) -> &TrainingSet {
        &self.training
    }

    /// Counts one evaluation frame.
    pub fn add_frame(&mut self, reference: Combination, estimate: Combination) {
        self.counts
            .entry(reference)
            .or_default()
            .add(reference, estimate);
    }

    /// Counts the frames of one evaluation file, paired by index. Both sides must have the same
    /// number of frames (nothing is counted otherwise).
    pub fn add_frames(
        &mut self,
        reference: &[Combination],
        estimate: &[Combination],
    ) -> Result<(), AnalysisError> {
        if reference.len() != estimate.len() {
            return Err(AnalysisError::FrameCountMismatch {
                reference: reference.len(),
                estimate: estimate.len(),
            });
        }
        for (&r, &e) in reference.iter().zip(estimate) {
            self.add_frame(r, e);
        }
        Ok(())
    }

    /// Counts a reference and an estimated note list, rasterised at `fps` on one grid covering
    /// both (see [`frame_pairs_from_notes`]).
    pub fn add_notes(&mut self, reference: &[Note], estimate: &[Note], fps: f64) {
        let (reference, estimate) = frame_pairs_from_notes(reference, estimate, fps);
        for (r, e) in reference.into_iter().zip(estimate) {
            self.add_frame(r, e);
        }
    }

    pub fn group(&self, combination: Combination) -> Group {
        if combination.is_empty() {
            Group::Silence
        } else if self.training.is_shared(combination) {
            Group::Shared
        } else {
            Group::Unshared
        }
    }

    /// The counts of one reference combination (zero if it never occurred).
    pub fn counts(&self, combination: Combination) -> FrameCounts {
        self.counts.get(&combination).copied().unwrap_or_default()
    }

    /// Every reference combination seen, with its counts, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Combination, &FrameCounts)> {
        self.counts.iter().map(|(&c, n)| (c, n))
    }

    /// Evaluation frames counted so far, silent ones included.
    pub fn frames(&self) -> u64 {
        self.counts.values().map(|n| n.frames).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(names: &str) -> Combination {
        names.parse().unwrap()
    }

    #[test]
    fn a_frame_can_be_added_and_omitted_but_exact_is_alone() {
        let mut counts = FrameCounts::default();
        counts.add(c("C4,E4"), c("C4,E4"));
        counts.add(c("C4,E4"), c("C4,G4"));
        counts.add(c("C4,E4"), c("C4,E4,G4"));
        counts.add(c("C4,E4"), c("(silence)"));
        assert_eq!(
            counts,
            FrameCounts {
                frames: 4,
                exact: 1,
                added: 2,
                omitted: 2
            }
        );
        assert_eq!(counts.exact_share(), Some(0.25));
        assert_eq!(FrameCounts::default().added_share(), None);
    }

    #[test]
    fn silence_is_its_own_group_and_never_shared() {
        let training: TrainingSet = [c("C4"), c("(silence)"), c("C4")].into_iter().collect();
        assert_eq!(training.frames_of(c("C4")), 2);
        assert_eq!(
            (training.combinations(), training.sounding_frames()),
            (1, 2)
        );
        let mut analysis = Entanglement::new(training);
        analysis.add_frame(c("(silence)"), c("D4"));
        analysis.add_frame(c("(silence)"), c("(silence)"));
        assert_eq!(analysis.group(c("(silence)")), Group::Silence);
        assert_eq!(analysis.group(c("C4")), Group::Shared);
        assert_eq!(analysis.group(c("C4,D4")), Group::Unshared);
        let silence = analysis.counts(Combination::SILENCE);
        assert_eq!(
            (
                silence.frames,
                silence.exact,
                silence.added,
                silence.omitted
            ),
            (2, 1, 1, 0)
        );
    }

    #[test]
    fn frame_lists_of_unequal_length_are_refused_whole() {
        let mut analysis = Entanglement::new(TrainingSet::new());
        let error = analysis
            .add_frames(&[c("C4"), c("D4")], &[c("C4")])
            .unwrap_err();
        assert!(error.to_string().contains("2") && error.to_string().contains("1"));
        assert_eq!(analysis.frames(), 0);
    }
}
