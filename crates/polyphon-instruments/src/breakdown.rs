//! Scores split by where the audio came from: per SoundFont and per preset, and per number
//! of notes and of families in a mixture (a mixture's notes can share a family). A split by
//! instrument has only a few test presets per family, so one odd synthesizer (an FM chip's
//! guitar) can decide the overall score; this shows which.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::dataset::{Dataset, Task};
use crate::evaluate::{argmax, decide};

/// What a file's manifest `synthesizer` names: `"FluidR3_GM:000:034"`, or for a mixture its
/// stems' joined by `+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The SoundFont file (`FluidR3_GM`).
    SoundFont,
    /// SoundFont, bank and program (`FluidR3_GM:000:034`).
    Preset,
    /// The number of stems (notes) in the file.
    Stems,
    /// The number of families present (from the targets, not the `synthesizer`).
    Families,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::SoundFont => "soundfont",
            Level::Preset => "preset",
            Level::Stems => "stems",
            Level::Families => "families",
        }
    }

    /// The distinct groups of one file with `positives` families present, in order of first
    /// appearance.
    pub fn groups(self, synthesizer: &str, positives: usize) -> Vec<String> {
        let stems = synthesizer.split('+');
        match self {
            Level::SoundFont => distinct(stems.map(|s| s.split(':').next().unwrap_or(s))),
            Level::Preset => distinct(stems),
            Level::Stems => vec![stems.count().to_string()],
            Level::Families => vec![positives.to_string()],
        }
    }
}

/// The distinct names, in order of first appearance.
fn distinct<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for name in names {
        if !groups.iter().any(|g| g == name) {
            groups.push(name.to_string());
        }
    }
    groups
}

/// The score of the files that have a stem from one group: accuracy for the single-label
/// task, Hamming accuracy (at the evaluation's thresholds) for the multi-label one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupScore {
    pub level: &'static str,
    pub group: String,
    pub files: usize,
    pub score: f64,
}

/// One [`GroupScore`] per group of `level`, sorted by name (numerically for counts).
/// `synthesizers` holds each file's manifest `synthesizer`, in the order of `data`; `proba` is
/// `(files, classes)`; `thresholds` has one value per class.
pub fn group_scores(
    data: &Dataset,
    synthesizers: &[String],
    proba: &[f64],
    thresholds: &[f64],
    level: Level,
) -> Vec<GroupScore> {
    let k = data.num_classes();
    assert!(synthesizers.len() == data.len() && proba.len() == data.len() * k);
    assert_eq!(thresholds.len(), k);
    // (right decisions, decisions, files) per group.
    let mut counts: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new();
    for (index, synthesizer) in synthesizers.iter().enumerate() {
        let row = &proba[index * k..(index + 1) * k];
        let (right, decisions) = file_decisions(data, index, row, thresholds);
        let positives = data.target(index).iter().filter(|&&t| t > 0.5).count();
        for group in level.groups(synthesizer, positives) {
            let entry = counts.entry(group).or_default();
            *entry = (entry.0 + right, entry.1 + decisions, entry.2 + 1);
        }
    }
    let mut scores: Vec<GroupScore> = counts
        .into_iter()
        .map(|(group, (right, decisions, files))| GroupScore {
            level: level.name(),
            group,
            files,
            score: right as f64 / decisions as f64,
        })
        .collect();
    if matches!(level, Level::Stems | Level::Families) {
        scores.sort_by_key(|s| s.group.parse::<usize>().unwrap_or(usize::MAX));
    }
    scores
}

/// Right decisions and decisions of one file: one (the class) for single-label, one per
/// class for multi-label.
fn file_decisions(
    data: &Dataset,
    index: usize,
    proba: &[f64],
    thresholds: &[f64],
) -> (usize, usize) {
    let target = data.target(index);
    match data.task {
        Task::Single => {
            let truth = target.iter().position(|&t| t > 0.5);
            (usize::from(truth == Some(argmax(proba))), 1)
        }
        Task::Multi => {
            let right = target
                .iter()
                .zip(decide(proba, thresholds))
                .filter(|(&t, present)| (t > 0.5) == *present)
                .count();
            (right, target.len())
        }
    }
}

/// The scores as CSV: `level,group,files,score`.
pub fn groups_csv(scores: &[GroupScore]) -> String {
    let mut text = String::from("level,group,files,score\n");
    for s in scores {
        text.push_str(&format!(
            "{},{},{},{}\n",
            s.level, s.group, s.files, s.score
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(task: Task, targets: Vec<f32>) -> Dataset {
        let files = targets.len() / task.classes().len();
        Dataset {
            task,
            features: vec![0.0; files],
            num_features: 1,
            targets,
            files: (0..files).map(|i| format!("{i}.wav").into()).collect(),
        }
    }

    #[test]
    fn groups_of_a_mixture_are_distinct_and_ordered() {
        let synthesizer = "B:000:001+A:000:002+B:000:003";
        assert_eq!(Level::SoundFont.groups(synthesizer, 2), ["B", "A"]);
        assert_eq!(
            Level::Preset.groups(synthesizer, 2),
            ["B:000:001", "A:000:002", "B:000:003"]
        );
        assert_eq!(Level::Stems.groups(synthesizer, 2), ["3"]);
        assert_eq!(Level::Stems.groups("A:000:001", 1), ["1"]);
        assert_eq!(Level::Families.groups(synthesizer, 2), ["2"]);
    }

    #[test]
    fn mixtures_are_grouped_by_their_families_present_not_their_notes() {
        // Two 3-note mixtures: one of 3 families (all right), one of 2 families (a third
        // called: 5 of 6 right); and a 1-family note (right).
        let d = data(
            Task::Multi,
            [
                [1.0, 1.0, 1.0, 0.0, 0.0, 0.0],
                [1.0, 1.0, 0.0, 0.0, 0.0, 0.0],
                [0.0, 0.0, 0.0, 1.0, 0.0, 0.0],
            ]
            .concat(),
        );
        let proba = [
            [0.9, 0.9, 0.9, 0.1, 0.1, 0.1],
            [0.9, 0.9, 0.9, 0.1, 0.1, 0.1],
            [0.1, 0.1, 0.1, 0.9, 0.1, 0.1],
        ]
        .concat();
        let synths = ["A:0:1+A:0:2+A:0:3", "A:0:1+A:0:2+A:0:4", "A:0:5"].map(String::from);
        let by = |level| group_scores(&d, &synths, &proba, &[0.5; 6], level);
        let summary = |scores: Vec<GroupScore>| -> Vec<(String, usize, f64)> {
            scores
                .into_iter()
                .map(|s| (s.group, s.files, s.score))
                .collect()
        };
        assert_eq!(
            summary(by(Level::Stems)),
            [("1".into(), 1, 1.0), ("3".into(), 2, 11.0 / 12.0)]
        );
        assert_eq!(
            summary(by(Level::Families)),
            [
                ("1".into(), 1, 1.0),
                ("2".into(), 1, 5.0 / 6.0),
                ("3".into(), 1, 1.0)
            ]
        );
    }

    #[test]
    fn single_label_accuracy_per_soundfont_and_preset() {
        // Files 0, 1 from A (one right), file 2 from B (right).
        let one_hot = |c: usize| {
            (0..4)
                .map(|i| f32::from(u8::from(i == c)))
                .collect::<Vec<_>>()
        };
        let d = data(Task::Single, [one_hot(0), one_hot(1), one_hot(2)].concat());
        let proba = [
            [0.7, 0.1, 0.1, 0.1],
            [0.7, 0.1, 0.1, 0.1],
            [0.1, 0.1, 0.7, 0.1],
        ]
        .concat();
        let synths = ["A:000:001", "A:000:002", "B:000:001"].map(String::from);
        let fonts = group_scores(&d, &synths, &proba, &[0.5; 4], Level::SoundFont);
        let summary: Vec<_> = fonts
            .iter()
            .map(|s| (s.group.as_str(), s.files, s.score))
            .collect();
        assert_eq!(summary, [("A", 2, 0.5), ("B", 1, 1.0)]);
        let presets = group_scores(&d, &synths, &proba, &[0.5; 4], Level::Preset);
        assert_eq!(presets.len(), 3);
        assert_eq!(
            (presets[1].group.as_str(), presets[1].score),
            ("A:000:002", 0.0)
        );
    }

    #[test]
    fn multi_label_hamming_accuracy_counts_a_mixture_in_each_of_its_soundfonts() {
        // One mixture of A and B: 5 of 6 decisions right (vocal missed).
        let d = data(Task::Multi, vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        let proba = [0.9, 0.1, 0.1, 0.1, 0.1, 0.4];
        let synths = ["A:000:001+B:000:052".to_string()];
        let fonts = group_scores(&d, &synths, &proba, &[0.5; 6], Level::SoundFont);
        assert_eq!(fonts.len(), 2);
        assert!(fonts
            .iter()
            .all(|s| s.files == 1 && (s.score - 5.0 / 6.0).abs() < 1e-12));
        // At a vocal threshold of 0.3 the vocal counts as present: all right.
        let thresholds = [0.5, 0.5, 0.5, 0.5, 0.5, 0.3];
        let lower = group_scores(&d, &synths, &proba, &thresholds, Level::SoundFont);
        assert_eq!(lower[0].score, 1.0);
    }

    #[test]
    fn csv_has_a_header_and_a_row_per_group() {
        let scores = [GroupScore {
            level: "soundfont",
            group: "A".into(),
            files: 2,
            score: 0.5,
        }];
        assert_eq!(
            groups_csv(&scores),
            "level,group,files,score\nsoundfont,A,2,0.5\n"
        );
    }
}
