//! The log-filtered spectrogram against madmom and the mel spectrogram against librosa, from
//! file to array, on one long file.

use std::fmt;
use std::path::{Path, PathBuf};

use polyphon_audio::{Downmix, MonoStream};
use polyphon_features::{Extractor, FeatureSpec, MelFilterbankParams, SpectrumKind};

use super::{best_of, run_python_json, single_thread, write_test_signal};
use crate::Result;

/// What to measure (`polyphon bench frontend`'s flags).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct FrontendBench {
    /// Length of the generated test file, in minutes.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 10.0))]
    pub minutes: f64,
    /// Use this audio file instead of a generated one.
    #[cfg_attr(feature = "cli", arg(long))]
    pub input: Option<PathBuf>,
    /// Python interpreter with the packages of tools/requirements.txt.
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "/opt/polyphon-tools-venv/bin/python")
    )]
    pub python: PathBuf,
    /// Time polyphon only.
    #[cfg_attr(feature = "cli", arg(long))]
    pub skip_python: bool,
    /// Runs per measurement; the best is reported.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 3))]
    pub repeat: usize,
}

/// One front-end's wall times.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    /// Best wall time on one thread (decoding included), seconds.
    pub one_thread: f64,
    /// Best wall time on all of rayon's threads (decoding included), seconds.
    pub all_threads: f64,
    /// Frames of the spectrogram computed.
    pub frames: usize,
}

/// The measurements, printed as the table of `polyphon bench frontend`.
pub struct FrontendTimes {
    /// The audio file measured, given or generated.
    pub input: PathBuf,
    /// Threads of the all-threads column (rayon's pool).
    pub threads: usize,
    /// Decoding and down-mixing alone.
    pub decode: f64,
    /// The log-filtered spectrogram of Kelz et al. 2016 (229 bins).
    pub logfilt: Timing,
    /// The mel spectrogram with librosa's defaults at 44.1 kHz (n_fft 2048, hop 512).
    pub mel: Timing,
    /// The peers' timings as `tools/bench_frontend.py` printed them.
    pub peers: Option<serde_json::Value>,
}

/// Times polyphon's front-ends (and the peers, with a Python interpreter) on one file.
pub fn bench_frontend(bench: &FrontendBench) -> Result<FrontendTimes> {
    let temp = tempfile::tempdir().map_err(crate::Error::io(std::env::temp_dir()))?;
    let input = match &bench.input {
        Some(path) => path.clone(),
        None => {
            let path = temp.path().join("bench.wav");
            write_test_signal(&path, bench.minutes)?;
            path
        }
    };
    let mel = FeatureSpec::librosa_mel(
        44_100,
        2048,
        512,
        SpectrumKind::Power,
        MelFilterbankParams::default(),
        None,
    )?;
    let decode = time_decoding(&input, bench.repeat)?;
    let logfilt = time_polyphon(&FeatureSpec::kelz2016(), &input, bench.repeat)?;
    let mel = time_polyphon(&mel, &input, bench.repeat)?;
    let peers = match bench.skip_python {
        true => None,
        false => {
            let python = &bench.python;
            let repeat = bench.repeat.to_string();
            let args = [input.as_os_str(), "--repeat".as_ref(), repeat.as_ref()];
            Some(run_python_json(python, "bench_frontend.py", &args)?)
        }
    };
    Ok(FrontendTimes {
        input,
        threads: rayon::current_num_threads(),
        decode,
        logfilt,
        mel,
        peers,
    })
}

/// Best-of-`repeat` wall time of decoding `input` and computing `spec`, on 1 and on all threads.
fn time_polyphon(spec: &FeatureSpec, input: &Path, repeat: usize) -> Result<Timing> {
    let single = single_thread()?;
    let extractor = Extractor::new(spec.clone())?;
    let mut frames = 0;
    // One rayon thread and no decoding thread: strictly single-threaded.
    let one_thread = best_of(repeat, || {
        frames = single
            .install(|| extractor.extract_file(input, false))?
            .num_frames;
        Ok(())
    })?;
    let all_threads = best_of(repeat, || {
        extractor.extract_file(input, true)?;
        Ok(())
    })?;
    Ok(Timing {
        one_thread,
        all_threads,
        frames,
    })
}

/// Best-of-`repeat` wall time of decoding `input` to mono without any front-end.
fn time_decoding(input: &Path, repeat: usize) -> Result<f64> {
    best_of(repeat, || {
        let mut stream = MonoStream::open(input, None, Downmix::Madmom)?;
        let mut block = Vec::new();
        while stream.read_block(&mut block)? {
            block.clear();
        }
        Ok(())
    })
}

impl fmt::Display for FrontendTimes {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let threads = self.threads;
        writeln!(
            f,
            "input: {} ({:.1} min of audio); polyphon threads: 1 and {threads}",
            self.input.display(),
            self.logfilt.frames as f64 / 6000.0
        )?;
        writeln!(
            f,
            "{:<34} {:>10} {:>10} {:>18} {:>10} {:>9} {:>9}",
            "front-end",
            "ours 1 thr",
            format!("ours {threads} thr"),
            "peer",
            "peer",
            "x (1 thr)",
            format!("x ({threads} thr)")
        )?;
        writeln!(
            f,
            "{:<34} {:>9.3}s (decoding and down-mixing alone, included in every row)",
            "decode", self.decode
        )?;
        let peer = |key: &str| self.peers.as_ref().and_then(|p| p[key].as_f64());
        let version = |key: &str| {
            let peers = self.peers.as_ref();
            peers
                .and_then(|p| p[key].as_str())
                .unwrap_or_default()
                .to_string()
        };
        let rows = [
            (
                "logfilt (Kelz 2016, 229 bins)",
                &self.logfilt,
                "madmom",
                "madmom_logfilt",
            ),
            (
                "mel (librosa defaults, 44.1 kHz)",
                &self.mel,
                "librosa",
                "librosa_mel",
            ),
        ];
        for (name, ours, peer_name, key) in rows {
            let peer = peer(key);
            let ratio = |ours: f64| peer.map_or("-".to_string(), |p| format!("{:.1}x", p / ours));
            writeln!(
                f,
                "{:<34} {:>9.3}s {:>9.3}s {:>18} {:>10} {:>9} {:>9}",
                name,
                ours.one_thread,
                ours.all_threads,
                format!("{peer_name} {}", version(peer_name)),
                peer.map_or("-".to_string(), |p| format!("{p:.3}s")),
                ratio(ours.one_thread),
                ratio(ours.all_threads)
            )?;
        }
        Ok(())
    }
}
