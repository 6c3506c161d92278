//! Mixtures of 1–6 instruments from a rendered notes set, stems saved beside each mix (for
//! multi-label instrument recognition and source separation), and the seed's bass + flute
//! pairs.
//!
//! A mixture takes its notes from one split of the notes set only, so the split by
//! instrument carries over. Stems and mix are scaled together so the mix does not clip and the
//! stems still add up to it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use polyphon_audio::{read_mono, write_wav, Downmix, WavFormat};

use crate::output::{finished_example, run_jobs, write_example, Example, ExamplePaths};
use crate::recipes::fluid::round_micro;
use crate::recipes::{path_safe, RecipeReport};
use crate::render::prevent_clipping;
use crate::{Result, SynthError};
use polyphon_core::manifest::{read_manifest, write_manifest, ManifestEntry, Split};
use polyphon_core::SeededRng;
use polyphon_core::{read_csv, sort_notes, Note};

#[derive(Debug, Clone)]
pub struct MixturesOptions {
    /// A folder written by the notes recipe (holding `notes.jsonl`), or a manifest of
    /// single-instrument files such as `phrases.jsonl`.
    pub notes_dir: PathBuf,
    pub out_dir: PathBuf,
    pub seed: u64,
    /// Mixtures of 1..=max_instruments different instruments.
    pub count: usize,
    pub max_instruments: usize,
    /// Bass + flute pairs.
    pub pairs: usize,
    /// Shares of `count` and `pairs` drawn from the notes' train, valid and test splits.
    pub split_shares: [f64; 3],
}

impl MixturesOptions {
    /// The notes manifest and the folder its paths are relative to.
    pub fn notes_manifest(&self) -> (PathBuf, PathBuf) {
        if self.notes_dir.is_file() {
            let root = self
                .notes_dir
                .parent()
                .unwrap_or(Path::new(""))
                .to_path_buf();
            (self.notes_dir.clone(), root)
        } else {
            (self.notes_dir.join("notes.jsonl"), self.notes_dir.clone())
        }
    }

    pub fn new(notes_dir: PathBuf, out_dir: PathBuf) -> Self {
        Self {
            notes_dir,
            out_dir,
            seed: 0,
            count: 1000,
            max_instruments: 6,
            pairs: 500,
            split_shares: [0.8, 0.1, 0.1],
        }
    }
}

/// One mixture to build: which notes-set entries sound together.
#[derive(Debug, Clone)]
pub struct MixtureJob {
    pub kind: &'static str,
    pub id: usize,
    pub split: Split,
    pub members: Vec<usize>,
}

impl MixtureJob {
    fn dir(&self) -> String {
        format!(
            "mixtures/{}/{}-{:05}",
            self.split.name(),
            self.kind,
            self.id
        )
    }
}

/// Builds the mixtures and writes `mixtures.jsonl`.
pub fn run_mixtures(options: &MixturesOptions) -> Result<RecipeReport> {
    if options.max_instruments == 0 {
        return Err(SynthError::Invalid("max instruments must be >= 1".into()));
    }
    let (notes_manifest, root) = options.notes_manifest();
    let entries = read_manifest(&notes_manifest)?;
    if entries.is_empty() {
        return Err(SynthError::Invalid(format!(
            "{}: no notes to mix (empty manifest)",
            notes_manifest.display()
        )));
    }
    let mut report = RecipeReport::default();
    let jobs = plan_mixtures(&entries, options, &mut report);
    let run = run_jobs(
        &options.out_dir,
        jobs,
        "mixtures",
        |job| build_mixture(job, &entries, &root, options),
        |job| job.dir(),
    );
    report.absorb(&run);
    let mut manifest = Vec::new();
    for (job, example) in &run.done {
        let dataset = if job.kind == "pair" {
            "bass+flute"
        } else {
            "mixtures"
        };
        report
            .summary
            .add(dataset, job.split, example.duration, &example.notes);
        manifest.push(mixture_entry(job, &entries, example));
    }
    let path = options.out_dir.join("mixtures.jsonl");
    write_manifest(&path, &manifest)?;
    report.manifests.push(path);
    Ok(report)
}

/// Draws every mixture from the seed, before any rendering, so the plan never depends on
/// which files already exist or on thread timing.
pub fn plan_mixtures(
    entries: &[ManifestEntry],
    options: &MixturesOptions,
    report: &mut RecipeReport,
) -> Vec<MixtureJob> {
    let mut rng = SeededRng::new(options.seed, "mixtures");
    let mut jobs = Vec::new();
    for (split, share) in [Split::Train, Split::Valid, Split::Test]
        .into_iter()
        .zip(options.split_shares)
    {
        let by_instrument = instruments_in(entries, split);
        let wanted = (options.count as f64 * share).round() as usize;
        if by_instrument.is_empty() {
            if wanted > 0 {
                report.info.push(format!(
                    "no {} notes: no {} mixtures",
                    split.name(),
                    split.name()
                ));
            }
            continue;
        }
        let instruments: Vec<&Vec<usize>> = by_instrument.values().collect();
        for _ in 0..wanted {
            let k = 1 + rng.below(options.max_instruments.min(instruments.len()) as u64) as usize;
            let mut order: Vec<usize> = (0..instruments.len()).collect();
            rng.shuffle(&mut order);
            let members = order[..k]
                .iter()
                .map(|&i| *rng.choose(instruments[i]))
                .collect();
            jobs.push(MixtureJob {
                kind: "mix",
                id: jobs.len(),
                split,
                members,
            });
        }
        let pairs = (options.pairs as f64 * share).round() as usize;
        let basses = family_entries(entries, split, "bass");
        let flutes = family_entries(entries, split, "flute");
        if basses.is_empty() || flutes.is_empty() {
            if pairs > 0 {
                report.info.push(format!(
                    "{} split has no bass or no flute notes: no bass+flute pairs",
                    split.name()
                ));
            }
            continue;
        }
        for _ in 0..pairs {
            let members = vec![*rng.choose(&basses), *rng.choose(&flutes)];
            jobs.push(MixtureJob {
                kind: "pair",
                id: jobs.len(),
                split,
                members,
            });
        }
    }
    jobs
}

/// Entry indices of one split, grouped by instrument name (sorted, so the plan is stable).
fn instruments_in(entries: &[ManifestEntry], split: Split) -> BTreeMap<String, Vec<usize>> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        if entry.split == split {
            let name = entry.instruments.first().cloned().unwrap_or_default();
            groups.entry(name).or_default().push(index);
        }
    }
    groups
}

fn family_entries(entries: &[ManifestEntry], split: Split, family: &str) -> Vec<usize> {
    (0..entries.len())
        .filter(|&i| entries[i].split == split && entries[i].families.iter().any(|f| f == family))
        .collect()
}

fn stem_name(job: &MixtureJob, position: usize, entry: &ManifestEntry) -> String {
    let instrument = entry
        .instruments
        .first()
        .map(String::as_str)
        .unwrap_or("stem");
    stem_file(&job.dir(), position, instrument)
}

/// Where a mixture's stem is written: `<dir>/stem-<position>-<instrument>.wav`.
pub(crate) fn stem_file(dir: &str, position: usize, instrument: &str) -> String {
    format!("{dir}/stem-{position}-{}.wav", path_safe(instrument))
}

/// The mixture if its stems and mix were all written by an earlier run.
pub(crate) fn finished_mixture(
    paths: &ExamplePaths,
    stem_paths: &[PathBuf],
) -> Option<Result<Example>> {
    if stem_paths.iter().all(|p| p.exists()) {
        finished_example(paths)
    } else {
        None
    }
}

/// Sums `stems` (of equal length) into the mix, scales stems and mix together so the mix
/// does not clip and the stems still add up to it, and writes the stems, then the mix.
pub(crate) fn write_mixture(
    paths: &ExamplePaths,
    mut stems: Vec<Vec<f32>>,
    stem_paths: &[PathBuf],
    sample_rate: u32,
    notes: &[Note],
) -> Result<Example> {
    let mut mix = sum(&stems);
    let gain = prevent_clipping(&mut mix, 0.99);
    for (stem, path) in stems.iter_mut().zip(stem_paths) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(SynthError::io(parent))?;
        }
        stem.iter_mut().for_each(|s| *s *= gain);
        write_wav(path, stem, sample_rate, 1, WavFormat::Int16)?;
    }
    write_example(paths, &mix, sample_rate, notes, 0)
}

fn build_mixture(
    job: &MixtureJob,
    entries: &[ManifestEntry],
    root: &Path,
    options: &MixturesOptions,
) -> Result<Example> {
    let paths = ExamplePaths::new(&options.out_dir, format!("{}/mix", job.dir()));
    let stem_paths: Vec<PathBuf> = job
        .members
        .iter()
        .enumerate()
        .map(|(i, &m)| options.out_dir.join(stem_name(job, i, &entries[m])))
        .collect();
    if let Some(done) = finished_mixture(&paths, &stem_paths) {
        return done;
    }
    let (stems, sample_rate) = read_stems(job, entries, root)?;
    let notes = mixture_notes(job, entries, root)?;
    write_mixture(&paths, stems, &stem_paths, sample_rate, &notes)
}

/// The members' audio, padded to the longest, and their common sample rate.
fn read_stems(
    job: &MixtureJob,
    entries: &[ManifestEntry],
    notes_dir: &Path,
) -> Result<(Vec<Vec<f32>>, u32)> {
    let mut stems = Vec::new();
    let mut rate = None;
    for &member in &job.members {
        let path = notes_dir.join(&entries[member].file);
        let audio = read_mono(&path, None, Downmix::Mean)?;
        if *rate.get_or_insert(audio.sample_rate) != audio.sample_rate {
            return Err(SynthError::Invalid(format!(
                "{}: sample rate {} differs from the other stems'",
                path.display(),
                audio.sample_rate
            )));
        }
        stems.push(audio.samples);
    }
    let length = stems.iter().map(Vec::len).max().unwrap_or(0);
    stems.iter_mut().for_each(|s| s.resize(length, 0.0));
    Ok((stems, rate.unwrap_or(16_000)))
}

fn sum(stems: &[Vec<f32>]) -> Vec<f32> {
    let length = stems.first().map_or(0, Vec::len);
    (0..length)
        .map(|i| stems.iter().map(|s| s[i]).sum())
        .collect()
}

/// All members' notes together (the same pitch may sound in two instruments).
fn mixture_notes(
    job: &MixtureJob,
    entries: &[ManifestEntry],
    notes_dir: &Path,
) -> Result<Vec<Note>> {
    let mut notes = Vec::new();
    for &member in &job.members {
        notes.extend(read_csv(notes_dir.join(&entries[member].labels_csv))?);
    }
    sort_notes(&mut notes);
    Ok(notes)
}

fn mixture_entry(job: &MixtureJob, entries: &[ManifestEntry], example: &Example) -> ManifestEntry {
    let members: Vec<&ManifestEntry> = job.members.iter().map(|&m| &entries[m]).collect();
    let paths = ExamplePaths::new(Path::new(""), format!("{}/mix", job.dir()));
    ManifestEntry {
        file: paths.wav_name(),
        split: job.split,
        synthesizer: members
            .iter()
            .map(|e| e.synthesizer.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        labels_csv: paths.csv_name(),
        labels_midi: paths.midi_name(),
        duration: round_micro(example.duration),
        sample_rate: members.first().map_or(16_000, |e| e.sample_rate),
        source: Some(
            members
                .iter()
                .filter_map(|e| e.source.as_deref())
                .collect::<Vec<_>>()
                .join("+"),
        ),
        instruments: members
            .iter()
            .filter_map(|e| e.instruments.first().cloned())
            .collect(),
        families: members
            .iter()
            .filter_map(|e| e.families.first().cloned())
            .collect(),
        stems: job
            .members
            .iter()
            .enumerate()
            .map(|(i, &m)| stem_name(job, i, &entries[m]))
            .collect(),
    }
}
