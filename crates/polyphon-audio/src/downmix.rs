use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::sample::{i24, u24, Sample};

/// How a multi-channel block becomes mono.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Downmix {
    /// Mean of the channels in floating point, integers scaled by 2^-(bits-1) to [-1, 1)
    /// (what librosa and soundfile do).
    #[default]
    Mean,
    /// madmom's `Signal(num_channels=1)`: integer PCM is averaged, truncated back to the
    /// integer type (`np.mean(x, axis=-1).astype(x.dtype)`) and scaled by 1 / `iinfo.max`
    /// as madmom's STFT does; 24-bit samples are seen as scipy reads them, shifted into
    /// 32 bits. Float PCM is averaged as in [`Downmix::Mean`]. Using this makes features
    /// match madmom to float precision instead of to within the truncation noise.
    Madmom,
}

/// Integer sample layout: how a raw integer maps to [-1, 1] under each rule.
struct IntLayout {
    /// Multiplier applied before averaging under the madmom rule (scipy's 24-in-32 shift).
    madmom_shift: f64,
    /// madmom's divisor, `np.iinfo(dtype).max` of the dtype scipy returns.
    madmom_max: f64,
    /// Conventional full scale, 2^(bits-1).
    full_scale: f64,
}

const fn layout(bits: u32, madmom_shift_bits: u32) -> IntLayout {
    let scipy_bits = bits + madmom_shift_bits;
    IntLayout {
        madmom_shift: (1u64 << madmom_shift_bits) as f64,
        madmom_max: ((1u64 << (scipy_bits - 1)) - 1) as f64,
        full_scale: (1u64 << (bits - 1)) as f64,
    }
}

/// Appends the mono mix of `buffer` to `out`; returns whether the samples were floating
/// point (only those can be NaN or infinite).
pub(crate) fn mix_into(buffer: &AudioBufferRef<'_>, rule: Downmix, out: &mut Vec<f32>) -> bool {
    let float = matches!(buffer, AudioBufferRef::F32(_) | AudioBufferRef::F64(_));
    match buffer {
        AudioBufferRef::F32(b) => mix_float(b, |s| s as f64, out),
        AudioBufferRef::F64(b) => mix_float(b, |s| s, out),
        AudioBufferRef::S16(b) => mix_int(b, |s| s as f64, &layout(16, 0), rule, out),
        AudioBufferRef::S24(b) => mix_int(b, |s: i24| s.inner() as f64, &layout(24, 8), rule, out),
        AudioBufferRef::S32(b) => mix_int(b, |s| s as f64, &layout(32, 0), rule, out),
        AudioBufferRef::S8(b) => mix_int(b, |s| s as f64, &layout(8, 0), rule, out),
        // Unsigned PCM is centred first; madmom has no sensible reading of it.
        AudioBufferRef::U8(b) => mix_int(b, |s| s as f64 - 128.0, &layout(8, 0), rule, out),
        AudioBufferRef::U16(b) => mix_int(b, |s| s as f64 - 32768.0, &layout(16, 0), rule, out),
        AudioBufferRef::U24(b) => mix_int(
            b,
            |s: u24| s.inner() as f64 - 8_388_608.0,
            &layout(24, 8),
            rule,
            out,
        ),
        AudioBufferRef::U32(b) => {
            mix_int(b, |s| s as f64 - 2_147_483_648.0, &layout(32, 0), rule, out)
        }
    }
    float
}

fn mix_float<S: Sample>(b: &AudioBuffer<S>, value: impl Fn(S) -> f64, out: &mut Vec<f32>) {
    let sums = channel_sums(b, value);
    let channels = b.spec().channels.count() as f64;
    out.extend(sums.iter().map(|sum| (sum / channels) as f32));
}

fn mix_int<S: Sample>(
    b: &AudioBuffer<S>,
    value: impl Fn(S) -> f64,
    layout: &IntLayout,
    rule: Downmix,
    out: &mut Vec<f32>,
) {
    let sums = channel_sums(b, value);
    let channels = b.spec().channels.count() as f64;
    match rule {
        Downmix::Mean => {
            let scale = 1.0 / (channels * layout.full_scale);
            out.extend(sums.iter().map(|sum| (sum * scale) as f32));
        }
        // `as i64` truncates towards zero like numpy's astype, without a libm call.
        Downmix::Madmom => out.extend(sums.iter().map(|sum| {
            ((sum / channels * layout.madmom_shift) as i64 as f64 / layout.madmom_max) as f32
        })),
    }
}

/// Per-frame sum over channels, exact for integer samples (f64 holds 32-bit sums exactly).
/// Channel by channel, so each pass is a straight loop over one plane.
fn channel_sums<S: Sample>(b: &AudioBuffer<S>, value: impl Fn(S) -> f64) -> Vec<f64> {
    let mut sums = vec![0.0f64; b.frames()];
    for c in 0..b.spec().channels.count() {
        for (sum, &sample) in sums.iter_mut().zip(b.chan(c)) {
            *sum += value(sample);
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;
    use symphonia::core::audio::{AsAudioBufferRef, Channels, SignalSpec};

    fn stereo_i16(left: &[i16], right: &[i16]) -> AudioBuffer<i16> {
        let spec = SignalSpec::new(44_100, Channels::FRONT_LEFT | Channels::FRONT_RIGHT);
        let mut buffer = AudioBuffer::<i16>::new(left.len() as u64, spec);
        buffer.render_reserved(Some(left.len()));
        buffer.chan_mut(0).copy_from_slice(left);
        buffer.chan_mut(1).copy_from_slice(right);
        buffer
    }

    #[test]
    fn mean_rule_averages_in_float() {
        let buffer = stereo_i16(&[1, -16384], &[2, -16384]);
        let mut out = Vec::new();
        mix_into(&buffer.as_audio_buffer_ref(), Downmix::Mean, &mut out);
        assert_eq!(out, vec![1.5 / 32768.0, -0.5]);
    }

    #[test]
    fn madmom_rule_truncates_the_integer_mean_towards_zero() {
        let buffer = stereo_i16(&[1, -1, 32767], &[2, -2, 32767]);
        let mut out = Vec::new();
        mix_into(&buffer.as_audio_buffer_ref(), Downmix::Madmom, &mut out);
        assert_eq!(out, vec![1.0 / 32767.0, -1.0 / 32767.0, 1.0]);
    }
}
