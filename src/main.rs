//! `polyphon`: the command line over the polyphon crates.
//!
//! Each subcommand lives under `commands/` (grouped by job: `train/`, `eval/`), holding its
//! clap arguments and a `run` function that parses, calls the `polyphon` library, prints and
//! writes. Errors print as one line and exit with status 2.

mod commands;
mod progress;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "polyphon",
    version,
    about = "Deep learning on music audio: features, transcription, analysis, recognition, separation",
    long_about = None
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Features(commands::features::FeaturesArgs),
    Bench(commands::bench::BenchArgs),
    Eval(commands::eval::EvalArgs),
    Synth(commands::synth::SynthArgs),
    Transcribe(commands::transcribe::TranscribeArgs),
    Train(commands::train::TrainArgs),
    Analyze(commands::analyze::AnalyzeArgs),
    Experiment(commands::experiment::ExperimentArgs),
    Separate(commands::separate::SeparateArgs),
    Classify(commands::classify::ClassifyArgs),
}

fn main() {
    quit_quietly_on_closed_pipe();
    polyphon::keep_freed_memory();
    let cli = Cli::parse();
    let _ = polyphon::remove_temporary_files_on_termination();
    let result = match cli.command {
        Command::Features(args) => commands::features::run(args),
        Command::Bench(args) => commands::bench::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Synth(args) => commands::synth::run(args),
        Command::Transcribe(args) => commands::transcribe::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Analyze(args) => commands::analyze::run(args),
        Command::Experiment(args) => commands::experiment::run(args),
        Command::Separate(args) => commands::separate::run(args),
        Command::Classify(args) => commands::classify::run(args),
    };
    if let Err(error) = result {
        eprintln!("error: {}", one_line(&error));
        std::process::exit(2);
    }
}

/// Rust ignores SIGPIPE, so `println!` into a closed pipe (`polyphon classify ... | head`)
/// panics; with the signal's default action the program ends quietly, as other Unix tools do.
fn quit_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first in main, before any other thread exists; SIG_DFL is a valid action.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// The error and its causes on one line, without repeating a cause already in the message.
fn one_line(error: &anyhow::Error) -> String {
    let mut line = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !line.contains(&cause) {
            line.push_str(": ");
            line.push_str(&cause);
        }
    }
    line.replace('\n', " ")
}
