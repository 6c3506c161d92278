//! A spectrogram of a file written as `.npy` and/or PNG, streamed in bounded memory.

use std::path::{Path, PathBuf};

use polyphon_features::{ColumnPooler, ContextWindows, Extractor, FeatureSpec, NpyWriter};

use crate::Result;

/// What [`write_features`] writes.
#[derive(Debug, Clone, Default)]
pub struct FeatureOutputs {
    /// float32 `(frames, bins)`, or `(frames, 2·context+1, bins)` with context.
    pub npy: Option<PathBuf>,
    /// The spectrogram drawn, time left to right, low bins at the bottom.
    pub png: Option<PathBuf>,
    /// Neighbouring frames stacked on each side of every row (edge frames repeated).
    pub context: usize,
}

/// The most neighbouring frames [`FeatureOutputs::context`] stacks on each side: 5 s at
/// 100 fps. Every row of the output repeats `2·context+1` frames, so a larger context asks
/// for hundreds of megabytes per row.
pub const MAX_CONTEXT: usize = 500;

/// What was written: frames and bins per frame.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureShape {
    /// Frames (rows) of the spectrogram.
    pub frames: usize,
    /// Bins per frame (before any context stacking).
    pub bins: usize,
}

/// Computes `spec` over the file `input` and writes `outputs`, each under its name only once
/// complete (the `.npy` header is patched at the end, and a dB scaling relative to the file's
/// maximum is applied in place then); memory stays flat whatever the file's length.
/// `progress` gets the frames done and, where the header tells, the frames in all.
pub fn write_features(
    input: &Path,
    spec: &FeatureSpec,
    outputs: &FeatureOutputs,
    mut progress: impl FnMut(usize, Option<usize>),
) -> Result<FeatureShape> {
    if outputs.context > MAX_CONTEXT {
        return crate::invalid!(
            "a context of {} frames on each side is more than the {MAX_CONTEXT} allowed",
            outputs.context
        );
    }
    let extractor = Extractor::new(spec.clone())?;
    let mut audio = extractor.open(input)?;
    let bins = extractor.num_bins();
    let context = outputs.context;
    let mut npy = outputs
        .npy
        .as_ref()
        .map(|path| match context {
            0 => NpyWriter::create(path, &[bins]),
            _ => NpyWriter::create(path, &[2 * context + 1, bins]),
        })
        .transpose()?;
    let mut windows = ContextWindows::new(bins, context);
    let mut stacked = Vec::new();
    let mut pooler = outputs.png.as_ref().map(|_| ColumnPooler::new(1600));
    let total = audio.expected_len().map(|n| spec.grid.num_frames(n));
    let mut done = 0;
    let finish = extractor.run(&mut audio, |rows| {
        if let Some(pooler) = pooler.as_mut() {
            rows.chunks_exact(bins).for_each(|row| pooler.push(row));
        }
        if let Some(npy) = npy.as_mut() {
            if context == 0 {
                npy.write_rows(rows)?;
            } else {
                stacked.clear();
                rows.chunks_exact(bins)
                    .for_each(|row| windows.push(row, &mut stacked));
                npy.write_rows(&stacked)?;
            }
        }
        done += rows.len() / bins;
        progress(done, total);
        Ok(())
    })?;
    if let Some(mut npy) = npy {
        stacked.clear();
        windows.finish(&mut stacked);
        npy.write_rows(&stacked)?;
        if finish.adjustment.is_some() {
            npy.transform_in_place(|values| finish.apply(values))?;
        }
        npy.finish()?;
    }
    if let (Some(mut pooler), Some(path)) = (pooler, outputs.png.as_ref()) {
        pooler.map_values(|values| finish.apply(values));
        pooler.into_image().write_png(path)?;
    }
    Ok(FeatureShape {
        frames: finish.num_frames,
        bins,
    })
}
