//! The analysis as tables: one row per reference combination, totals per group and polyphony.

use std::collections::BTreeMap;

use serde::{Serialize, Serializer};

use crate::analysis::{Entanglement, FrameCounts, Group};
use crate::Combination;

/// One reference combination of the evaluation data.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CombinationRow {
    #[serde(serialize_with = "as_names")]
    pub combination: Combination,
    pub group: Group,
    #[serde(flatten)]
    pub counts: FrameCounts,
    /// Frames of the training data with exactly this combination.
    pub training_frames: u64,
}

impl CombinationRow {
    pub fn polyphony(&self) -> usize {
        self.combination.len()
    }
}

fn as_names<S: Serializer>(combination: &Combination, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(combination)
}

/// Frame-weighted totals of a set of combinations: every frame counts once, so frequent
/// combinations weigh more.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Tally {
    /// Distinct reference combinations.
    pub combinations: usize,
    pub frames: u64,
    pub exact_frames: u64,
    pub added_frames: u64,
    pub omitted_frames: u64,
    /// `exact_frames / frames` (`null` without frames); likewise `added`, `omitted`.
    pub exact: Option<f64>,
    pub added: Option<f64>,
    pub omitted: Option<f64>,
}

impl Tally {
    fn of<'a>(rows: impl IntoIterator<Item = &'a CombinationRow>) -> Tally {
        let mut counts = FrameCounts::default();
        let mut combinations = 0;
        for row in rows {
            counts.merge(&row.counts);
            combinations += 1;
        }
        Tally {
            combinations,
            frames: counts.frames,
            exact_frames: counts.exact,
            added_frames: counts.added,
            omitted_frames: counts.omitted,
            exact: counts.exact_share(),
            added: counts.added_share(),
            omitted: counts.omitted_share(),
        }
    }
}

/// A tally of the combinations with one number of notes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PolyphonyTally {
    pub polyphony: usize,
    #[serde(flatten)]
    pub tally: Tally,
}

/// A group's totals, and the same split by polyphony (ascending; only polyphonies present).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSummary {
    #[serde(flatten)]
    pub total: Tally,
    pub by_polyphony: Vec<PolyphonyTally>,
}

impl GroupSummary {
    fn of(rows: &[&CombinationRow]) -> GroupSummary {
        let mut by_polyphony: BTreeMap<usize, Vec<&CombinationRow>> = BTreeMap::new();
        for &row in rows {
            by_polyphony.entry(row.polyphony()).or_default().push(row);
        }
        GroupSummary {
            total: Tally::of(rows.iter().copied()),
            by_polyphony: by_polyphony
                .into_iter()
                .map(|(polyphony, rows)| PolyphonyTally {
                    polyphony,
                    tally: Tally::of(rows),
                })
                .collect(),
        }
    }
}

/// What the training data held.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TrainingSummary {
    pub frames: u64,
    pub sounding_frames: u64,
    /// Distinct sounding combinations (the shared set is their intersection with the
    /// evaluation data's).
    pub combinations: usize,
}

/// The totals `summary.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub training: TrainingSummary,
    /// Evaluation frames, silent ones included.
    pub frames: u64,
    pub shared: GroupSummary,
    pub unshared: GroupSummary,
    /// Shared and unshared together: every sounding reference frame.
    pub all: GroupSummary,
    /// Silent reference frames: exact when the estimate is silent, added otherwise.
    pub silence: Tally,
}

impl std::fmt::Display for Summary {
    /// The training set in one line, then frames and exact / added / omitted shares of the
    /// shared and unshared combinations, all of them, and silence.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        writeln!(
            f,
            "training: {} frames with notes, {} combinations; evaluation: {} frames",
            self.training.sounding_frames, self.training.combinations, self.frames
        )?;
        writeln!(
            f,
            "{:<10} {:>12} {:>8} {:>7} {:>7} {:>8}",
            "", "combinations", "frames", "exact", "added", "omitted"
        )?;
        let share = |s: Option<f64>| s.map_or_else(|| "-".to_string(), |s| format!("{s:.3}"));
        for (name, tally) in [
            ("shared", &self.shared.total),
            ("unshared", &self.unshared.total),
            ("all", &self.all.total),
            ("silence", &self.silence),
        ] {
            writeln!(
                f,
                "{:<10} {:>12} {:>8} {:>7} {:>7} {:>8}",
                name,
                tally.combinations,
                tally.frames,
                share(tally.exact),
                share(tally.added),
                share(tally.omitted)
            )?;
        }
        Ok(())
    }
}

/// Everything the analysis reports.
#[derive(Debug, Clone, PartialEq)]
pub struct EntanglementReport {
    /// Every reference combination, most frames first (ties in [`Combination`] order);
    /// silence, if present, is one of them.
    pub rows: Vec<CombinationRow>,
    pub summary: Summary,
}

impl EntanglementReport {
    pub fn new(analysis: &Entanglement) -> Self {
        let training = analysis.training();
        let mut rows: Vec<CombinationRow> = analysis
            .iter()
            .map(|(combination, counts)| CombinationRow {
                combination,
                group: analysis.group(combination),
                counts: *counts,
                training_frames: training.frames_of(combination),
            })
            .collect();
        rows.sort_by(|a, b| {
            b.counts
                .frames
                .cmp(&a.counts.frames)
                .then_with(|| a.combination.cmp(&b.combination))
        });
        let in_group = |group: Group| -> Vec<&CombinationRow> {
            rows.iter().filter(|r| r.group == group).collect()
        };
        let sounding: Vec<&CombinationRow> =
            rows.iter().filter(|r| r.group != Group::Silence).collect();
        let summary = Summary {
            training: TrainingSummary {
                frames: training.frames(),
                sounding_frames: training.sounding_frames(),
                combinations: training.combinations(),
            },
            frames: analysis.frames(),
            shared: GroupSummary::of(&in_group(Group::Shared)),
            unshared: GroupSummary::of(&in_group(Group::Unshared)),
            all: GroupSummary::of(&sounding),
            silence: Tally::of(in_group(Group::Silence)),
        };
        EntanglementReport { rows, summary }
    }

    /// The `n` most frequent combinations of a group, most frames first.
    pub fn top(&self, group: Group, n: usize) -> Vec<&CombinationRow> {
        self.rows
            .iter()
            .filter(|r| r.group == group)
            .take(n)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TrainingSet;

    fn c(names: &str) -> Combination {
        names.parse().unwrap()
    }

    /// Twelve evaluation frames whose outcome is worked out by hand in the comments.
    fn hand_example() -> EntanglementReport {
        // Training: C4 three frames, C4+E4 two, E4 one, silence two.
        let training: TrainingSet = ["C4", "C4", "C4", "C4,E4", "C4,E4", "E4", "", ""]
            .into_iter()
            .map(c)
            .collect();
        let mut analysis = Entanglement::new(training);
        let frames = [
            ("C4", "C4"),             // exact
            ("C4", "C4"),             // exact
            ("C4", "C4,G4"),          // added G4
            ("C4", ""),               // omitted C4
            ("C4,E4", "C4"),          // omitted E4
            ("C4,E4", "C4,G4"),       // added G4 and omitted E4
            ("C4,E4,G4", "C4,E4,G4"), // exact, unshared
            ("C4,E4,G4", "C4,E4"),    // omitted G4
            ("C4,E4,G4", "C4,E4"),    // omitted G4
            ("D4", "D4"),             // exact, unshared
            ("", ""),                 // silence, exact
            ("", "E4"),               // silence, added
        ];
        let (reference, estimate): (Vec<_>, Vec<_>) =
            frames.iter().map(|&(r, e)| (c(r), c(e))).unzip();
        analysis.add_frames(&reference, &estimate).unwrap();
        EntanglementReport::new(&analysis)
    }

    fn counts(frames: u64, exact: u64, added: u64, omitted: u64) -> FrameCounts {
        FrameCounts {
            frames,
            exact,
            added,
            omitted,
        }
    }

    /// Combinations, frames, exact, added, omitted.
    type Totals = (usize, u64, u64, u64, u64);

    fn totals(tally: &Tally) -> Totals {
        (
            tally.combinations,
            tally.frames,
            tally.exact_frames,
            tally.added_frames,
            tally.omitted_frames,
        )
    }

    #[test]
    fn hand_computed_rows() {
        let report = hand_example();
        let rows: Vec<(String, Group, FrameCounts, u64)> = report
            .rows
            .iter()
            .map(|r| {
                (
                    r.combination.to_string(),
                    r.group,
                    r.counts,
                    r.training_frames,
                )
            })
            .collect();
        let row = |name: &str, group, counts, training| (name.to_string(), group, counts, training);
        assert_eq!(
            rows,
            vec![
                row("C4", Group::Shared, counts(4, 2, 1, 1), 3),
                row("C4,E4,G4", Group::Unshared, counts(3, 1, 0, 2), 0),
                // Two frames each: silence sorts before the interval.
                row("(silence)", Group::Silence, counts(2, 1, 1, 0), 2),
                row("C4,E4", Group::Shared, counts(2, 0, 1, 2), 2),
                row("D4", Group::Unshared, counts(1, 1, 0, 0), 0),
            ]
        );
        assert_eq!(report.rows[0].counts.exact_share(), Some(0.5));
        let top: Vec<String> = report
            .top(Group::Unshared, 5)
            .iter()
            .map(|r| r.combination.to_string())
            .collect();
        assert_eq!(top, ["C4,E4,G4", "D4"]);
    }

    #[test]
    fn hand_computed_group_totals() {
        let summary = hand_example().summary;
        assert_eq!(summary.frames, 12);
        assert_eq!(
            summary.training,
            TrainingSummary {
                frames: 8,
                sounding_frames: 6,
                combinations: 3
            }
        );
        // Shared: C4 (4 frames) and C4,E4 (2): exact 2, added 2, omitted 3 of 6.
        assert_eq!(totals(&summary.shared.total), (2, 6, 2, 2, 3));
        assert_eq!(summary.shared.total.exact, Some(2.0 / 6.0));
        assert_eq!(summary.shared.total.omitted, Some(0.5));
        // Unshared: C4,E4,G4 (3) and D4 (1): exact 2, added 0, omitted 2 of 4.
        assert_eq!(totals(&summary.unshared.total), (2, 4, 2, 0, 2));
        assert_eq!(summary.unshared.total.exact, Some(0.5));
        assert_eq!(summary.unshared.total.added, Some(0.0));
        // All sounding frames: 10, silence excluded.
        assert_eq!(totals(&summary.all.total), (4, 10, 4, 2, 5));
        assert_eq!(summary.all.total.exact, Some(0.4));
        assert_eq!(totals(&summary.silence), (1, 2, 1, 1, 0));
    }

    #[test]
    fn hand_computed_polyphony_split() {
        let summary = hand_example().summary;
        let split = |group: &GroupSummary| -> Vec<(usize, Totals)> {
            group
                .by_polyphony
                .iter()
                .map(|p| (p.polyphony, totals(&p.tally)))
                .collect()
        };
        assert_eq!(
            split(&summary.all),
            vec![
                (1, (2, 5, 3, 1, 1)),
                (2, (1, 2, 0, 1, 2)),
                (3, (1, 3, 1, 0, 2))
            ]
        );
        assert_eq!(
            split(&summary.shared),
            vec![(1, (1, 4, 2, 1, 1)), (2, (1, 2, 0, 1, 2))]
        );
        assert_eq!(
            split(&summary.unshared),
            vec![(1, (1, 1, 1, 0, 0)), (3, (1, 3, 1, 0, 2))]
        );
    }

    #[test]
    fn empty_groups_have_no_shares() {
        let report = EntanglementReport::new(&Entanglement::new(TrainingSet::new()));
        assert!(report.rows.is_empty());
        assert_eq!(report.summary.unshared.total.exact, None);
        assert_eq!(report.summary.all.total.frames, 0);
    }
}
