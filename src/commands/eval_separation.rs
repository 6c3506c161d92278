//! `polyphon eval separation`: stems against reference stems with museval's BSS Eval v4
//! (SDR, SIR, SAR, ISR: median over 1 s frames) and SI-SDR; on two folders of stems, or with
//! `--data` on a data set's pairs for every [`separators::Separator`] (the baselines now, a
//! trained model later).

pub mod dataset;
pub mod separators;

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use clap::Args;
use polyphon_audio::{read_channels, MultiChannelAudio};
use polyphon_eval::separation::{evaluate_separation, SourceEvaluation};

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
        polyphon eval separation --data data/mixtures.jsonl --split test --per-file sep.csv\n\n\
        Each folder holds one <source>.wav per source (e.g. bass.wav, flute.wav), the same \
        names in both, all files with the same sample rate, channel count and length. \
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

/// The `<source>.wav` files of `dir`, sorted by source name.
fn stems(dir: &Path, what: &str) -> anyhow::Result<Vec<(String, PathBuf)>> {
    if !dir.is_dir() {
        bail!(
            "{what} folder {} does not exist or is not a folder",
            dir.display()
        );
    }
    let mut stems = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        let is_wav = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
        if path.is_file() && is_wav {
            if let Some(name) = path.file_stem().and_then(|s| s.to_str()) {
                stems.push((name.to_owned(), path.clone()));
            }
        }
    }
    if stems.is_empty() {
        bail!(
            "{what} folder {} holds no <source>.wav files",
            dir.display()
        );
    }
    stems.sort();
    Ok(stems)
}

/// Reads every stem and checks that they all share one sample rate, channel count and length.
fn read_stems(
    stems: &[(String, PathBuf)],
    expected: Option<(u32, usize, usize, &Path)>,
) -> anyhow::Result<Vec<MultiChannelAudio>> {
    let mut out: Vec<MultiChannelAudio> = Vec::with_capacity(stems.len());
    let mut first: Option<(u32, usize, usize, PathBuf)> =
        expected.map(|(r, c, n, p)| (r, c, n, p.to_path_buf()));
    for (_, path) in stems {
        let audio = read_channels(path)?;
        let shape = (audio.sample_rate, audio.channels.len(), audio.frames());
        match &first {
            None => first = Some((shape.0, shape.1, shape.2, path.clone())),
            Some((rate, channels, frames, other)) => {
                let (path, other) = (path.display(), other.display());
                if shape.0 != *rate {
                    bail!("{path} is at {} Hz but {other} at {rate} Hz", shape.0);
                }
                if shape.1 != *channels {
                    bail!("{path} has {} channels but {other} has {channels}", shape.1);
                }
                if shape.2 != *frames {
                    bail!(
                        "{path} has {} samples per channel but {other} has {frames}: \
                         stems must have the same length",
                        shape.2
                    );
                }
            }
        }
        out.push(audio);
    }
    Ok(out)
}

pub fn run(args: &SeparationArgs) -> anyhow::Result<()> {
    match (&args.data, &args.reference, &args.estimate) {
        (Some(manifest), _, _) => dataset::run(&dataset::DatasetEval {
            manifest,
            split: &args.split,
            files: args.files,
            per_file_csv: args.per_file.as_deref(),
            json: args.json,
            models: &args.model,
            wiener: args.wiener,
        }),
        (None, Some(reference), Some(estimate)) => run_folders(reference, estimate, args.json),
        _ => bail!("give --ref and --est, or --data"),
    }
}

fn run_folders(reference: &Path, estimate: &Path, json: bool) -> anyhow::Result<()> {
    let references = stems(reference, "reference")?;
    let estimates = stems(estimate, "estimate")?;
    let ref_names: Vec<&str> = references.iter().map(|(n, _)| n.as_str()).collect();
    let est_names: Vec<&str> = estimates.iter().map(|(n, _)| n.as_str()).collect();
    if ref_names != est_names {
        let missing: Vec<&str> = ref_names
            .iter()
            .filter(|n| !est_names.contains(n))
            .copied()
            .collect();
        let extra: Vec<&str> = est_names
            .iter()
            .filter(|n| !ref_names.contains(n))
            .copied()
            .collect();
        bail!(
            "the folders hold different sources: {} has {}, {} has {}{}{}",
            reference.display(),
            ref_names.join(", "),
            estimate.display(),
            est_names.join(", "),
            if missing.is_empty() {
                String::new()
            } else {
                format!(" (no estimate for {})", missing.join(", "))
            },
            if extra.is_empty() {
                String::new()
            } else {
                format!(" (no reference for {})", extra.join(", "))
            },
        );
    }

    let reference_audio = read_stems(&references, None)?;
    let first = &reference_audio[0];
    let estimate_audio = read_stems(
        &estimates,
        Some((
            first.sample_rate,
            first.channels.len(),
            first.frames(),
            &references[0].1,
        )),
    )?;
    let sample_rate = first.sample_rate;
    let (channels, frames) = (first.channels.len(), first.frames());
    let refs: Vec<Vec<Vec<f64>>> = reference_audio.into_iter().map(|a| a.channels).collect();
    let ests: Vec<Vec<Vec<f64>>> = estimate_audio.into_iter().map(|a| a.channels).collect();
    let report = evaluate_separation(&refs, &ests, sample_rate as usize).with_context(|| {
        format!(
            "cannot score {} against {}",
            estimate.display(),
            reference.display()
        )
    })?;

    if json {
        let object: serde_json::Map<String, serde_json::Value> = ref_names
            .iter()
            .zip(&report)
            .map(|(name, r)| {
                let s = r.scores;
                let value = serde_json::json!({
                    "sdr": s.sdr, "sir": s.sir, "sar": s.sar, "isr": s.isr, "si_sdr": s.si_sdr,
                });
                (name.to_string(), value)
            })
            .collect();
        println!("{}", serde_json::Value::Object(object));
    } else {
        print_table(&ref_names, &report, sample_rate, channels, frames);
    }
    Ok(())
}

fn print_table(
    names: &[&str],
    report: &[SourceEvaluation],
    sample_rate: u32,
    channels: usize,
    frames: usize,
) {
    let frame_count = report.first().map_or(0, |r| r.frames.sdr.len());
    let silent = report
        .first()
        .map_or(0, |r| r.frames.sdr.iter().filter(|v| v.is_nan()).count());
    println!(
        "{} sources, {channels} channel{}, {:.2} s at {sample_rate} Hz: median over {frame_count} \
         frames of 1 s{} (BSS Eval v4), SI-SDR over the whole signal; dB",
        names.len(),
        if channels == 1 { "" } else { "s" },
        frames as f64 / sample_rate as f64,
        if silent > 0 {
            format!(", {silent} silent skipped")
        } else {
            String::new()
        },
    );
    let width = names.iter().map(|n| n.len()).max().unwrap_or(0).max(6);
    println!(
        "{:<width$} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "source", "SDR", "SIR", "SAR", "ISR", "SI-SDR"
    );
    for (name, r) in names.iter().zip(report) {
        let s = r.scores;
        println!(
            "{:<width$} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
            name, s.sdr, s.sir, s.sar, s.isr, s.si_sdr
        );
    }
}
