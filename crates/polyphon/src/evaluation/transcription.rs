//! A transcription system scored on one split of a `polyphon synth` data set, file by file.

use std::fmt::Write as _;
use std::path::Path;

use polyphon_core::manifest::{read_split, ManifestEntry, Split};
use polyphon_core::{read_notes, Note};
use polyphon_eval::{evaluate_transcription, TranscriptionReport};

use crate::{Context, Error, Result, Transcriber};

/// Where the estimates of a data-set evaluation come from.
pub enum Estimates<'a> {
    /// Transcribe each file's audio.
    Model(&'a Transcriber),
    /// Read `<folder>/<audio file stem>.csv` (or `.mid`) for each file.
    Folder(&'a Path),
}

impl Estimates<'_> {
    /// The estimated notes of one entry of a manifest in `root`.
    pub fn of(&self, root: &Path, entry: &ManifestEntry) -> Result<Vec<Note>> {
        match self {
            Self::Model(transcriber) => transcriber.transcribe_file(root.join(&entry.file)),
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
                    .ok_or_else(|| {
                        Error::Invalid(format!(
                            "no estimate {stem}.csv or {stem}.mid in {}",
                            folder.display()
                        ))
                    })?;
                Ok(read_notes(&path)?)
            }
        }
    }
}

/// One file's scores.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// The file's entry in the manifest.
    pub entry: ManifestEntry,
    /// Its frame, onset and onset+offset scores against its note list.
    pub report: TranscriptionReport,
}

/// Scores `files` entries of `split` (spread evenly; 0: all), each against its note list;
/// `progress` sees each file's scores as they come.
pub fn evaluate_split(
    manifest: &Path,
    split: Split,
    estimates: &Estimates,
    files: usize,
    mut progress: impl FnMut(usize, usize, &FileReport),
) -> Result<Vec<FileReport>> {
    let entries = read_split(manifest, split)?;
    let chosen = super::spread(&entries, files);
    let root = manifest.parent().unwrap_or(Path::new("."));
    let total = chosen.len();
    let mut reports = Vec::with_capacity(total);
    for (index, entry) in chosen.into_iter().enumerate() {
        let reference = read_notes(root.join(&entry.labels_csv))?;
        let estimate = estimates.of(root, &entry)?;
        let report = evaluate_transcription(&reference, &estimate)
            .context(|| format!("scoring {}", entry.file))?;
        let file = FileReport { entry, report };
        progress(index + 1, total, &file);
        reports.push(file);
    }
    Ok(reports)
}

/// The mean of the files' scores.
pub fn mean(reports: &[FileReport]) -> Option<TranscriptionReport> {
    let only: Vec<TranscriptionReport> = reports.iter().map(|r| r.report).collect();
    TranscriptionReport::mean(&only)
}

/// Every file's scores as CSV, written atomically.
pub fn write_per_file_csv(path: &Path, reports: &[FileReport]) -> Result<()> {
    let mut text = String::from(
        "file,synthesizer,frame_precision,frame_recall,frame_f1,frame_accuracy,\
         onset_precision,onset_recall,onset_f1,onset_offset_precision,onset_offset_recall,onset_offset_f1\n",
    );
    for FileReport { entry, report: r } in reports {
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
    write_text(path, &text)
}

/// Writes `text` to `path` atomically.
pub(crate) fn write_text(path: &Path, text: &str) -> Result<()> {
    polyphon_core::write_atomically(path, text.as_bytes())?;
    Ok(())
}
