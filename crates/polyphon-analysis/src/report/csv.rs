//! `combinations.csv`: one row per reference combination, most frames first.

use std::fmt::Write;

use crate::analysis::Group;
use crate::summary::EntanglementReport;

pub const HEADER: &str = "combination,notes,frames,exact,added,omitted,shared,\
polyphony,group,training_frames,exact_frames,added_frames,omitted_frames";

/// The CSV text. `combination` is the MIDI numbers separated by spaces (empty for silence),
/// `notes` the names (`"G3,A3,C4,D4"`, quoted; `(silence)`), `exact`/`added`/`omitted` the
/// shares of the combination's frames (six decimals; the `*_frames` columns hold the exact
/// counts), `shared` `true` for combinations of the training data (silence is `false`, its
/// `group` says `silence`).
pub fn combinations_csv(report: &EntanglementReport) -> String {
    let mut text = String::with_capacity(80 * (report.rows.len() + 1));
    text.push_str(HEADER);
    text.push('\n');
    for row in &report.rows {
        let counts = &row.counts;
        let share = |s: Option<f64>| s.map_or_else(String::new, |s| format!("{s:.6}"));
        let group = match row.group {
            Group::Shared => "shared",
            Group::Unshared => "unshared",
            Group::Silence => "silence",
        };
        // Writing to a String cannot fail.
        let _ = writeln!(
            text,
            "{},\"{}\",{},{},{},{},{},{},{},{},{},{},{}",
            row.combination.midi_numbers(),
            row.combination,
            counts.frames,
            share(counts.exact_share()),
            share(counts.added_share()),
            share(counts.omitted_share()),
            row.group == Group::Shared,
            row.polyphony(),
            group,
            row.training_frames,
            counts.exact,
            counts.added,
            counts.omitted,
        );
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Combination, Entanglement, TrainingSet};

    #[test]
    fn rows_follow_the_header() {
        let training: TrainingSet = [Combination::from_pitches([55, 57, 60, 62])]
            .into_iter()
            .collect();
        let mut analysis = Entanglement::new(training);
        let chord = Combination::from_pitches([55, 57, 60, 62]);
        analysis.add_frame(chord, chord);
        analysis.add_frame(chord, Combination::from_pitches([55, 60, 62, 64]));
        analysis.add_frame(chord, chord);
        analysis.add_frame(Combination::SILENCE, Combination::SILENCE);
        let text = combinations_csv(&EntanglementReport::new(&analysis));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(
            lines[1],
            "55 57 60 62,\"G3,A3,C4,D4\",3,0.666667,0.333333,0.333333,true,4,shared,1,2,1,1"
        );
        assert_eq!(
            lines[2],
            ",\"(silence)\",1,1.000000,0.000000,0.000000,false,0,silence,0,1,0,0"
        );
        assert_eq!(lines.len(), 3);
    }
}
