//! Source separation scored on data: stems against reference stems, and every system of a
//! data set's mixtures (`polyphon synth mixtures` pairs, or MUSDB18-style track folders)
//! scored file by file with BSS Eval v4 and SI-SDR, with the medians over files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polyphon_audio::{read_channels, MultiChannelAudio};
use polyphon_core::manifest::{read_split, ManifestEntry, Split};
use polyphon_decode::stems::ideal_ratio_stems;
use polyphon_eval::separation::{
    evaluate_separation, nanmedian, SeparationScores, SourceEvaluation,
};
use polyphon_features::ComplexStft;

use crate::evaluation::transcription::write_text;
use crate::{invalid, to_f32, Context, Error, Result, Separator};

/// STFT of the ideal-ratio-mask baseline: the separation networks' (16 kHz, 64 ms frames).
pub const IRM_N_FFT: usize = 1024;
/// Hop of that STFT, samples (16 ms at 16 kHz).
pub const IRM_HOP: usize = 256;

/// One mixture to separate, with what the oracle baselines may look at.
pub struct Track {
    /// The mixture's file, for messages.
    pub name: String,
    /// Sample rate of the mixture and the stems, Hz.
    pub sample_rate: u32,
    /// Source names (instrument families) in the order the estimates must come in.
    pub sources: Vec<String>,
    /// channel → samples.
    pub mix: Vec<Vec<f32>>,
    /// The true stems, source → channel → samples. Only oracle baselines read them; a real
    /// separator must not.
    pub references: Vec<Vec<Vec<f32>>>,
}

impl Track {
    /// Samples per channel of the mixture.
    pub fn samples(&self) -> usize {
        self.mix.first().map_or(0, Vec::len)
    }
}

/// A source separation system: anything that turns a mixture into one waveform per source.
pub trait SeparationSystem {
    /// Short name, the row label of the table (`mixture`, `irm`, a model's name).
    fn name(&self) -> String;

    /// One estimate per source of `track.sources`, in that order: source → channel →
    /// samples, with the mixture's channel count and length.
    fn separate(&self, track: &Track) -> Result<Vec<Vec<Vec<f32>>>>;
}

/// The mixture itself as the estimate of every source: the input SDR the others improve on.
pub struct MixtureAsEstimate;

impl SeparationSystem for MixtureAsEstimate {
    fn name(&self) -> String {
        "mixture".into()
    }

    fn separate(&self, track: &Track) -> Result<Vec<Vec<Vec<f32>>>> {
        Ok(vec![track.mix.clone(); track.sources.len()])
    }
}

/// Oracle ideal ratio masks `|S_i| / Σ_j |S_j|` from the true stems, applied to the
/// mixture's STFT: the ceiling of a magnitude-mask separator at this STFT.
pub struct IdealRatioMask {
    stft: ComplexStft,
}

impl IdealRatioMask {
    /// At an STFT of `n_fft` samples per frame and a hop of `hop` samples.
    pub fn new(n_fft: usize, hop: usize) -> Result<Self> {
        Ok(Self {
            stft: ComplexStft::new(n_fft, hop)?,
        })
    }

    /// At the separation networks' STFT.
    pub fn at_network_stft() -> Result<Self> {
        Self::new(IRM_N_FFT, IRM_HOP)
    }
}

impl SeparationSystem for IdealRatioMask {
    fn name(&self) -> String {
        "irm".into()
    }

    fn separate(&self, track: &Track) -> Result<Vec<Vec<Vec<f32>>>> {
        let stems = ideal_ratio_stems(&self.stft, &track.mix, &track.references)
            .context(|| format!("{}: ideal ratio masks", track.name))?;
        Ok(stems.into_iter().map(|stem| stem.channels).collect())
    }
}

/// Runs `separator` on `track` and checks the estimates' shape.
pub fn run_system(separator: &dyn SeparationSystem, track: &Track) -> Result<Vec<Vec<Vec<f32>>>> {
    let estimates = separator.separate(track)?;
    let (name, file) = (separator.name(), &track.name);
    if estimates.len() != track.sources.len() {
        return invalid!(
            "{name} gave {} sources for {file}, which has {}",
            estimates.len(),
            track.sources.len()
        );
    }
    for (source, channels) in track.sources.iter().zip(&estimates) {
        if channels.len() != track.mix.len() || channels.iter().any(|c| c.len() != track.samples())
        {
            return invalid!(
                "{name}'s {source} for {file} is not {} channel(s) of {} samples",
                track.mix.len(),
                track.samples()
            );
        }
    }
    Ok(estimates)
}

/// A trained separation model, its sources reordered to the track's.
pub struct ModelSystem {
    /// The row label of the table ([`SeparationSystem::name`]).
    pub name: String,
    /// The model, with its Wiener refinement.
    pub separator: Separator,
}

impl SeparationSystem for ModelSystem {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn separate(&self, track: &Track) -> Result<Vec<Vec<Vec<f32>>>> {
        let mut stems = self.separator.separate(&track.mix, track.sample_rate)?;
        track
            .sources
            .iter()
            .map(|source| {
                let index = self.separator.sources().iter().position(|s| s == source);
                let index = index.ok_or_else(|| {
                    Error::Invalid(format!(
                        "{}: the model does not separate {source}",
                        self.name
                    ))
                })?;
                Ok(std::mem::take(&mut stems[index]))
            })
            .collect()
    }
}

/// One system's scores for one source of one file.
#[derive(Debug, Clone)]
pub struct FileScore {
    /// The mixture's file, as the manifest names it.
    pub file: String,
    /// The system's name ([`SeparationSystem::name`]).
    pub system: String,
    /// The source (instrument family).
    pub source: String,
    /// BSS Eval v4 scores (medians over frames) and SI-SDR of the source's estimate, dB.
    pub scores: SeparationScores,
    /// SDR minus the mixture's SDR for the same source and file.
    pub sdr_improvement: f64,
}

/// Median over files of one system × source.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The system's name ([`SeparationSystem::name`]).
    pub system: String,
    /// The source (instrument family).
    pub source: String,
    /// Median over files of each score (NaNs left out), dB.
    pub median: SeparationScores,
    /// Median over files of the SDR minus the mixture's SDR, dB.
    pub sdr_improvement: f64,
}

/// A bass + flute pair of `polyphon synth mixtures`: its folder is `pair-NNNNN`.
pub fn is_pair(entry: &ManifestEntry) -> bool {
    let folder = Path::new(&entry.file)
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str());
    folder.is_some_and(|n| n.starts_with("pair-"))
}

/// The instrument family of a stem file, `stem-<i>-<family>_<instrument>.wav` → `family`.
pub fn family_of(stem_path: &str) -> String {
    let stem = Path::new(stem_path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(stem_path);
    let instrument = match stem.strip_prefix("stem-").and_then(|s| s.split_once('-')) {
        Some((index, rest)) if index.chars().all(|c| c.is_ascii_digit()) => rest,
        _ => stem,
    };
    instrument
        .split('_')
        .next()
        .unwrap_or(instrument)
        .to_string()
}

/// Reads a pair's mix and stems, which must share sample rate, channels and length.
pub fn load_track(root: &Path, entry: &ManifestEntry) -> Result<Track> {
    if entry.stems.is_empty() {
        return invalid!("{}: the manifest lists no stems", entry.file);
    }
    let mix_path = root.join(&entry.file);
    let mix = read_channels(&mix_path)?;
    let mut sources = Vec::with_capacity(entry.stems.len());
    let mut references = Vec::with_capacity(entry.stems.len());
    for stem in &entry.stems {
        let family = family_of(stem);
        if sources.contains(&family) {
            return invalid!(
                "{}: two stems of the family '{family}'; sources are named by family",
                entry.file
            );
        }
        let path = root.join(stem);
        let audio = read_channels(&path)?;
        check_same_shape(&audio, &path, &mix, &mix_path)?;
        sources.push(family);
        references.push(to_f32(audio.channels));
    }
    Ok(Track {
        name: entry.file.clone(),
        sample_rate: mix.sample_rate,
        sources,
        mix: to_f32(mix.channels),
        references,
    })
}

fn check_same_shape(
    stem: &MultiChannelAudio,
    stem_path: &Path,
    mix: &MultiChannelAudio,
    mix_path: &Path,
) -> Result<()> {
    let (stem_name, mix_name) = (stem_path.display(), mix_path.display());
    if stem.sample_rate != mix.sample_rate {
        return invalid!(
            "{stem_name} is at {} Hz but {mix_name} at {} Hz",
            stem.sample_rate,
            mix.sample_rate
        );
    }
    if stem.channels.len() != mix.channels.len() {
        return invalid!(
            "{stem_name} has {} channels but {mix_name} has {}",
            stem.channels.len(),
            mix.channels.len()
        );
    }
    if stem.frames() != mix.frames() {
        return invalid!(
            "{stem_name} has {} samples per channel but {mix_name} has {}: stems must have the \
             mixture's length",
            stem.frames(),
            mix.frames()
        );
    }
    Ok(())
}

fn to_f64(signals: &[Vec<Vec<f32>>]) -> Vec<Vec<Vec<f64>>> {
    signals
        .iter()
        .map(|s| {
            s.iter()
                .map(|c| c.iter().map(|&x| x as f64).collect())
                .collect()
        })
        .collect()
}

/// Every separator's scores on `track`, with the SDR improvement over the mixture.
pub fn evaluate_track(
    separators: &[Box<dyn SeparationSystem>],
    track: &Track,
) -> Result<Vec<FileScore>> {
    let references = to_f64(&track.references);
    let score = |separator: &dyn SeparationSystem| -> Result<Vec<SeparationScores>> {
        let estimates = to_f64(&run_system(separator, track)?);
        let report = evaluate_separation(&references, &estimates, track.sample_rate as usize)
            .context(|| format!("cannot score {} on {}", separator.name(), track.name))?;
        Ok(report.into_iter().map(|r| r.scores).collect())
    };
    let input = score(&MixtureAsEstimate)?;
    let mut out = Vec::new();
    for separator in separators {
        for ((source, scores), input) in track
            .sources
            .iter()
            .zip(score(separator.as_ref())?)
            .zip(&input)
        {
            out.push(FileScore {
                file: track.name.clone(),
                system: separator.name(),
                source: source.clone(),
                scores,
                sdr_improvement: scores.sdr - input.sdr,
            });
        }
    }
    Ok(out)
}

/// Medians over files per system × source, systems and sources in order of appearance.
pub fn summarise(scores: &[FileScore]) -> Vec<Summary> {
    let mut keys: Vec<(&str, &str)> = Vec::new();
    for s in scores {
        if !keys.contains(&(s.system.as_str(), s.source.as_str())) {
            keys.push((&s.system, &s.source));
        }
    }
    keys.into_iter()
        .map(|(system, source)| {
            let rows: Vec<&FileScore> = scores
                .iter()
                .filter(|s| s.system == system && s.source == source)
                .collect();
            let median = |f: fn(&FileScore) -> f64| {
                nanmedian(&rows.iter().map(|r| f(r)).collect::<Vec<_>>())
            };
            Summary {
                system: system.to_string(),
                source: source.to_string(),
                median: SeparationScores {
                    sdr: median(|r| r.scores.sdr),
                    isr: median(|r| r.scores.isr),
                    sir: median(|r| r.scores.sir),
                    sar: median(|r| r.scores.sar),
                    si_sdr: median(|r| r.scores.si_sdr),
                },
                sdr_improvement: median(|r| r.sdr_improvement),
            }
        })
        .collect()
}

/// One file's scores as a progress line: the file, then each system's SDR per source.
pub fn progress_line(scores: &[FileScore]) -> String {
    let mut line = scores.first().map_or(String::new(), |s| s.file.clone());
    let mut system = "";
    for s in scores {
        if s.system != system {
            system = &s.system;
            let _ = write!(line, "; {system}");
        }
        let _ = write!(line, " {} SDR {:.2}", s.source, s.scores.sdr);
    }
    line
}

/// Every file's scores as CSV, one row per file × system × source, written atomically.
pub fn write_per_file_csv(path: &Path, scores: &[FileScore]) -> Result<()> {
    let mut text = String::from("file,system,source,sdr,sir,sar,isr,si_sdr,sdr_improvement\n");
    for s in scores {
        let v = s.scores;
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},{},{},{}",
            s.file, s.system, s.source, v.sdr, v.sir, v.sar, v.isr, v.si_sdr, s.sdr_improvement
        );
    }
    write_text(path, &text)
}

/// The medians as one JSON object: `{"systems": {"<system>": {"<source>": {..}}}, ..}`.
pub fn summary_json(
    manifest: &Path,
    split: Split,
    files: usize,
    summaries: &[Summary],
) -> serde_json::Value {
    let mut systems = serde_json::Map::new();
    for s in summaries {
        let m = s.median;
        let entry = systems
            .entry(s.system.clone())
            .or_insert_with(|| serde_json::json!({}));
        entry[&s.source] = serde_json::json!({
            "sdr": m.sdr, "sir": m.sir, "sar": m.sar, "isr": m.isr, "si_sdr": m.si_sdr,
            "sdr_improvement": s.sdr_improvement,
        });
    }
    serde_json::json!({
        "manifest": manifest.display().to_string(),
        "split": split.name(),
        "files": files,
        "statistic": "median over files",
        "systems": systems,
    })
}

/// The data set's systems: the mixture itself, oracle ideal ratio masks, then every model
/// named (bundled name or sidecar path), each also with `wiener` Wiener iterations when that
/// is more than 0.
pub fn systems(models: &[String], wiener: usize) -> Result<Vec<Box<dyn SeparationSystem>>> {
    let mut systems: Vec<Box<dyn SeparationSystem>> = vec![
        Box::new(MixtureAsEstimate),
        Box::new(IdealRatioMask::at_network_stft()?),
    ];
    for choice in models {
        let separator = Separator::from_name_or_path(choice)?;
        let name = Path::new(choice)
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| choice.clone(), |n| n.to_string_lossy().into_owned());
        let mut variants = vec![(name.clone(), 0)];
        if wiener > 0 {
            variants.push((format!("{name}+wiener{wiener}"), wiener));
        }
        for (name, wiener) in variants {
            let separator = separator.clone().with_wiener(wiener);
            systems.push(Box::new(ModelSystem { name, separator }));
        }
    }
    Ok(systems)
}

/// Every system's scores on `files` pairs of `split` (spread evenly; 0: all); `progress` sees
/// each file's scores as they come.
pub fn evaluate_split(
    manifest: &Path,
    split: Split,
    systems: &[Box<dyn SeparationSystem>],
    files: usize,
    mut progress: impl FnMut(usize, usize, &[FileScore]),
) -> Result<Vec<FileScore>> {
    let entries = read_split(manifest, split)?;
    let pairs: Vec<ManifestEntry> = entries.into_iter().filter(is_pair).collect();
    if pairs.is_empty() {
        return invalid!(
            "{}: no pairs in split '{}' (entries mixtures/<split>/pair-NNNNN/mix.wav with stems)",
            manifest.display(),
            split.name()
        );
    }
    let chosen = super::spread(&pairs, files);
    let root = manifest.parent().unwrap_or(Path::new("."));
    let mut scores = Vec::new();
    for (index, entry) in chosen.iter().enumerate() {
        let track = load_track(root, entry)?;
        let file_scores = evaluate_track(systems, &track)?;
        progress(index + 1, chosen.len(), &file_scores);
        scores.extend(file_scores);
    }
    Ok(scores)
}

/// One folder of stems against another: the scores per source, in source-name order.
pub struct FolderEvaluation {
    /// Source names (the files' stems), sorted.
    pub sources: Vec<String>,
    /// Sample rate of every file, Hz.
    pub sample_rate: u32,
    /// Channels of every file.
    pub channels: usize,
    /// Samples per channel of every file.
    pub frames: usize,
    /// Each source's frame-wise scores and their summary, in the order of `sources`.
    pub report: Vec<SourceEvaluation>,
}

/// Scores the `<source>.wav` files of `estimate` against those of `reference`; both folders
/// must hold the same sources, every file the same rate, channel count and length.
pub fn evaluate_folders(reference: &Path, estimate: &Path) -> Result<FolderEvaluation> {
    let references = stems(reference, "reference")?;
    let estimates = stems(estimate, "estimate")?;
    let ref_names: Vec<&str> = references.iter().map(|(n, _)| n.as_str()).collect();
    let est_names: Vec<&str> = estimates.iter().map(|(n, _)| n.as_str()).collect();
    if ref_names != est_names {
        let missing = |of: &[&str], among: &[&str]| -> Vec<String> {
            of.iter()
                .filter(|n| !among.contains(n))
                .map(|n| n.to_string())
                .collect()
        };
        let note = |what: &str, names: Vec<String>| match names.is_empty() {
            true => String::new(),
            false => format!(" ({what} {})", names.join(", ")),
        };
        return invalid!(
            "the folders hold different sources: {} has {}, {} has {}{}{}",
            reference.display(),
            ref_names.join(", "),
            estimate.display(),
            est_names.join(", "),
            note("no estimate for", missing(&ref_names, &est_names)),
            note("no reference for", missing(&est_names, &ref_names)),
        );
    }
    let reference_audio = read_stems(&references, None)?;
    let first = &reference_audio[0];
    let shape = (first.sample_rate, first.channels.len(), first.frames());
    let estimate_audio = read_stems(&estimates, Some((shape, &references[0].1)))?;
    let refs: Vec<Vec<Vec<f64>>> = reference_audio.into_iter().map(|a| a.channels).collect();
    let ests: Vec<Vec<Vec<f64>>> = estimate_audio.into_iter().map(|a| a.channels).collect();
    let report = evaluate_separation(&refs, &ests, shape.0 as usize).context(|| {
        format!(
            "cannot score {} against {}",
            estimate.display(),
            reference.display()
        )
    })?;
    Ok(FolderEvaluation {
        sources: ref_names.iter().map(|n| n.to_string()).collect(),
        sample_rate: shape.0,
        channels: shape.1,
        frames: shape.2,
        report,
    })
}

/// The file stem of a track folder's mixture in MUSDB18's layout (`track/mixture.wav`).
pub const MIXTURE: &str = "mixture";

/// Track folders scored one by one ([`evaluate_track_folders`]), and the medians over them.
pub struct TracksEvaluation {
    /// Each track's name (its folder's) and scores, by name.
    pub tracks: Vec<(String, FolderEvaluation)>,
}

/// Whether `dir` is a folder of track folders (MUSDB18's `test/`), not a track itself: it
/// holds sub-folders and no `.wav` file.
pub fn is_folder_of_tracks(dir: &Path) -> bool {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return false;
    };
    let paths: Vec<PathBuf> = listing.filter_map(|e| e.ok().map(|e| e.path())).collect();
    let is_wav = |p: &PathBuf| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav"));
    paths.iter().any(|p| p.is_dir()) && !paths.iter().any(is_wav)
}

/// Every track folder of `reference` (MUSDB18's layout: `<track>/<source>.wav`, a
/// `mixture.wav` beside them ignored) against the folder of the same name in `estimate`, as
/// museval's `eval_mus_dir` does; a track without estimates is an error naming it.
pub fn evaluate_track_folders(reference: &Path, estimate: &Path) -> Result<TracksEvaluation> {
    let listing = std::fs::read_dir(reference)
        .map_err(Error::io(reference))
        .context(|| format!("cannot list {}", reference.display()))?;
    let mut names: Vec<String> = listing
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().is_dir())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut tracks = Vec::with_capacity(names.len());
    for name in names {
        let (track, estimated) = (reference.join(&name), estimate.join(&name));
        if !estimated.is_dir() {
            return invalid!(
                "no estimates for track {name}: {} is missing",
                estimated.display()
            );
        }
        tracks.push((name, evaluate_folders(&track, &estimated)?));
    }
    Ok(TracksEvaluation { tracks })
}

impl TracksEvaluation {
    /// Per source, the median over tracks of each track's SDR, SIR, SAR, ISR and SI-SDR
    /// (tracks where a score is undefined left out of its median), as museval aggregates.
    pub fn medians(&self) -> Vec<(String, [f64; 5])> {
        let mut sources: Vec<String> = self
            .tracks
            .iter()
            .flat_map(|(_, e)| e.sources.iter().cloned())
            .collect();
        sources.sort();
        sources.dedup();
        sources
            .into_iter()
            .map(|source| {
                let values = |pick: fn(&SourceEvaluation) -> f64| -> f64 {
                    let v: Vec<f64> = self
                        .tracks
                        .iter()
                        .filter_map(|(_, e)| {
                            let at = e.sources.iter().position(|s| *s == source)?;
                            Some(pick(&e.report[at]))
                        })
                        .map(|v| if v.is_finite() { v } else { f64::NAN })
                        .collect();
                    nanmedian(&v)
                };
                let scores = [
                    values(|r| r.scores.sdr),
                    values(|r| r.scores.sir),
                    values(|r| r.scores.sar),
                    values(|r| r.scores.isr),
                    values(|r| r.scores.si_sdr),
                ];
                (source, scores)
            })
            .collect()
    }

    /// `{"tracks": {"<track>": {per source}}, "median": {"<source>": {...}}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let tracks: serde_json::Map<String, serde_json::Value> = self
            .tracks
            .iter()
            .map(|(name, e)| (name.clone(), e.to_json()))
            .collect();
        let medians: serde_json::Map<String, serde_json::Value> = self
            .medians()
            .into_iter()
            .map(|(source, [sdr, sir, sar, isr, si_sdr])| {
                let value = serde_json::json!({
                    "sdr": sdr, "sir": sir, "sar": sar, "isr": isr, "si_sdr": si_sdr,
                });
                (source, value)
            })
            .collect();
        serde_json::json!({"tracks": tracks, "median": medians})
    }
}

impl std::fmt::Display for TracksEvaluation {
    /// Each track's table, then the medians over tracks.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        for (name, evaluation) in &self.tracks {
            writeln!(f, "{name}: {evaluation}")?;
        }
        writeln!(f, "median over {} tracks; dB", self.tracks.len())?;
        writeln!(
            f,
            "{:<8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "source", "SDR", "SIR", "SAR", "ISR", "SI-SDR"
        )?;
        for (source, s) in self.medians() {
            writeln!(
                f,
                "{source:<8} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
                s[0], s[1], s[2], s[3], s[4]
            )?;
        }
        Ok(())
    }
}

/// The `<source>.wav` files of `dir`, sorted by source name.
fn stems(dir: &Path, what: &str) -> Result<Vec<(String, PathBuf)>> {
    if !dir.is_dir() {
        return invalid!(
            "{what} folder {} does not exist or is not a folder",
            dir.display()
        );
    }
    let mut stems = Vec::new();
    let listing = std::fs::read_dir(dir)
        .map_err(Error::io(dir))
        .context(|| format!("cannot list {}", dir.display()))?;
    for entry in listing {
        let path = entry.map_err(Error::io(dir))?.path();
        let is_wav = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
        if path.is_file() && is_wav {
            // MUSDB18's layout keeps the mixture beside the sources: it is not one of them.
            let name = path.file_stem().and_then(|s| s.to_str());
            if let Some(name) = name.filter(|n| !n.eq_ignore_ascii_case(MIXTURE)) {
                stems.push((name.to_owned(), path.clone()));
            }
        }
    }
    if stems.is_empty() {
        return invalid!(
            "{what} folder {} holds no <source>.wav files",
            dir.display()
        );
    }
    stems.sort();
    Ok(stems)
}

/// `(sample rate, channels, frames)` of audio.
type Shape = (u32, usize, usize);

/// Reads every stem and checks that they all share one sample rate, channel count and length
/// (the `expected` shape of another file, when given).
fn read_stems(
    stems: &[(String, PathBuf)],
    expected: Option<(Shape, &Path)>,
) -> Result<Vec<MultiChannelAudio>> {
    let mut out: Vec<MultiChannelAudio> = Vec::with_capacity(stems.len());
    let mut first: Option<(Shape, PathBuf)> = expected.map(|(s, p)| (s, p.to_path_buf()));
    for (_, path) in stems {
        let audio = read_channels(path)?;
        let shape = (audio.sample_rate, audio.channels.len(), audio.frames());
        match &first {
            None => first = Some((shape, path.clone())),
            Some(((rate, channels, frames), other)) => {
                let (path, other) = (path.display(), other.display());
                if shape.0 != *rate {
                    return invalid!("{path} is at {} Hz but {other} at {rate} Hz", shape.0);
                }
                if shape.1 != *channels {
                    return invalid!("{path} has {} channels but {other} has {channels}", shape.1);
                }
                if shape.2 != *frames {
                    return invalid!(
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

impl FolderEvaluation {
    /// `{"<source>": {"sdr": .., "sir": .., "sar": .., "isr": .., "si_sdr": ..}, ...}`;
    /// undefined or infinite scores are null.
    pub fn to_json(&self) -> serde_json::Value {
        let object: serde_json::Map<String, serde_json::Value> = self
            .sources
            .iter()
            .zip(&self.report)
            .map(|(name, r)| {
                let s = r.scores;
                let value = serde_json::json!({
                    "sdr": s.sdr, "sir": s.sir, "sar": s.sar, "isr": s.isr, "si_sdr": s.si_sdr,
                });
                (name.clone(), value)
            })
            .collect();
        serde_json::Value::Object(object)
    }
}

impl std::fmt::Display for FolderEvaluation {
    /// A line on the signals, then SDR, SIR, SAR, ISR and SI-SDR per source.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let (report, channels) = (&self.report, self.channels);
        let frame_count = report.first().map_or(0, |r| r.frames.sdr.len());
        let silent = report
            .first()
            .map_or(0, |r| r.frames.sdr.iter().filter(|v| v.is_nan()).count());
        writeln!(
            f,
            "{} sources, {channels} channel{}, {:.2} s at {} Hz: median over {frame_count} \
             frames of 1 s{} (BSS Eval v4), SI-SDR over the whole signal; dB",
            self.sources.len(),
            if channels == 1 { "" } else { "s" },
            self.frames as f64 / self.sample_rate as f64,
            self.sample_rate,
            if silent > 0 {
                format!(", {silent} silent skipped")
            } else {
                String::new()
            },
        )?;
        let width = self
            .sources
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(0)
            .max(6);
        writeln!(
            f,
            "{:<width$} {:>8} {:>8} {:>8} {:>8} {:>8}",
            "source", "SDR", "SIR", "SAR", "ISR", "SI-SDR"
        )?;
        for (name, r) in self.sources.iter().zip(report) {
            let s = r.scores;
            writeln!(
                f,
                "{:<width$} {:>8.3} {:>8.3} {:>8.3} {:>8.3} {:>8.3}",
                name, s.sdr, s.sir, s.sar, s.isr, s.si_sdr
            )?;
        }
        Ok(())
    }
}

/// The medians of [`summarise`] as a table, one row per system and source.
pub fn summary_table(manifest: &Path, split: Split, files: usize, summaries: &[Summary]) -> String {
    let mut table = format!(
        "median over {files} pairs of split '{}' in {} (dB; SDR/SIR/SAR/ISR: BSS Eval v4, \
         median over 1 s frames per file; dSDR: SDR minus the mixture's)\n",
        split.name(),
        manifest.display()
    );
    let width = summaries
        .iter()
        .map(|s| s.system.len().max(s.source.len()))
        .max()
        .unwrap_or(0)
        .max(6);
    let _ = writeln!(
        table,
        "{:<width$} {:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "system", "source", "SDR", "SIR", "SAR", "ISR", "SI-SDR", "dSDR"
    );
    for s in summaries {
        let m = s.median;
        let _ = writeln!(
            table,
            "{:<width$} {:<width$} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            s.system, s.source, m.sdr, m.sir, m.sar, m.isr, m.si_sdr, s.sdr_improvement
        );
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_come_from_stem_file_names() {
        assert_eq!(
            family_of("mixtures/test/pair-02900/stem-0-bass_electronic_001.wav"),
            "bass"
        );
        assert_eq!(family_of("stem-12-flute_acoustic_010.wav"), "flute");
        assert_eq!(family_of("other/organ.wav"), "organ");
    }

    #[test]
    fn the_mixture_improves_on_itself_by_nothing_and_the_irm_by_much() {
        let n = 16_000;
        let tone = |f: f32, a: f32| -> Vec<f32> {
            (0..n)
                .map(|i| a * (2.0 * std::f32::consts::PI * f * i as f32 / 16_000.0).sin())
                .collect()
        };
        let (bass, flute) = (tone(110.0, 0.5), tone(1760.0, 0.3));
        let mix: Vec<f32> = bass.iter().zip(&flute).map(|(a, b)| a + b).collect();
        let track = Track {
            name: "t".into(),
            sample_rate: 16_000,
            sources: vec!["bass".into(), "flute".into()],
            mix: vec![mix],
            references: vec![vec![bass], vec![flute]],
        };
        let systems: Vec<Box<dyn SeparationSystem>> = vec![
            Box::new(MixtureAsEstimate),
            Box::new(IdealRatioMask::new(1024, 256).unwrap()),
        ];
        let scores = evaluate_track(&systems, &track).unwrap();
        assert_eq!(scores.len(), 4);
        assert!(scores[..2].iter().all(|s| s.sdr_improvement == 0.0));
        assert!(
            scores[2..].iter().all(|s| s.sdr_improvement > 20.0),
            "{scores:?}"
        );
        let summaries = summarise(&scores);
        assert_eq!(summaries.len(), 4);
        assert_eq!(
            (summaries[3].system.as_str(), summaries[3].source.as_str()),
            ("irm", "flute")
        );
    }
}
