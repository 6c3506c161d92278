//! `polyphon eval separation`: stems against reference stems with museval's BSS Eval v4
//! (SDR, SIR, SAR, ISR: median over 1 s frames) and SI-SDR; on two folders of stems, or with
//! `--data` on a data set's pairs for the baselines and any separation model.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use polyphon::evaluation::separation::{
    evaluate_folders, evaluate_split, evaluate_track_folders, is_folder_of_tracks, progress_line,
    summarise, summary_json, summary_table, systems, write_per_file_csv,
};
use polyphon::notes::Split;

#[derive(Args)]
#[command(
    about = "Source separation: SDR, SIR, SAR, ISR (museval BSS Eval v4) and SI-SDR per source",
    long_about = "Source separation scores per source, in dB, equal to museval 0.4.1's \
        `evaluate(..., mode=\"v4\")` as MUSDB18/SiSEC report them:\n\
        * the estimate is split into the reference filtered by 512-tap distortion filters \
        (computed once over the whole signal, the v4 way), interference from the other \
        sources, and artifacts;\n\
        * SDR (signal to distortion): the reference against everything else;\n\
        * SIR (signal to interference): leakage of the other sources;\n\
        * SAR (signal to artifacts): what no filtered source explains (noise, musical \
        noise, gaps);\n\
        * ISR (image to spatial distortion): how far the estimate is from the reference \
        image itself rather than a filtered version of it;\n\
        each over 1 s frames and reported as the median over frames (frames where any \
        reference or estimate is silent are skipped, as museval's np.nanmedian does);\n\
        * SI-SDR (scale-invariant SDR, Le Roux et al. 2019, torchmetrics' definition): \
        over the whole signal, per channel, averaged over channels.\n\
        Higher is better for all. Every source is scored against the same-named reference \
        (no permutation search).",
    after_help = "Examples:\n  \
        polyphon eval separation --ref stems/reference --est stems/unet\n  \
        polyphon eval separation --ref stems/reference --est stems/unet --json\n  \
        polyphon eval separation --ref musdb18/test --est estimates/test\n  \
        polyphon eval separation --data data/mixtures.jsonl --split test --per-file sep.csv\n\n\
        Each folder holds one <source>.wav per source (e.g. bass.wav, flute.wav), the same \
        names in both, all files with the same sample rate, channel count and length; a \
        mixture.wav beside them (MUSDB18's layout) is not a source. A --ref folder of track \
        folders (MUSDB18's test/) is scored track by track against the same-named folders \
        of --est, with the median over tracks per source, as museval's eval_mus_dir does. \
        --json prints {\"bass\": {\"sdr\": .., \"sir\": .., \"sar\": .., \"isr\": .., \
        \"si_sdr\": ..}, ...}; a score that is undefined (every frame silent) or infinite \
        (e.g. SIR of a single source) is null.\n\n\
        With --data, every pair (mixtures/<split>/pair-NNNNN/: mix.wav and its \
        stem-<i>-<family>_*.wav) of the split is separated by each system and scored file by \
        file; the table gives the median over files per system and source, and dSDR, the \
        median of SDR minus the mixture's SDR on the same file. Systems: `mixture` (the \
        mixture as every source's estimate: the input SDR) and `irm` (oracle ideal ratio \
        masks |S_i| / sum_j |S_j| from the true stems on the mixture's STFT, n_fft 1024, hop \
        256: the ceiling of magnitude masking). --json prints {\"systems\": {\"irm\": \
        {\"bass\": {\"sdr\": .., \"sdr_improvement\": .., ...}}}, ...}."
)]
pub struct SeparationArgs {
    /// Folder of reference stems: one <source>.wav per source
    #[arg(
        long = "ref",
        value_name = "DIR",
        required_unless_present = "data",
        conflicts_with = "data"
    )]
    reference: Option<PathBuf>,
    /// Folder of estimated stems: the same <source>.wav names
    #[arg(
        long = "est",
        value_name = "DIR",
        required_unless_present = "data",
        conflicts_with = "data"
    )]
    estimate: Option<PathBuf>,
    /// Manifest of `polyphon synth mixtures`: score the baselines on the pairs of a split
    #[arg(long, value_name = "MANIFEST")]
    data: Option<PathBuf>,
    /// Split of the manifest to score, with --data
    #[arg(long, default_value = "test")]
    split: String,
    /// Score this many pairs, spread evenly over the split (0: all), with --data
    #[arg(long, default_value_t = 0)]
    files: usize,
    /// Write every file's scores per system and source to this CSV, with --data
    #[arg(long = "per-file", value_name = "CSV", requires = "data")]
    per_file: Option<PathBuf>,
    /// Print JSON: {"<source>": {"sdr": .., "sir": .., "sar": .., "isr": .., "si_sdr": ..}, ...}; with --data {"systems": {"<system>": {"<source>": {..}}}}
    #[arg(long)]
    json: bool,
    /// Also score this separation model (bundled name or model.json; repeatable), with --data
    #[arg(long, value_name = "NAME|PATH", requires = "data")]
    model: Vec<String>,
    /// Also score every --model with N Wiener iterations (`separate --wiener N`), as "<model>+wienerN"
    #[arg(long, value_name = "N", default_value_t = 0, requires = "model")]
    wiener: usize,
}

pub fn run(args: &SeparationArgs) -> anyhow::Result<()> {
    match (&args.data, &args.reference, &args.estimate) {
        (Some(manifest), _, _) => run_dataset(args, manifest),
        (None, Some(reference), Some(estimate)) => run_folders(reference, estimate, args.json),
        _ => bail!("give --ref and --est, or --data"),
    }
}

fn run_folders(reference: &Path, estimate: &Path, json: bool) -> anyhow::Result<()> {
    let (text, value) = match is_folder_of_tracks(reference) {
        true => {
            let evaluation = evaluate_track_folders(reference, estimate)?;
            (evaluation.to_string(), evaluation.to_json())
        }
        false => {
            let evaluation = evaluate_folders(reference, estimate)?;
            (evaluation.to_string(), evaluation.to_json())
        }
    };
    match json {
        true => println!("{value}"),
        false => print!("{text}"),
    }
    Ok(())
}

/// `--data`: the baselines and every `--model` on the pairs of a split, medians over files.
fn run_dataset(args: &SeparationArgs, manifest: &Path) -> anyhow::Result<()> {
    let split: Split = args.split.parse().map_err(anyhow::Error::msg)?;
    let systems = systems(&args.model, args.wiener)?;
    let mut files = 0;
    let scores = evaluate_split(
        manifest,
        split,
        &systems,
        args.files,
        |done, total, file| {
            files = total;
            if !args.json {
                eprintln!("[{done}/{total}] {}", progress_line(file));
            }
        },
    )?;
    if let Some(path) = &args.per_file {
        write_per_file_csv(path, &scores)?;
    }
    let summaries = summarise(&scores);
    if args.json {
        println!("{}", summary_json(manifest, split, files, &summaries));
    } else {
        print!("{}", summary_table(manifest, split, files, &summaries));
    }
    Ok(())
}
