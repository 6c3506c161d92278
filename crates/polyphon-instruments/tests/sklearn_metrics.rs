//! The metrics against scikit-learn 1.7.2 (fixtures from tools/make_instrument_fixtures.py).

use polyphon_instruments::metrics::{accuracy, confusion_matrix, multi_label_report};
use serde_json::Value;

fn fixtures() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/metrics.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn usizes(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect()
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

fn bools(value: &Value) -> Vec<bool> {
    usizes(value).into_iter().map(|v| v == 1).collect()
}

fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-12,
        "{what}: {got} vs sklearn {want}"
    );
}

#[test]
fn single_label_equals_sklearn() {
    for case in fixtures()["single"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let k = case["n_classes"].as_u64().unwrap() as usize;
        let (truth, predicted) = (usizes(&case["truth"]), usizes(&case["predicted"]));
        close(
            accuracy(&truth, &predicted),
            case["accuracy"].as_f64().unwrap(),
            name,
        );
        let want: Vec<Vec<u64>> = case["confusion"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| usizes(row).into_iter().map(|v| v as u64).collect())
            .collect();
        assert_eq!(confusion_matrix(&truth, &predicted, k), want, "{name}");
    }
}

#[test]
fn multi_label_equals_sklearn() {
    for case in fixtures()["multi"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let k = case["n_classes"].as_u64().unwrap() as usize;
        let report = multi_label_report(
            &bools(&case["truth"]),
            &bools(&case["predicted"]),
            &floats(&case["scores"]),
            k,
        );
        let per = |field: &str| floats(&case[field]);
        for (class, scores) in report.per_class.iter().enumerate() {
            let what = |m: &str| format!("{name} class {class} {m}");
            close(
                scores.precision,
                per("precision")[class],
                &what("precision"),
            );
            close(scores.recall, per("recall")[class], &what("recall"));
            close(scores.f1, per("f1")[class], &what("f1"));
            assert_eq!(
                scores.support,
                usizes(&case["support"])[class],
                "{}",
                what("support")
            );
            close(
                report.average_precision[class],
                per("average_precision")[class],
                &what("AP"),
            );
        }
        let scalar = |field: &str| case[field].as_f64().unwrap();
        close(report.exact_match, scalar("exact_match"), name);
        close(report.hamming_accuracy, scalar("hamming_accuracy"), name);
        close(
            report.mean_average_precision,
            scalar("mean_average_precision"),
            name,
        );
        close(report.macro_f1, scalar("macro_f1"), name);
    }
}
