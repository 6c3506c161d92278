//! `report.md`: the summary tables and the two charts with the combinations they show.

use std::fmt::Write;

use crate::analysis::Group;
use crate::report::{chart_title, share_text, ReportOptions, SHARED_PNG, UNSHARED_PNG};
use crate::summary::{CombinationRow, EntanglementReport, GroupSummary, Tally};

/// The Markdown text.
pub fn report_markdown(report: &EntanglementReport, options: &ReportOptions) -> String {
    let summary = &report.summary;
    let mut md = String::new();
    // Writing to a String cannot fail; the results are ignored throughout.
    let _ = writeln!(md, "# Entanglement analysis\n");
    for (name, value) in &options.inputs {
        let _ = writeln!(md, "- {name}: {}", value_text(value));
    }
    let _ = writeln!(
        md,
        "- training data: {} frames, {} with notes, {} distinct combinations\n",
        summary.training.frames, summary.training.sounding_frames, summary.training.combinations
    );
    md.push_str(
        "Every evaluation frame is filed under its reference note set (its *combination*). \
         **exact**: the estimate equals the reference; **added**: the estimate has a note the \
         reference lacks; **omitted**: the reference has a note the estimate lacks (a frame can \
         be both). A combination is **shared** when it occurs in the training data's reference \
         frames. Shares below are of frames, so frequent combinations weigh more. Silent \
         reference frames are counted apart.\n\n",
    );

    md.push_str("## Summary\n\n");
    md.push_str("| group | combinations | frames | exact | added | omitted |\n");
    md.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for (name, tally) in [
        ("shared", &summary.shared.total),
        ("unshared", &summary.unshared.total),
        ("all with notes", &summary.all.total),
        ("silence", &summary.silence),
    ] {
        tally_row(&mut md, name, tally);
    }

    md.push_str("\n## By number of notes\n\n");
    md.push_str("| notes | group | combinations | frames | exact | added | omitted |\n");
    md.push_str("| ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
    polyphony_rows(&mut md, summary);

    for (group, png, heading) in [
        (
            Group::Shared,
            SHARED_PNG,
            "Most frequent shared combinations",
        ),
        (
            Group::Unshared,
            UNSHARED_PNG,
            "Most frequent unshared combinations",
        ),
    ] {
        let _ = writeln!(md, "\n## {heading}\n");
        let title = chart_title(report, group, options.top);
        let _ = writeln!(md, "![{title}]({png})\n");
        combination_table(&mut md, &report.top(group, options.top));
    }
    md
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Array(items) => {
            items.iter().map(value_text).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn tally_row(md: &mut String, name: &str, tally: &Tally) {
    let _ = writeln!(
        md,
        "| {name} | {} | {} | {} | {} | {} |",
        tally.combinations,
        tally.frames,
        share_text(tally.exact),
        share_text(tally.added),
        share_text(tally.omitted)
    );
}

fn polyphony_rows(md: &mut String, summary: &crate::summary::Summary) {
    let groups: [(&str, &GroupSummary); 3] = [
        ("shared", &summary.shared),
        ("unshared", &summary.unshared),
        ("all", &summary.all),
    ];
    let mut polyphonies: Vec<usize> = summary
        .all
        .by_polyphony
        .iter()
        .map(|p| p.polyphony)
        .collect();
    polyphonies.dedup();
    for polyphony in polyphonies {
        for (name, group) in groups {
            if let Some(p) = group.by_polyphony.iter().find(|p| p.polyphony == polyphony) {
                let _ = write!(md, "| {polyphony} ");
                tally_row(md, name, &p.tally);
            }
        }
    }
}

fn combination_table(md: &mut String, rows: &[&CombinationRow]) {
    if rows.is_empty() {
        md.push_str("None.\n");
        return;
    }
    md.push_str("| combination | frames | exact | added | omitted | training frames |\n");
    md.push_str("| --- | ---: | ---: | ---: | ---: | ---: |\n");
    for row in rows {
        let counts = &row.counts;
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            row.combination,
            counts.frames,
            share_text(counts.exact_share()),
            share_text(counts.added_share()),
            share_text(counts.omitted_share()),
            row.training_frames
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Combination, Entanglement, TrainingSet};

    #[test]
    fn the_report_embeds_both_charts_and_the_totals() {
        let c4 = Combination::from_pitches([60]);
        let mut analysis = Entanglement::new([c4].into_iter().collect::<TrainingSet>());
        analysis.add_frame(c4, c4);
        analysis.add_frame(c4, Combination::SILENCE);
        let options = ReportOptions {
            top: 5,
            inputs: vec![("reference".into(), serde_json::json!(["a.csv", "b.mid"]))],
        };
        let md = report_markdown(&EntanglementReport::new(&analysis), &options);
        assert!(md.contains("- reference: a.csv, b.mid"), "{md}");
        assert!(
            md.contains("| shared | 1 | 2 | 0.500 | 0.000 | 0.500 |"),
            "{md}"
        );
        assert!(md.contains("| unshared | 0 | 0 | - | - | - |"), "{md}");
        assert!(
            md.contains("| 1 | shared | 1 | 2 | 0.500 | 0.000 | 0.500 |"),
            "{md}"
        );
        assert!(md.contains("](shared.png)") && md.contains("](unshared.png)"));
        assert!(
            md.contains("| C4 | 2 | 0.500 | 0.000 | 0.500 | 1 |"),
            "{md}"
        );
    }
}
