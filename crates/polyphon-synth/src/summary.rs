//! The table printed at the end of a run: files, hours and polyphony per data set and split.

use std::collections::BTreeMap;
use std::fmt::Write;

use polyphon_core::manifest::Split;
use polyphon_core::{frame_labels, Note};

/// Frames per second at which polyphony is counted (the front-end's usual 10 ms hop).
pub const SUMMARY_FPS: f64 = 100.0;
/// Polyphony histogram bins: 0, 1, ..., 5 and "6 or more" notes sounding.
const BINS: usize = 7;

#[derive(Debug, Clone, Default, PartialEq)]
struct Row {
    files: usize,
    seconds: f64,
    frames_by_polyphony: [u64; BINS],
}

/// Statistics gathered per data set and split.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    rows: BTreeMap<(String, Split), Row>,
}

impl Summary {
    /// Counts one file of `duration` seconds whose labels are `notes`.
    pub fn add(&mut self, dataset: &str, split: Split, duration: f64, notes: &[Note]) {
        let row = self.rows.entry((dataset.to_string(), split)).or_default();
        row.files += 1;
        row.seconds += duration;
        let n_frames = (duration * SUMMARY_FPS).ceil() as usize;
        let labels = frame_labels(notes, SUMMARY_FPS, n_frames, 128, 0);
        for frame in 0..n_frames {
            row.frames_by_polyphony[labels.polyphony(frame).min(BINS - 1)] += 1;
        }
    }

    pub fn files(&self) -> usize {
        self.rows.values().map(|r| r.files).sum()
    }

    pub fn hours(&self) -> f64 {
        self.rows.values().map(|r| r.seconds).sum::<f64>() / 3600.0
    }

    /// A plain-text table; polyphony columns are percentages of 10 ms frames.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<24} {:>5} {:>7} {:>8} | % of frames with n notes: {:>5} {:>5} {:>5} {:>5} {:>5} {:>5} {:>5}",
            "data set", "split", "files", "hours", "0", "1", "2", "3", "4", "5", "6+"
        );
        for ((dataset, split), row) in &self.rows {
            let total = row.frames_by_polyphony.iter().sum::<u64>().max(1) as f64;
            let _ = write!(
                out,
                "{:<24} {:>5} {:>7} {:>8.3} |{:26}",
                dataset,
                split.name(),
                row.files,
                row.seconds / 3600.0,
                ""
            );
            for count in row.frames_by_polyphony {
                let _ = write!(out, " {:>5.1}", 100.0 * count as f64 / total);
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polyphony_is_counted_per_frame() {
        let mut summary = Summary::default();
        let notes = [Note::new(0.0, 0.5, 60, 100), Note::new(0.0, 0.25, 64, 100)];
        summary.add("x", Split::Train, 1.0, &notes);
        let row = &summary.rows[&("x".to_string(), Split::Train)];
        assert_eq!(row.frames_by_polyphony[..3], [50, 25, 25]);
        assert!(summary.table().contains("x"));
    }
}
