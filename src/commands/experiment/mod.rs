//! `polyphon experiment`: the seed paper's experiments, one command each, from synthesis to
//! a report folder.

mod fluid;
mod report;

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

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
    Fluid(FluidArgs),
}

#[derive(Args)]
pub struct FluidArgs {
    /// FLUID data folder; rendered there first when it has no manifests.
    #[arg(long, default_value = "data/fluid")]
    pub data: PathBuf,
    /// Report folder.
    #[arg(long, default_value = "runs/experiment-fluid")]
    pub out: PathBuf,
    /// SF2 file to render with [default: Debian's FluidR3_GM.sf2].
    #[arg(long)]
    pub soundfont: Option<PathBuf>,
    /// Epochs per model.
    #[arg(long, default_value_t = 2)]
    pub epochs: usize,
    /// Steps of 128 frames per epoch.
    #[arg(long, default_value_t = 300)]
    pub steps_per_epoch: usize,
    /// Adam's step size.
    #[arg(long, default_value_t = 0.01)]
    pub learning_rate: f64,
    /// Seed of every model's initialisation, shuffles and mixtures.
    #[arg(long, default_value_t = 2016)]
    pub seed: u64,
    /// Probability at or above which a key counts as sounding (no note post-processing).
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// Combinations per chart.
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

pub fn run(args: ExperimentArgs) -> Result<()> {
    match args.task {
        ExperimentTask::Fluid(args) => fluid::run(&args),
    }
}
