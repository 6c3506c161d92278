//! `polyphon eval separation --data MANIFEST`: the pairs of a `polyphon synth mixtures`
//! split (`mixtures/<split>/pair-NNNNN/`, a mix and its stems) separated by every system and
//! scored file by file with BSS Eval v4 and SI-SDR; medians over files per system × source.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, ensure, Context, Result};
use polyphon_audio::{read_channels, MultiChannelAudio};
use polyphon_eval::separation::{evaluate_separation, nanmedian, SeparationScores};
use polyphon_synth::manifest::{read_split, ManifestEntry, Split};

use super::separators::{run_separator, IdealRatioMask, MixtureAsEstimate, Separator, Track};

/// STFT of the ideal-ratio-mask baseline: the separation networks' (16 kHz, 64 ms frames).
const IRM_N_FFT: usize = 1024;
const IRM_HOP: usize = 256;

pub struct DatasetEval<'a> {
    pub manifest: &'a Path,
    pub split: &'a str,
    /// Evaluate this many pairs, spread evenly over the split (0: all).
    pub files: usize,
    pub per_file_csv: Option<&'a Path>,
    pub json: bool,
    /// Trained models to score beside the baselines: bundled names or sidecar paths.
    pub models: &'a [String],
    /// With more than 0, every model is scored a second time with this many Wiener iterations.
    pub wiener: usize,
}

/// One system's scores for one source of one file.
#[derive(Debug, Clone)]
pub struct FileScore {
    pub file: String,
    pub system: String,
    pub source: String,
    pub scores: SeparationScores,
    /// SDR minus the mixture's SDR for the same source and file.
    pub sdr_improvement: f64,
}

/// Median over files of one system × source.
#[derive(Debug, Clone)]
pub struct Summary {
    pub system: String,
    pub source: String,
    pub median: SeparationScores,
    pub sdr_improvement: f64,
}

pub fn run(eval: &DatasetEval) -> Result<()> {
    let split: Split = eval.split.parse().map_err(anyhow::Error::msg)?;
    let entries = read_split(eval.manifest, split)?;
    let pairs: Vec<&ManifestEntry> = entries.iter().filter(|e| is_pair(e)).collect();
    if pairs.is_empty() {
        bail!(
            "{}: no pairs in split '{}' (entries mixtures/<split>/pair-NNNNN/mix.wav with stems)",
            eval.manifest.display(),
            eval.split
        );
    }
    let chosen = spread(&pairs, eval.files);
    let root = eval.manifest.parent().unwrap_or(Path::new("."));
    let mut separators: Vec<Box<dyn Separator>> = vec![
        Box::new(MixtureAsEstimate),
        Box::new(IdealRatioMask::new(IRM_N_FFT, IRM_HOP)?),
    ];
    for choice in eval.models {
        let model = crate::bundled::separation_model(Some(choice))?;
        let name = std::path::Path::new(choice)
            .parent()
            .and_then(|p| p.file_name())
            .map_or_else(|| choice.clone(), |n| n.to_string_lossy().into_owned());
        let mut variants = vec![(name.clone(), 0)];
        if eval.wiener > 0 {
            variants.push((format!("{name}+wiener{}", eval.wiener), eval.wiener));
        }
        for (name, wiener) in variants {
            separators.push(Box::new(super::separators::ModelSeparator {
                name,
                model: model.clone(),
                wiener,
            }));
        }
    }
    let mut scores = Vec::new();
    for (index, entry) in chosen.iter().enumerate() {
        let track = load_track(root, entry)?;
        let file_scores = evaluate_track(&separators, &track)?;
        if !eval.json {
            eprintln!(
                "[{}/{}] {}",
                index + 1,
                chosen.len(),
                progress(&file_scores)
            );
        }
        scores.extend(file_scores);
    }
    if let Some(path) = eval.per_file_csv {
        write_per_file_csv(path, &scores)?;
    }
    let summaries = summarise(&scores);
    if eval.json {
        println!("{}", summary_json(eval, chosen.len(), &summaries));
    } else {
        print_table(eval, chosen.len(), &summaries);
    }
    Ok(())
}

/// A bass + flute pair of `polyphon synth mixtures`: its folder is `pair-NNNNN`.
fn is_pair(entry: &ManifestEntry) -> bool {
    let folder = Path::new(&entry.file)
        .parent()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str());
    folder.is_some_and(|n| n.starts_with("pair-"))
}

/// `count` entries spread evenly over `entries` (all of them for 0).
fn spread<'a>(entries: &[&'a ManifestEntry], count: usize) -> Vec<&'a ManifestEntry> {
    if count == 0 || count >= entries.len() {
        return entries.to_vec();
    }
    (0..count)
        .map(|i| entries[i * entries.len() / count])
        .collect()
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
fn load_track(root: &Path, entry: &ManifestEntry) -> Result<Track> {
    ensure!(
        !entry.stems.is_empty(),
        "{}: the manifest lists no stems",
        entry.file
    );
    let mix_path = root.join(&entry.file);
    let mix = read_channels(&mix_path)?;
    let mut sources = Vec::with_capacity(entry.stems.len());
    let mut references = Vec::with_capacity(entry.stems.len());
    for stem in &entry.stems {
        let family = family_of(stem);
        ensure!(
            !sources.contains(&family),
            "{}: two stems of the family '{family}'; sources are named by family",
            entry.file
        );
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
    ensure!(
        stem.sample_rate == mix.sample_rate,
        "{stem_name} is at {} Hz but {mix_name} at {} Hz",
        stem.sample_rate,
        mix.sample_rate
    );
    ensure!(
        stem.channels.len() == mix.channels.len(),
        "{stem_name} has {} channels but {mix_name} has {}",
        stem.channels.len(),
        mix.channels.len()
    );
    ensure!(
        stem.frames() == mix.frames(),
        "{stem_name} has {} samples per channel but {mix_name} has {}: stems must have the \
         mixture's length",
        stem.frames(),
        mix.frames()
    );
    Ok(())
}

/// Decoded channels as the separators take them.
pub fn to_f32(channels: Vec<Vec<f64>>) -> Vec<Vec<f32>> {
    channels
        .into_iter()
        .map(|c| c.into_iter().map(|x| x as f32).collect())
        .collect()
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
pub fn evaluate_track(separators: &[Box<dyn Separator>], track: &Track) -> Result<Vec<FileScore>> {
    let references = to_f64(&track.references);
    let score = |separator: &dyn Separator| -> Result<Vec<SeparationScores>> {
        let estimates = to_f64(&run_separator(separator, track)?);
        let report = evaluate_separation(&references, &estimates, track.sample_rate as usize)
            .with_context(|| format!("cannot score {} on {}", separator.name(), track.name))?;
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

fn progress(scores: &[FileScore]) -> String {
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

fn write_per_file_csv(path: &Path, scores: &[FileScore]) -> Result<()> {
    let mut text = String::from("file,system,source,sdr,sir,sar,isr,si_sdr,sdr_improvement\n");
    for s in scores {
        let v = s.scores;
        let _ = writeln!(
            text,
            "{},{},{},{},{},{},{},{},{}",
            s.file, s.system, s.source, v.sdr, v.sir, v.sar, v.isr, v.si_sdr, s.sdr_improvement
        );
    }
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn summary_json(eval: &DatasetEval, files: usize, summaries: &[Summary]) -> serde_json::Value {
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
        "manifest": eval.manifest.display().to_string(),
        "split": eval.split,
        "files": files,
        "statistic": "median over files",
        "systems": systems,
    })
}

fn print_table(eval: &DatasetEval, files: usize, summaries: &[Summary]) {
    println!(
        "median over {files} pairs of split '{}' in {} (dB; SDR/SIR/SAR/ISR: BSS Eval v4, \
         median over 1 s frames per file; dSDR: SDR minus the mixture's)",
        eval.split,
        eval.manifest.display()
    );
    let width = summaries
        .iter()
        .map(|s| s.system.len().max(s.source.len()))
        .max()
        .unwrap_or(0)
        .max(6);
    println!(
        "{:<width$} {:<width$} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "system", "source", "SDR", "SIR", "SAR", "ISR", "SI-SDR", "dSDR"
    );
    for s in summaries {
        let m = s.median;
        println!(
            "{:<width$} {:<width$} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            s.system, s.source, m.sdr, m.sir, m.sar, m.isr, m.si_sdr, s.sdr_improvement
        );
    }
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
        let separators: Vec<Box<dyn Separator>> = vec![
            Box::new(MixtureAsEstimate),
            Box::new(IdealRatioMask::new(1024, 256).unwrap()),
        ];
        let scores = evaluate_track(&separators, &track).unwrap();
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
