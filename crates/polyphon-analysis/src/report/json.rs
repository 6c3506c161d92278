//! `summary.json`: the inputs and the [`Summary`](crate::summary::Summary) totals.

use serde::Serialize;

use crate::report::ReportOptions;
use crate::summary::{EntanglementReport, Summary};

#[derive(Serialize)]
struct SummaryFile<'a> {
    inputs: serde_json::Map<String, serde_json::Value>,
    /// How many combinations of each group the charts show.
    top: usize,
    #[serde(flatten)]
    summary: &'a Summary,
}

/// The pretty-printed JSON text, ending in a newline.
pub fn summary_json(report: &EntanglementReport, options: &ReportOptions) -> String {
    let file = SummaryFile {
        inputs: options.inputs.iter().cloned().collect(),
        top: options.top,
        summary: &report.summary,
    };
    let mut text =
        serde_json::to_string_pretty(&file).expect("numbers, strings and maps always serialise");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Combination, Entanglement, TrainingSet};

    #[test]
    fn groups_and_inputs_are_in_the_json() {
        let c4 = Combination::from_pitches([60]);
        let mut analysis = Entanglement::new([c4].into_iter().collect::<TrainingSet>());
        analysis.add_frame(c4, c4);
        analysis.add_frame(Combination::from_pitches([62]), c4);
        let options = ReportOptions {
            top: 3,
            inputs: vec![("fps".into(), 100.0.into())],
        };
        let text = summary_json(&EntanglementReport::new(&analysis), &options);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["inputs"]["fps"], 100.0);
        assert_eq!(value["shared"]["exact"], 1.0);
        assert_eq!(value["unshared"]["frames"], 1);
        assert_eq!(value["unshared"]["added"], 1.0);
        assert_eq!(value["unshared"]["by_polyphony"][0]["polyphony"], 1);
        assert_eq!(value["silence"]["exact"], serde_json::Value::Null);
        assert_eq!(value["training"]["combinations"], 1);
    }
}
