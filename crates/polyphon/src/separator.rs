//! Source separation: a mask network over the mixture's STFT, in bounded memory.

use std::path::{Path, PathBuf};

use polyphon_audio::{AudioReader, Downmix, WavFormat, WavStreamWriter};
use polyphon_models::separation::SeparationModel;

pub use crate::separation_stream::{SeparationStream, Stems};
use crate::{invalid, Context, Engine, Result};

/// A separation model and the mask refinement applied to its output.
///
/// ```
/// # fn main() -> polyphon::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let (mix, stems) = (concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/bass_flute_mix.wav"), dir.path());
/// let separator = polyphon::Separator::bundled()?; // bass and flute
/// let written = separator.separate_file(mix, stems, |_done, _total| {})?;
/// assert_eq!(written.len(), separator.sources().len()); // stems/bass_flute_mix_bass.wav, ..._flute.wav
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Separator {
    model: SeparationModel,
    wiener: usize,
}

impl Separator {
    /// `model` with its masks applied as they are (no Wiener refinement).
    pub fn new(model: SeparationModel) -> Self {
        Self { model, wiener: 0 }
    }

    /// The bundled bass + flute U-Net (`unet-bass-flute`).
    #[cfg(feature = "bundled")]
    pub fn bundled() -> Result<Self> {
        Self::from_name_or_path(crate::bundled::DEFAULT_SEPARATION)
    }

    /// A bundled model by name, else the sidecar `polyphon train separation` wrote at that
    /// path.
    pub fn from_name_or_path(choice: &str) -> Result<Self> {
        #[cfg(feature = "bundled")]
        if let Some((name, sidecar, weights)) = crate::bundled::separation(choice) {
            let model = SeparationModel::from_memory(name, sidecar, weights);
            return Ok(Self::new(model.context(crate::bundled::loading(name))?));
        }
        #[cfg(feature = "bundled")]
        let bundled = crate::bundled::separation_names();
        #[cfg(not(feature = "bundled"))]
        let bundled = Vec::new();
        let path = crate::model_file(choice, &bundled)?;
        let model =
            SeparationModel::load(path).context(|| format!("loading the model {choice}"))?;
        Ok(Self::new(model))
    }

    /// Refines the masks by `iterations` of Wiener-style power ratios (`m_j² / Σ m_k²`)
    /// before they are applied (0: the network's masks as they are).
    pub fn with_wiener(mut self, iterations: usize) -> Self {
        self.wiener = iterations;
        self
    }

    /// The same model computed by `engine`: [`Engine::Native`] (the U-Net's default:
    /// folded batch norm, one matrix product per level) or [`Engine::Burn`].
    pub fn with_engine(mut self, engine: Engine) -> Result<Self> {
        self.model = self.model.with_engine(engine)?;
        Ok(self)
    }

    /// The separation model itself.
    pub fn model(&self) -> &SeparationModel {
        &self.model
    }

    /// The sources, in the order of the stems.
    pub fn sources(&self) -> &[String] {
        self.model.sources()
    }

    /// A separation fed blocks of `channels` channels at `sample_rate`.
    pub fn stream(&self, channels: usize, sample_rate: u32) -> Result<SeparationStream<'_>> {
        Ok(SeparationStream::new(&self.model, channels, sample_rate)?.with_wiener(self.wiener))
    }

    /// Separates `channels` (channel → samples at `sample_rate`), held in memory, into
    /// source → channel → samples at the same rate and length.
    pub fn separate(&self, channels: &[Vec<f32>], sample_rate: u32) -> Result<Stems> {
        let mut separator = self.stream(channels.len(), sample_rate)?;
        let mut stems = separator.push(channels)?;
        for (stem, rest) in stems.iter_mut().zip(separator.finish()?) {
            for (channel, samples) in stem.iter_mut().zip(rest) {
                channel.extend(samples);
            }
        }
        Ok(stems)
    }

    /// The files [`separate_file`](Self::separate_file) writes for `input` into `dir`:
    /// `dir/<input stem>_<source>.wav`, one per source.
    pub fn outputs(&self, input: &Path, dir: &Path) -> Vec<PathBuf> {
        let stem = input
            .file_stem()
            .map_or_else(|| "mixture".into(), |s| s.to_string_lossy().into_owned());
        let name = |source: &String| dir.join(format!("{stem}_{source}.wav"));
        self.sources().iter().map(name).collect()
    }

    /// Streams the file `input` through the model into `DIR/<input stem>_<source>.wav` (the
    /// input's rate and channels, 32-bit float), every file under a temporary name until all
    /// of them are complete; `progress` gets the seconds separated so far and the input's
    /// length in seconds where its header tells. Returns the paths.
    pub fn separate_file(
        &self,
        input: impl AsRef<Path>,
        dir: impl AsRef<Path>,
        mut progress: impl FnMut(f64, Option<f64>),
    ) -> Result<Vec<PathBuf>> {
        let (input, dir) = (input.as_ref(), dir.as_ref());
        let mut reader = AudioReader::open(input, Downmix::Mean)
            .context(|| format!("cannot read {}", input.display()))?;
        let info = reader.info().clone();
        let mut separator = self.stream(info.channels, info.sample_rate)?;
        std::fs::create_dir_all(dir)
            .map_err(crate::Error::io(dir))
            .context(|| format!("cannot create {}", dir.display()))?;
        let mut writers = self
            .outputs(input, dir)
            .into_iter()
            .map(|path| {
                WavStreamWriter::create(
                    &path,
                    info.sample_rate,
                    info.channels as u16,
                    WavFormat::Float32,
                )
                .context(|| format!("cannot write {}", path.display()))
            })
            .collect::<Result<Vec<_>>>()?;
        loop {
            let mut block = vec![Vec::new(); info.channels];
            let more = reader
                .read_block_channels(&mut block)
                .context(|| format!("cannot read {}", input.display()))?;
            write_blocks(&mut writers, separator.push(&to_f32(block))?)?;
            progress(separator.separated_seconds(), info.duration_seconds());
            if !more {
                break;
            }
        }
        if separator.input_frames() == 0 {
            return invalid!("{} holds no samples", input.display());
        }
        write_blocks(&mut writers, separator.finish()?)?;
        writers
            .into_iter()
            .map(|w| w.commit().map_err(Into::into))
            .collect()
    }
}

/// Appends each source's channels, interleaved, to its writer.
fn write_blocks(writers: &mut [WavStreamWriter], stems: Stems) -> Result<()> {
    for (writer, channels) in writers.iter_mut().zip(stems) {
        let frames = channels.first().map_or(0, Vec::len);
        let interleaved: Vec<f32> = (0..frames)
            .flat_map(|n| channels.iter().map(move |c| c[n]))
            .collect();
        writer.write_interleaved(&interleaved)?;
    }
    Ok(())
}

/// Decoded channels (f64, as evaluation reads them) as the networks take them.
pub fn to_f32(channels: Vec<Vec<f64>>) -> Vec<Vec<f32>> {
    channels
        .into_iter()
        .map(|c| c.into_iter().map(|x| x as f32).collect())
        .collect()
}
