//! `polyphon experiment`: the seed paper's experiments, one command each, from synthesis to
//! a report folder.

use anyhow::Result;
use clap::{Args, Subcommand};
use polyphon::experiments::{run_fluid_experiment, FluidProgress, FluidSettings};

use crate::progress::TrainingBar;

#[derive(Args)]
#[command(about = "Reproduce the seed paper's experiments, one command each")]
pub struct ExperimentArgs {
    #[command(subcommand)]
    task: ExperimentTask,
}

#[derive(Subcommand)]
enum ExperimentTask {
    /// FLUID-COMBI / FLUID-ISOL (Kelz & Widmer 2017, §4.1) and two disentangling schemes
    #[command(
        long_about = "FLUID-COMBI / FLUID-ISOL (Kelz & Widmer 2017, section 4.1), plus two \
            disentangling schemes.\n\n\
            Renders the FLUID data with FluidR3 if --data has no manifests, then trains a \
            SmallConvNet four times: on the 253 intervals (tested on the 23 isolated notes), \
            on the isolated notes (tested on the intervals), on isolated notes mixed on the \
            fly, and on mixtures with the union-consistency penalty. Each model is analysed \
            on its test set (exact / added / omitted frames per combination, shared or \
            unshared with its training files) and OUT/report.md compares them. Runs resume: \
            a rerun continues unfinished trainings and redoes the analyses.",
        after_help = "Examples:
  polyphon experiment fluid
  polyphon experiment fluid --data data/fluid --out runs/experiment-fluid --epochs 4

Writes OUT/report.md and OUT/summary.json, one analysis folder per model (OUT/<run>/:
combinations.csv, summary.json, shared.png, unshared.png, report.md) and the training runs
in OUT/runs/<run>/. About 15 minutes on 2 cores with the defaults (1 minute of synthesis)."
    )]
    Fluid(FluidSettings),
}

pub fn run(args: ExperimentArgs) -> Result<()> {
    match args.task {
        ExperimentTask::Fluid(args) => fluid(args),
    }
}

fn fluid(settings: FluidSettings) -> Result<()> {
    let mut bar = TrainingBar::new();
    let report = run_fluid_experiment(&settings, |progress| match progress {
        FluidProgress::Rendering(dir) => {
            println!("rendering the FLUID set into {} ...", dir.display())
        }
        FluidProgress::Scheme {
            index,
            total,
            scheme,
        } => println!("[{index}/{total}] {}: {}", scheme.name, scheme.what),
        FluidProgress::Training(progress) => {
            bar.show(progress, super::train::transcription_epoch_line)
        }
    })?;
    bar.finish();
    println!("wrote {}", report.display());
    Ok(())
}
