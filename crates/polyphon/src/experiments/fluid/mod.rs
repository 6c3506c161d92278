//! FLUID-COMBI / FLUID-ISOL (Kelz & Widmer 2017, §4.1) and two disentangling schemes: renders
//! the data if it is missing, trains a SmallConvNet four times, analyses each model on its
//! test set and writes a report comparing them. Runs resume: a rerun continues unfinished
//! trainings and redoes the analyses.

mod report;

use std::path::{Path, PathBuf};
use std::time::Instant;

use polyphon_analysis::frames::combinations_from_labels;
use polyphon_analysis::sources::add_manifest;
use polyphon_analysis::summary::Tally;
use polyphon_analysis::{
    write_report, Combination, Entanglement, EntanglementReport, FrameCounts, ReportOptions,
    TrainingSet,
};
use polyphon_core::manifest::Split;
use polyphon_core::SeededRng;
use polyphon_datasets::{FeatureCache, TranscriptionSet};
use polyphon_features::FeatureSpec;
use polyphon_models::transcription::TranscriptionModel;
use polyphon_synth::recipes::fluid::{intervals, run_fluid, FluidOptions};
use polyphon_train::{train_transcription, EpochLog, Progress};
use polyphon_train::{FrameScores, TranscriptionTrainConfig};
use serde::Serialize;

use crate::evaluation::transcription::write_text;
use crate::{invalid, Context, Result};
use report::fluid_markdown;

/// The experiment's settings (`polyphon experiment fluid`'s flags).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct FluidSettings {
    /// FLUID data folder; rendered there first when it has no manifests.
    #[cfg_attr(feature = "cli", arg(long, default_value = "data/fluid"))]
    pub data: PathBuf,
    /// Report folder.
    #[cfg_attr(feature = "cli", arg(long, default_value = "runs/experiment-fluid"))]
    pub out: PathBuf,
    /// SF2 file to render with [default: Debian's FluidR3_GM.sf2].
    #[cfg_attr(feature = "cli", arg(long))]
    pub soundfont: Option<PathBuf>,
    /// Epochs per model.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 2))]
    pub epochs: usize,
    /// Steps of 128 frames per epoch.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 300))]
    pub steps_per_epoch: usize,
    /// Adam's step size.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.01))]
    pub learning_rate: f64,
    /// Seed of every model's initialisation, shuffles and mixtures.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 2016))]
    pub seed: u64,
    /// Probability at or above which a key counts as sounding (no note post-processing).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 0.5))]
    pub threshold: f32,
    /// Combinations per chart.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 10))]
    pub top: usize,
}

impl Default for FluidSettings {
    fn default() -> Self {
        Self {
            data: "data/fluid".into(),
            out: "runs/experiment-fluid".into(),
            soundfont: None,
            epochs: 2,
            steps_per_epoch: 300,
            learning_rate: 0.01,
            seed: 2016,
            threshold: 0.5,
            top: 10,
        }
    }
}

/// What the experiment is doing, for a caller's messages and progress bars.
pub enum FluidProgress<'a, 'b> {
    /// The data is being rendered into this folder.
    Rendering(&'a Path),
    /// Scheme `index` (from 1) of `total` starts.
    Scheme {
        /// Its place in the run, from 1.
        index: usize,
        /// Schemes in all.
        total: usize,
        /// The scheme itself.
        scheme: &'a Scheme,
    },
    /// Its training moves on.
    Training(Progress<'b, EpochLog>),
}

/// One trained model of the experiment.
pub struct Scheme {
    /// Short name, the folder of its run (`OUT/runs/<name>`) and of its analysis (`OUT/<name>`).
    pub name: &'static str,
    /// The manifest in the data folder whose train split it learns and whose test split it is
    /// analysed on.
    pub manifest: &'static str,
    /// What the scheme does, one line for the report.
    pub what: &'static str,
    mix_max_parts: usize,
    mix_max_delay: f64,
    consistency_weight: f64,
}

/// Test-set intervals never mixed together in training: a seeded half of the 253. On them a
/// mixing scheme is tested on combinations it never heard, as the baseline is on all.
pub fn held_out_intervals(seed: u64) -> Vec<(u8, u8)> {
    let mut pairs = intervals(FLUID_LOWEST, FLUID_HIGHEST);
    SeededRng::new(seed, "held-out-intervals").shuffle(&mut pairs);
    pairs.truncate(pairs.len() / 2);
    pairs.sort_unstable();
    pairs
}

const FLUID_LOWEST: u8 = 49;
const FLUID_HIGHEST: u8 = 71;

/// The four schemes, in the order they run: the paper's two, then the isolated notes mixed on
/// the fly, without and with the union-consistency penalty.
pub const FLUID_SCHEMES: [Scheme; 4] = [
    Scheme {
        name: "combi",
        manifest: "fluid-combi.jsonl",
        what: "paper: trained on the intervals, tested on the isolated notes",
        mix_max_parts: 0,
        mix_max_delay: 0.0,
        consistency_weight: 0.0,
    },
    Scheme {
        name: "isol",
        manifest: "fluid-isol.jsonl",
        what: "paper: trained on the isolated notes, tested on the intervals",
        mix_max_parts: 0,
        mix_max_delay: 0.0,
        consistency_weight: 0.0,
    },
    Scheme {
        name: "isol-mix",
        manifest: "fluid-isol.jsonl",
        what: "isolated notes mixed on the fly: 1-3 files summed as audio, -6..0 dB, delays up to 0.25 s, labels united",
        mix_max_parts: 3,
        mix_max_delay: 0.25,
        consistency_weight: 0.0,
    },
    Scheme {
        name: "isol-mix-consistency",
        manifest: "fluid-isol.jsonl",
        what: "the same mixtures plus the union-consistency penalty (weight 1)",
        mix_max_parts: 3,
        mix_max_delay: 0.25,
        consistency_weight: 1.0,
    },
];

/// What one model scored, as the report and `summary.json` give it.
#[derive(Serialize)]
pub struct SchemeResult {
    /// The scheme's name ([`Scheme::name`]).
    pub name: String,
    /// What the scheme does ([`Scheme::what`]).
    pub what: String,
    /// The training data, manifest and split (`fluid-isol.jsonl train`).
    pub train_split: String,
    /// The test data, manifest and split (`fluid-isol.jsonl test`).
    pub test_split: String,
    /// Best validation frame scores: held-out renderings of the training combinations.
    pub valid: FrameScores,
    /// Frame precision, recall and F1 on the test split (thresholded, no post-processing).
    pub test: FrameScores,
    /// Exact, added and omitted frames of the test split, over every sounding reference frame.
    pub sounding: Tally,
    /// The same over the frames whose combination also sounds in the training split.
    pub shared: Tally,
    /// The same over the frames whose combination never sounds in the training split.
    pub unshared: Tally,
    /// On the intervals test only: frames of the held-out intervals (never mixed together in
    /// training).
    pub held_out_intervals: Option<FrameCounts>,
    /// On the intervals test only: frames of the other intervals.
    pub other_intervals: Option<FrameCounts>,
    /// Training time summed over the logged epochs (a resumed run's earlier ones included),
    /// seconds.
    pub train_seconds: f64,
}

/// Runs the experiment; returns the path of the report (`OUT/report.md`).
pub fn run_fluid_experiment(
    args: &FluidSettings,
    mut progress: impl FnMut(FluidProgress),
) -> Result<PathBuf> {
    let started = Instant::now();
    ensure_fluid_data(args, &mut progress)?;
    let cache_dir = args.data.join("cache");
    let cache = FeatureCache::new(&cache_dir, "kelz2016", FeatureSpec::kelz2016())?;
    let mut results = Vec::new();
    for (index, scheme) in FLUID_SCHEMES.iter().enumerate() {
        progress(FluidProgress::Scheme {
            index: index + 1,
            total: FLUID_SCHEMES.len(),
            scheme,
        });
        results.push(run_scheme(args, scheme, &cache, &cache_dir, &mut progress)?);
    }
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    write_fluid_report(args, &results, minutes)?;
    Ok(args.out.join("report.md"))
}

/// Renders the FLUID set unless both manifests are already there.
fn ensure_fluid_data(args: &FluidSettings, progress: &mut impl FnMut(FluidProgress)) -> Result<()> {
    let present = ["fluid-combi.jsonl", "fluid-isol.jsonl"]
        .iter()
        .all(|m| args.data.join(m).exists());
    if present {
        return Ok(());
    }
    let soundfont = args
        .soundfont
        .clone()
        .unwrap_or_else(|| PathBuf::from(polyphon_synth::soundfont::DEBIAN_FLUID_R3));
    progress(FluidProgress::Rendering(&args.data));
    let report = run_fluid(&FluidOptions::new(soundfont, args.data.clone()))?;
    if !report.failures.is_empty() {
        return invalid!(
            "{} FLUID files failed to render: {:?}",
            report.failures.len(),
            report.failures
        );
    }
    Ok(())
}

fn scheme_config(args: &FluidSettings, scheme: &Scheme) -> TranscriptionTrainConfig {
    let excluded = if scheme.mix_max_parts > 0 {
        held_out_intervals(args.seed)
            .into_iter()
            .map(|(a, b)| [a, b])
            .collect()
    } else {
        Vec::new()
    };
    TranscriptionTrainConfig {
        architecture: "small-convnet".into(),
        epochs: args.epochs,
        learning_rate: args.learning_rate,
        seed: args.seed,
        max_batches_per_epoch: args.steps_per_epoch,
        patience: args.epochs,
        mix_max_parts: scheme.mix_max_parts,
        mix_max_delay: scheme.mix_max_delay,
        mix_excluded_pairs: excluded,
        consistency_weight: scheme.consistency_weight,
        ..TranscriptionTrainConfig::default()
    }
}

/// Trains (or resumes) one scheme, then analyses its best model on its test split.
fn run_scheme(
    args: &FluidSettings,
    scheme: &Scheme,
    cache: &FeatureCache,
    cache_dir: &Path,
    progress: &mut impl FnMut(FluidProgress),
) -> Result<SchemeResult> {
    let manifest = args.data.join(scheme.manifest);
    let run_dir = args.out.join("runs").join(scheme.name);
    let config = scheme_config(args, scheme);
    let outcome = train_transcription(&config, &manifest, cache_dir, &run_dir, true, |p| {
        progress(FluidProgress::Training(p))
    })
    .context(|| format!("training into {}", run_dir.display()))?;
    // Summed over the logged epochs, so a resumed run reports its whole training time.
    let train_seconds = outcome.epochs.iter().map(|e| e.seconds).sum::<f64>();

    let model = TranscriptionModel::load(&outcome.best_model)
        .context(|| format!("loading {}", outcome.best_model.display()))?;
    let mut training = TrainingSet::new();
    let fps = polyphon_analysis::frames::DEFAULT_FPS;
    add_manifest(&mut training, &manifest, Split::Train, fps)?;
    let mut analysis = Entanglement::new(training);
    let test = TranscriptionSet::load(&manifest, Split::Test, cache, 0, 128)?;
    let mut keys = KeyCounts::default();
    for piece in &test.pieces {
        let reference = combinations_from_labels(&piece.labels);
        let estimate = thresholded(&model, piece, args.threshold)?;
        keys.add(&reference, &estimate);
        analysis.add_frames(&reference, &estimate)?;
    }
    let (held_out_intervals, other_intervals) = interval_counts(&analysis, args.seed);
    let report = EntanglementReport::new(&analysis);
    let options = ReportOptions {
        top: args.top,
        inputs: vec![
            ("experiment".into(), "fluid".into()),
            ("run".into(), scheme.name.into()),
            (
                "train".into(),
                format!("{} (train split)", scheme.manifest).into(),
            ),
            (
                "eval".into(),
                format!("{} (test split)", scheme.manifest).into(),
            ),
            ("threshold".into(), f64::from(args.threshold).into()),
        ],
    };
    write_report(&args.out.join(scheme.name), &report, &options)?;
    let summary = &report.summary;
    Ok(SchemeResult {
        name: scheme.name.into(),
        what: scheme.what.into(),
        train_split: format!("{} train", scheme.manifest),
        test_split: format!("{} test", scheme.manifest),
        valid: outcome.best.map(|best| best.valid).unwrap_or_default(),
        test: keys.scores(),
        sounding: summary.all.total,
        shared: summary.shared.total,
        unshared: summary.unshared.total,
        held_out_intervals,
        other_intervals,
        train_seconds,
    })
}

/// Frame counts of the held-out intervals and of the others, when the test set has
/// intervals.
fn interval_counts(
    analysis: &Entanglement,
    seed: u64,
) -> (Option<FrameCounts>, Option<FrameCounts>) {
    let held_out: Vec<Combination> = held_out_intervals(seed)
        .into_iter()
        .map(|(a, b)| Combination::from_pitches([a, b]))
        .collect();
    let (mut inside, mut outside) = (FrameCounts::default(), FrameCounts::default());
    for (combination, counts) in analysis.iter().filter(|(c, _)| c.len() == 2) {
        let target = if held_out.contains(&combination) {
            &mut inside
        } else {
            &mut outside
        };
        target.merge(counts);
    }
    if inside.frames + outside.frames == 0 {
        return (None, None);
    }
    (Some(inside), Some(outside))
}

/// The model's thresholded combination of every frame of a cached piece.
fn thresholded(
    model: &TranscriptionModel,
    piece: &polyphon_datasets::Piece,
    threshold: f32,
) -> Result<Vec<Combination>> {
    let features = &piece.features;
    let probabilities = model.predict(features.values(), features.frames)?;
    let (keys, lowest) = (model.num_outputs(), model.architecture().lowest_pitch());
    let frames = piece.labels.n_frames.min(features.frames);
    Ok(probabilities
        .chunks_exact(keys)
        .take(frames)
        .map(|row| {
            let sounding = row.iter().enumerate().filter(|(_, &p)| p >= threshold);
            Combination::from_pitches(sounding.map(|(k, _)| lowest + k as u8))
        })
        .collect())
}

/// Key-frame counts for frame precision, recall and F1.
#[derive(Default)]
struct KeyCounts {
    true_positives: u64,
    false_positives: u64,
    false_negatives: u64,
}

impl KeyCounts {
    fn add(&mut self, reference: &[Combination], estimate: &[Combination]) {
        for (&r, &e) in reference.iter().zip(estimate) {
            let hits = r.len() - r.without(e).len();
            self.true_positives += hits as u64;
            self.false_positives += (e.len() - hits) as u64;
            self.false_negatives += (r.len() - hits) as u64;
        }
    }

    fn scores(&self) -> FrameScores {
        FrameScores::from_counts(
            self.true_positives,
            self.false_positives,
            self.false_negatives,
        )
    }
}

fn write_fluid_report(args: &FluidSettings, results: &[SchemeResult], minutes: f64) -> Result<()> {
    let json = serde_json::json!({
        "experiment": "fluid",
        "epochs": args.epochs,
        "steps_per_epoch": args.steps_per_epoch,
        "batch_size": TranscriptionTrainConfig::default().batch_size,
        "learning_rate": args.learning_rate,
        "seed": args.seed,
        "threshold": args.threshold,
        "minutes": minutes,
        "runs": results,
    });
    let text = serde_json::to_string_pretty(&json).expect("plain data serialises") + "\n";
    write_text(&args.out.join("summary.json"), &text)?;
    write_text(
        &args.out.join("report.md"),
        &fluid_markdown(args, results, minutes),
    )
}
