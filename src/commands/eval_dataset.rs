//! `polyphon eval transcription --data MANIFEST`: score a model, or a folder of another
//! system's outputs, on one split of a `polyphon synth` data set, file by file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polyphon_eval::{evaluate_transcription, read_notes, Note, TranscriptionReport};
use polyphon_synth::manifest::{read_split, ManifestEntry, Split};

use super::transcribe::{note_decoder, transcribe_file, Outputs};
use crate::bundled;

/// Where the estimates of a data-set evaluation come from.
pub enum Estimates<'a> {
    /// Transcribe each file's audio with this model (bundled name or sidecar path).
    Model(Option<&'a str>),
    /// Read `<folder>/<audio file stem>.csv` (or `.mid`) for each file.
    Folder(&'a Path),
}

pub struct DatasetEval<'a> {
    pub manifest: &'a Path,
    pub split: &'a str,
    pub estimates: Estimates<'a>,
    /// Evaluate this many files, spread evenly over the split (0: all).
    pub files: usize,
    pub per_file_csv: Option<&'a Path>,
    pub json: bool,
    /// Threshold, minimum frames and maximum gap of the note rule, for a model.
    pub note_rule: (f32, usize, usize),
}

pub fn run(eval: &DatasetEval) -> Result<()> {
    let split: Split = eval.split.parse().map_err(anyhow::Error::msg)?;
    let entries = read_split(eval.manifest, split)?;
    let chosen = spread(&entries, eval.files);
    let root = eval.manifest.parent().unwrap_or(Path::new("."));
    let mut estimator = Estimator::new(&eval.estimates, eval.note_rule)?;
    let mut reports = Vec::with_capacity(chosen.len());
    for (index, entry) in chosen.iter().enumerate() {
        let reference = read_notes(&root.join(&entry.labels_csv))?;
        let estimate = estimator.estimate(root, entry)?;
        let report = evaluate_transcription(&reference, &estimate)
            .with_context(|| format!("scoring {}", entry.file))?;
        if !eval.json {
            eprintln!(
                "[{}/{}] {}: frame F1 {:.3}, onset F1 {:.3}",
                index + 1,
                chosen.len(),
                entry.file,
                report.frame.f1,
                report.onset.f1
            );
        }
        reports.push(((*entry).clone(), report));
    }
    if let Some(path) = eval.per_file_csv {
        write_per_file_csv(path, &reports)?;
    }
    let only_reports: Vec<_> = reports.iter().map(|(_, report)| *report).collect();
    let mean = TranscriptionReport::mean(&only_reports).expect("at least one file");
    if eval.json {
        println!("{}", mean.to_json());
    } else {
        super::eval::print_scores(&mean);
        println!(
            "mean over {} files of split '{}' in {}",
            reports.len(),
            eval.split,
            eval.manifest.display()
        );
    }
    Ok(())
}

/// `count` entries spread evenly over `entries` (all of them for 0), so that a subset still
/// covers every composer of a split sorted by source.
fn spread(entries: &[ManifestEntry], count: usize) -> Vec<&ManifestEntry> {
    if count == 0 || count >= entries.len() {
        return entries.iter().collect();
    }
    (0..count)
        .map(|i| &entries[i * entries.len() / count])
        .collect()
}

enum Estimator<'a> {
    Model {
        // Boxed: the network is large and the other variant a reference.
        model: Box<polyphon_models::TranscriptionModel>,
        decoder: polyphon_decode::NoteDecoder,
    },
    Folder(&'a Path),
}

impl<'a> Estimator<'a> {
    fn new(
        estimates: &Estimates<'a>,
        (threshold, min_frames, max_gap): (f32, usize, usize),
    ) -> Result<Self> {
        Ok(match estimates {
            Estimates::Model(choice) => {
                let model = bundled::transcription_model(*choice)?;
                let decoder = note_decoder(&model, threshold, min_frames, max_gap);
                Self::Model {
                    model: Box::new(model),
                    decoder,
                }
            }
            Estimates::Folder(folder) => Self::Folder(folder),
        })
    }

    fn estimate(&mut self, root: &Path, entry: &ManifestEntry) -> Result<Vec<Note>> {
        match self {
            Self::Model { model, decoder } => {
                let notes =
                    transcribe_file(model, decoder, &root.join(&entry.file), &Outputs::default())?;
                Ok(notes
                    .iter()
                    .map(|note| Note {
                        onset: note.onset,
                        offset: note.offset,
                        pitch: f64::from(note.pitch),
                        velocity: note.velocity,
                    })
                    .collect())
            }
            Self::Folder(folder) => {
                let stem = Path::new(&entry.file)
                    .file_stem()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned();
                let path = ["csv", "mid"]
                    .iter()
                    .map(|extension| folder.join(format!("{stem}.{extension}")))
                    .find(|path| path.exists())
                    .with_context(|| {
                        format!(
                            "no estimate {stem}.csv or {stem}.mid in {}",
                            folder.display()
                        )
                    })?;
                Ok(read_notes(&path)?)
            }
        }
    }
}

fn write_per_file_csv(path: &Path, reports: &[(ManifestEntry, TranscriptionReport)]) -> Result<()> {
    let mut text = String::from(
        "file,synthesizer,frame_precision,frame_recall,frame_f1,frame_accuracy,\
         onset_precision,onset_recall,onset_f1,onset_offset_precision,onset_offset_recall,onset_offset_f1\n",
    );
    for (entry, r) in reports {
        let _ = writeln!(
            text,
            "{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6},{:.6}",
            entry.file,
            entry.synthesizer,
            r.frame.precision,
            r.frame.recall,
            r.frame.f1,
            r.frame.accuracy,
            r.onset.precision,
            r.onset.recall,
            r.onset.f1,
            r.onset_offset.precision,
            r.onset_offset.recall,
            r.onset_offset.f1
        );
    }
    let temp = PathBuf::from(format!("{}.partial", path.display()));
    std::fs::write(&temp, text)
        .and_then(|_| std::fs::rename(&temp, path))
        .with_context(|| format!("writing {}", path.display()))
}
