//! Batch jobs over many files, as collections are transcribed: a file list, one shard of it
//! per job of an array (Slurm, Kubernetes Indexed Jobs), inputs whose outputs exist skipped,
//! a JSON-lines status per input, and every input tried however many fail before it.
//!
//! ```
//! use polyphon::batch::{BatchOptions, Shard};
//!
//! // Shard 1 of 3: the inputs whose path hashes to 1 (mod 3); two shards never share one.
//! let inputs: Vec<std::path::PathBuf> = (0..9).map(|i| format!("{i}.wav").into()).collect();
//! let shard = Shard::parse("1/3").unwrap();
//! let mine: Vec<_> = inputs.iter().filter(|input| shard.holds(input)).collect();
//! assert!(!mine.is_empty() && mine.len() < 9);
//! let others = Shard::parse("0/3").unwrap();
//! assert!(mine.iter().all(|input| !others.holds(input)));
//! # let _ = BatchOptions::default();
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::{invalid, Error, Result};

/// How a batch of inputs is chosen and recorded (the `--list`, `--shard`, `--overwrite` and
/// `--status` flags of `transcribe`, `separate` and `classify`).
#[cfg_attr(feature = "cli", derive(clap::Args))]
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Also take the inputs listed in this file, one path per line (relative to the current
    /// folder; blank lines and lines starting with # are skipped).
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILES.txt"))]
    pub list: Option<PathBuf>,
    /// Process shard K of N only (0 <= K < N): an input belongs to the shard its path hashes
    /// to, so the N shards of one list process every input exactly once. `--shard N` takes K
    /// from JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN;
    /// without --shard, a Slurm job array's SLURM_ARRAY_TASK_ID and _COUNT are used.
    #[cfg_attr(feature = "cli", arg(long, value_name = "K/N"))]
    pub shard: Option<String>,
    /// With --list or --shard, inputs whose outputs all exist are skipped (a rerun finishes
    /// what a killed one left); --overwrite redoes them.
    #[cfg_attr(feature = "cli", arg(long))]
    pub overwrite: bool,
    /// Append one JSON line per input to this file: {"input", "status": "done", "skipped"
    /// or "failed", "outputs" or "error", "seconds"}.
    #[cfg_attr(feature = "cli", arg(long, value_name = "FILE.jsonl"))]
    pub status: Option<PathBuf>,
}

/// One shard of a list: the inputs whose path hashes to `index` modulo `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// K, counted from 0.
    pub index: u64,
    /// N, the number of shards.
    pub count: u64,
}

impl Shard {
    /// `"K/N"`, or `"N"` with K from the environment (see [`BatchOptions::shard`]).
    pub fn parse(text: &str) -> Result<Self> {
        let number = |part: &str| part.trim().parse::<u64>().ok();
        let (index, count) = match text.split_once('/') {
            Some((index, count)) => (number(index), number(count)),
            None => (environment_index(), number(text)),
        };
        let Some(count) = count.filter(|&count| count > 0) else {
            return invalid!("--shard {text:?}: expected K/N with N >= 1 (e.g. 0/4), or N");
        };
        let Some(index) = index else {
            return invalid!(
                "--shard {text:?}: no shard index: give K/N, or set JOB_COMPLETION_INDEX or \
                 SLURM_ARRAY_TASK_ID"
            );
        };
        if index >= count {
            return invalid!("--shard {index}/{count}: K must be below N (shards count from 0)");
        }
        Ok(Self { index, count })
    }

    /// The shard of a Slurm job array, where this process is one of its tasks.
    fn from_slurm() -> Option<Result<Self>> {
        let count = std::env::var("SLURM_ARRAY_TASK_COUNT").ok()?;
        let index = environment_index()?;
        Some(Self::parse(&format!("{index}/{count}")))
    }

    /// Whether `input` belongs to this shard: the first 8 bytes of the SHA-256 of its path
    /// as given, modulo the count (the same on every machine and in every order of the list).
    pub fn holds(&self, input: &Path) -> bool {
        let digest = polyphon_core::checksum::sha256_hex(input.as_os_str().as_encoded_bytes());
        let head = u64::from_str_radix(&digest[..16], 16).expect("hexadecimal digits");
        head % self.count == self.index
    }
}

/// This task's index in a Kubernetes Indexed Job or a Slurm job array.
fn environment_index() -> Option<u64> {
    let read = |name: &str| std::env::var(name).ok()?.trim().parse::<u64>().ok();
    read("JOB_COMPLETION_INDEX").or_else(|| {
        let id = read("SLURM_ARRAY_TASK_ID")?;
        id.checked_sub(read("SLURM_ARRAY_TASK_MIN").unwrap_or(0))
    })
}

/// `error` on one line, naming `input` where it does not already.
fn failure(input: &Path, error: &impl std::fmt::Display) -> String {
    let message = error.to_string().replace('\n', " ");
    let name = input.display().to_string();
    match message.contains(&name) {
        true => message,
        false => format!("{name}: {message}"),
    }
}

/// An error where two of `inputs` share a file stem (`a/x.wav`, `b/x.flac`), as their
/// outputs in one folder (`<stem>.mid`, `<stem>_<source>.wav`) would share names: the later
/// would replace the earlier.
pub fn check_distinct_stems(inputs: &[impl AsRef<Path>]) -> Result<()> {
    let mut seen = std::collections::HashMap::new();
    for input in inputs.iter().map(AsRef::as_ref) {
        let stem = input.file_stem().unwrap_or_default();
        if let Some(earlier) = seen.insert(stem, input) {
            return invalid!(
                "{} and {} would both be written as {}.*; give them separate runs or \
                 output folders",
                earlier.display(),
                input.display(),
                stem.to_string_lossy()
            );
        }
    }
    Ok(())
}

/// What became of one input.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Processed; the message is what the command prints for it.
    Done(String),
    /// Every output existed already (batch mode without `--overwrite`).
    Skipped,
    /// The error, on one line, naming the input.
    Failed(String),
}

/// The counts of a finished batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchSummary {
    /// Inputs processed.
    pub done: usize,
    /// Inputs whose outputs all existed.
    pub skipped: usize,
    /// Inputs that failed.
    pub failed: usize,
}

impl BatchSummary {
    /// An error counting the failed inputs, where any failed.
    pub fn check(&self) -> Result<()> {
        if self.failed == 0 {
            return Ok(());
        }
        let all = self.done + self.skipped + self.failed;
        invalid!("{} of {all} inputs failed", self.failed)
    }
}

impl BatchOptions {
    /// Whether the batch rules (skipping, sharding) apply: with `--list` or `--shard`, or in
    /// a Slurm job array.
    pub fn is_batch(&self) -> bool {
        self.list.is_some()
            || self.shard.is_some()
            || std::env::var_os("SLURM_ARRAY_TASK_COUNT").is_some()
    }

    /// The inputs given and listed, in order, limited to this process's shard.
    pub fn inputs(&self, given: &[PathBuf]) -> Result<Vec<PathBuf>> {
        let mut inputs = given.to_vec();
        if let Some(list) = &self.list {
            let text = std::fs::read_to_string(list).map_err(Error::io(list))?;
            let lines = text.lines().map(str::trim);
            inputs.extend(
                lines
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(PathBuf::from),
            );
        }
        let shard = match &self.shard {
            Some(text) => Some(Shard::parse(text)?),
            None => Shard::from_slurm().transpose()?,
        };
        if let Some(shard) = shard {
            inputs.retain(|input| shard.holds(input));
        }
        Ok(inputs)
    }

    /// Runs `job` on each of `inputs` whose outputs (`outputs_of`) are not all there (in
    /// batch mode, without `--overwrite`), going on past failures; `report` hears of each
    /// input as it ends, and the status file gets its line.
    pub fn run<E: std::fmt::Display>(
        &self,
        inputs: &[PathBuf],
        outputs_of: impl Fn(&Path) -> Vec<PathBuf>,
        mut job: impl FnMut(&Path) -> std::result::Result<String, E>,
        mut report: impl FnMut(&Path, &Outcome),
    ) -> Result<BatchSummary> {
        let mut status = match &self.status {
            Some(path) => Some(StatusLog::open(path)?),
            None => None,
        };
        let skip_done = self.is_batch() && !self.overwrite;
        let mut summary = BatchSummary::default();
        for input in inputs {
            let started = Instant::now();
            let outputs = outputs_of(input);
            let done = !outputs.is_empty() && outputs.iter().all(|path| path.is_file());
            let outcome = match skip_done && done {
                true => Outcome::Skipped,
                false => match job(input) {
                    Ok(message) => Outcome::Done(message),
                    Err(error) => Outcome::Failed(failure(input, &error)),
                },
            };
            match &outcome {
                Outcome::Done(_) => summary.done += 1,
                Outcome::Skipped => summary.skipped += 1,
                Outcome::Failed(_) => summary.failed += 1,
            }
            report(input, &outcome);
            if let Some(log) = status.as_mut() {
                log.record(input, &outcome, &outputs, started.elapsed().as_secs_f64())?;
            }
        }
        Ok(summary)
    }
}

/// The JSON-lines status file, appended to one whole line at a time (so that shards may
/// share one file on a local file system).
struct StatusLog {
    path: PathBuf,
    file: std::fs::File,
}

impl StatusLog {
    fn open(path: &Path) -> Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(Error::io(path))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    fn record(
        &mut self,
        input: &Path,
        outcome: &Outcome,
        outputs: &[PathBuf],
        seconds: f64,
    ) -> Result<()> {
        let names: Vec<String> = outputs.iter().map(|p| p.display().to_string()).collect();
        let mut line = serde_json::json!({"input": input.display().to_string()});
        let fields = line.as_object_mut().expect("an object");
        let (status, detail) = match outcome {
            Outcome::Done(_) => ("done", ("outputs", names.into())),
            Outcome::Skipped => ("skipped", ("outputs", names.into())),
            Outcome::Failed(error) => ("failed", ("error", error.clone().into())),
        };
        fields.insert("status".into(), status.into());
        fields.insert(detail.0.into(), detail.1);
        fields.insert("seconds".into(), ((seconds * 1e3).round() / 1e3).into());
        let text = serde_json::to_string(&line).expect("plain data serialises") + "\n";
        self.file
            .write_all(text.as_bytes())
            .map_err(Error::io(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(count: usize) -> Vec<PathBuf> {
        (0..count)
            .map(|i| format!("music/{i:04}.wav").into())
            .collect()
    }

    #[test]
    fn shards_split_a_list_into_disjoint_parts_that_cover_it() {
        let inputs = paths(1000);
        let mut seen = vec![0; inputs.len()];
        let mut sizes = Vec::new();
        for index in 0..4 {
            let shard = Shard::parse(&format!("{index}/4")).unwrap();
            let mine: Vec<usize> = (0..inputs.len())
                .filter(|&i| shard.holds(&inputs[i]))
                .collect();
            mine.iter().for_each(|&i| seen[i] += 1);
            sizes.push(mine.len());
        }
        assert!(seen.iter().all(|&count| count == 1));
        assert!(
            sizes.iter().all(|&size| (200..300).contains(&size)),
            "{sizes:?}"
        );
    }

    #[test]
    fn shard_texts_are_checked() {
        assert_eq!(Shard::parse("2/5").unwrap(), Shard { index: 2, count: 5 });
        for bad in ["5/5", "1/0", "a/3", "-1/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_batch_skips_what_is_done_goes_on_past_failures_and_records_each_input() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("files.txt");
        std::fs::write(&list, "# inputs\na.wav\n\nbad.wav\nb.wav\n").unwrap();
        let status = dir.path().join("status.jsonl");
        let options = BatchOptions {
            list: Some(list),
            status: Some(status.clone()),
            ..BatchOptions::default()
        };
        let inputs = options.inputs(&[]).unwrap();
        assert_eq!(inputs, ["a.wav", "bad.wav", "b.wav"].map(PathBuf::from));
        let out = |input: &Path| vec![dir.path().join(input.with_extension("mid"))];
        std::fs::write(dir.path().join("a.mid"), b"done before").unwrap();
        let mut heard = Vec::new();
        let summary = options
            .run(
                &inputs,
                out,
                |input| match input.to_str() {
                    Some("bad.wav") => invalid!("bad.wav: not audio"),
                    _ => Ok("1 note".into()),
                },
                |input, outcome| heard.push((input.to_path_buf(), outcome.clone())),
            )
            .unwrap();
        assert_eq!(
            summary,
            BatchSummary {
                done: 1,
                skipped: 1,
                failed: 1
            }
        );
        assert_eq!(heard[0].1, Outcome::Skipped);
        assert_eq!(heard[1].1, Outcome::Failed("bad.wav: not audio".into()));
        assert_eq!(
            summary.check().unwrap_err().to_string(),
            "1 of 3 inputs failed"
        );
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&status)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let statuses: Vec<&str> = lines
            .iter()
            .map(|l| l["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["skipped", "failed", "done"]);
        assert_eq!(lines[1]["error"], "bad.wav: not audio");
    }
}
