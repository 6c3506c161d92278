//! The experiment reports, as Markdown that embeds each run's charts.

use std::fmt::Write;

use polyphon_analysis::FrameCounts;

use super::{FluidSettings, SchemeResult, FLUID_SCHEMES};

fn share(value: Option<f64>) -> String {
    value.map_or_else(|| "–".into(), |v| format!("{:.1} %", 100.0 * v))
}

fn find<'a>(results: &'a [SchemeResult], name: &str) -> Option<&'a SchemeResult> {
    results.iter().find(|r| r.name == name)
}

/// `report.md` of `polyphon experiment fluid`.
pub fn fluid_markdown(args: &FluidSettings, results: &[SchemeResult], minutes: f64) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# FLUID experiment (Kelz & Widmer 2017, §4.1) and two disentangling schemes\n"
    );
    let _ = writeln!(
        md,
        "Made by `polyphon experiment fluid --epochs {} --steps-per-epoch {} --learning-rate {} \
         --seed {} --threshold {}` in {:.1} minutes (training {:.1} of them).\n",
        args.epochs,
        args.steps_per_epoch,
        args.learning_rate,
        args.seed,
        args.threshold,
        minutes,
        results.iter().map(|r| r.train_seconds).sum::<f64>() / 60.0
    );
    let _ = writeln!(
        md,
        "Every model is the SmallConvNet (5,327 parameters, 23 keys, MIDI 49–71) trained for \
         {} × {} steps of 128 frames with Adam; the best epoch on validation is analysed. \
         Validation holds out one rendering variant (one velocity and duration) of every \
         training combination, so its F1 measures combinations the model was trained on, at a \
         rendering it did not hear. Test frames are thresholded at {} without note \
         post-processing, as in the paper. *exact*: the frame's estimated note set equals the \
         reference; *added*: it holds a note the reference lacks; *omitted*: it lacks a \
         reference note (a frame can be both). Shares are over the test frames where notes \
         sound.\n",
        args.epochs, args.steps_per_epoch, args.threshold
    );
    reproduction_section(&mut md, results);
    beyond_section(&mut md, results);
    runs_section(&mut md, results);
    md
}

fn reproduction_section(md: &mut String, results: &[SchemeResult]) {
    let _ = writeln!(md, "## Reproduction: figures 1 and 2\n");
    scores_table(
        md,
        results
            .iter()
            .filter(|r| r.name == "combi" || r.name == "isol"),
    );
    if let (Some(combi), Some(isol)) = (find(results, "combi"), find(results, "isol")) {
        let combi_exact = combi.sounding.exact.unwrap_or(0.0);
        let isol_omitted = isol.sounding.omitted.unwrap_or(0.0);
        let isol_exact = isol.sounding.exact.unwrap_or(0.0);
        let _ = writeln!(
            md,
            "* **Figure 1 (trained on intervals, tested on isolated notes).** The paper recovers \
             most isolated notes. Here {} of the isolated-note frames are exact, {} add a note \
             and {} omit one: **{}**.",
            share(combi.sounding.exact),
            share(combi.sounding.added),
            share(combi.sounding.omitted),
            if combi_exact >= 0.5 {
                "reproduced"
            } else {
                "not reproduced"
            }
        );
        let _ = writeln!(
            md,
            "* **Figure 2 (trained on isolated notes, tested on intervals).** The paper finds \
             almost every interval with notes omitted. Here {} of the interval frames omit a \
             note and {} are exact: **{}**.\n",
            share(isol.sounding.omitted),
            share(isol.sounding.exact),
            if isol_omitted >= 0.5 && isol_exact < combi_exact {
                "reproduced"
            } else {
                "not reproduced"
            }
        );
        let _ = writeln!(
            md,
            "| figure 1: COMBI model on isolated notes | figure 2: ISOL model on intervals |\n\
             |---|---|\n\
             | ![combi](combi/unshared.png) | ![isol](isol/unshared.png) |\n"
        );
    }
}

fn scores_table<'a>(md: &mut String, rows: impl Iterator<Item = &'a SchemeResult>) {
    let _ = writeln!(
        md,
        "| run | trained on | tested on | valid F1 | test frame P / R / F1 | exact | added | omitted |\n\
         |---|---|---|---|---|---|---|---|"
    );
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.3} | {:.3} / {:.3} / {:.3} | {} | {} | {} |",
            r.name,
            r.train_split,
            r.test_split,
            r.valid.f1,
            r.test.precision,
            r.test.recall,
            r.test.f1,
            share(r.sounding.exact),
            share(r.sounding.added),
            share(r.sounding.omitted)
        );
    }
    let _ = writeln!(md);
}

fn counts_cells(counts: &Option<FrameCounts>) -> [String; 3] {
    match counts {
        Some(c) => [
            share(c.exact_share()),
            share(c.added_share()),
            share(c.omitted_share()),
        ],
        None => ["–".into(), "–".into(), "–".into()],
    }
}

fn beyond_section(md: &mut String, results: &[SchemeResult]) {
    let _ = writeln!(md, "## Beyond the paper: training that disentangles\n");
    let _ = writeln!(
        md,
        "All three models learn from the same isolated-note files and are tested on all 253 \
         intervals, every one *unshared* with their training files. A seeded half of the \
         intervals (the *held-out* ones) is never mixed together by the mixing schemes either, so \
         on those a mixing model hears the combination for the first time at test time, as the \
         baseline does on every interval. The goal was at least twice the baseline's exact share \
         on unshared combinations without a lower F1 on shared ones (here the validation F1).\n"
    );
    for scheme in FLUID_SCHEMES
        .iter()
        .filter(|s| s.manifest == "fluid-isol.jsonl")
    {
        let _ = writeln!(md, "* `{}`: {}", scheme.name, scheme.what);
    }
    let _ = writeln!(
        md,
        "\n| run | valid F1 (shared) | test F1 | exact, all intervals | × baseline | exact, held-out | × baseline | added, held-out | omitted, held-out |\n\
         |---|---|---|---|---|---|---|---|---|"
    );
    let baseline = find(results, "isol");
    let base_all = baseline.and_then(|b| b.sounding.exact);
    let base_held = baseline.and_then(|b| b.held_out_intervals.and_then(|c| c.exact_share()));
    let ratio = |value: Option<f64>, base: Option<f64>| match (value, base) {
        (Some(v), Some(b)) if b > 0.0 => format!("{:.1}×", v / b),
        _ => "–".into(),
    };
    for r in results.iter().filter(|r| r.name.starts_with("isol")) {
        let held = r.held_out_intervals.and_then(|c| c.exact_share());
        let [_, added, omitted] = counts_cells(&r.held_out_intervals);
        let _ = writeln!(
            md,
            "| {} | {:.3} | {:.3} | {} | {} | {} | {} | {} | {} |",
            r.name,
            r.valid.f1,
            r.test.f1,
            share(r.sounding.exact),
            ratio(r.sounding.exact, base_all),
            share(held),
            ratio(held, base_held),
            added,
            omitted
        );
    }
    let _ = writeln!(md);
    if let Some(base) = baseline {
        for r in results
            .iter()
            .filter(|r| r.name.starts_with("isol") && r.name != "isol")
        {
            let held = r.held_out_intervals.and_then(|c| c.exact_share());
            let doubled = matches!((held, base_held), (Some(v), Some(b)) if v >= 2.0 * b);
            let kept_f1 = r.valid.f1 >= base.valid.f1 - 0.005;
            let _ = writeln!(
                md,
                "* `{}`: held-out exact share {} vs {} — doubled: **{}**; validation F1 {:.3} vs \
                 {:.3} — kept: **{}**.",
                r.name,
                share(held),
                share(base_held),
                if doubled { "yes" } else { "no" },
                r.valid.f1,
                base.valid.f1,
                if kept_f1 { "yes" } else { "no" }
            );
        }
        let _ = writeln!(md);
    }
}

fn runs_section(md: &mut String, results: &[SchemeResult]) {
    let _ = writeln!(md, "## Every run\n");
    scores_table(md, results.iter());
    let _ = writeln!(
        md,
        "Each folder holds the full analysis (`combinations.csv`, `summary.json`, `report.md`) \
         and the charts of the most frequent shared and unshared combinations:\n"
    );
    for r in results {
        let _ = writeln!(
            md,
            "* [`{0}/`]({0}/report.md): {1}; training {2:.1} min",
            r.name,
            r.what,
            r.train_seconds / 60.0
        );
    }
    let _ = writeln!(md);
    for r in results.iter().filter(|r| r.name.starts_with("isol-mix")) {
        let _ = writeln!(md, "### `{}` on the intervals\n", r.name);
        let _ = writeln!(md, "![{0}]({0}/unshared.png)\n", r.name);
    }
}
