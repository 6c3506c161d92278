use std::fs::File;
use std::path::{Path, PathBuf};

use polyphon_core::SeededRng;
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::channels::append_channels;
use crate::downmix::{mix_into, Downmix};
use crate::{AudioError, Result};

/// What the container says about the audio before any of it is decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    pub sample_rate: u32,
    pub channels: usize,
    /// Samples per channel, when the container announces it (WAV and FLAC do, MP3 may not).
    pub frames: Option<u64>,
}

impl AudioInfo {
    /// Duration in seconds, when the length is known.
    pub fn duration_seconds(&self) -> Option<f64> {
        self.frames.map(|n| n as f64 / self.sample_rate as f64)
    }
}

/// Decodes an audio file packet by packet into mono blocks at the file's own sample rate.
///
/// Memory use is one packet, whatever the file's length.
pub struct AudioReader {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    info: AudioInfo,
    downmix: Downmix,
    frames_read: u64,
    finished: bool,
    /// For audio of 8 bits or fewer, one quantisation step and the dither's generator (see
    /// [`Self::read_block`]).
    coarse: Option<(f32, SeededRng)>,
}

impl AudioReader {
    /// Opens `path`, recognises its container and codec, and reads its header.
    pub fn open(path: impl AsRef<Path>, downmix: Downmix) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = File::open(&path).map_err(|source| AudioError::Io {
            path: path.clone(),
            source,
        })?;
        let length = file.metadata().map(|m| m.len()).unwrap_or(0);
        if length == 0 {
            return Err(AudioError::EmptyFile { path });
        }
        let head = read_head(&path, &file)?;
        check_wav_header(&path, &head)?;
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let mut hint = Hint::new();
        if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
            hint.with_extension(extension);
        }
        let probed = symphonia::default::get_probe()
            .format(
                &hint,
                stream,
                // Gapless: the MP3 reader trims the encoder's delay and padding (from the
                // LAME/Xing tag), so an MP3's notes fall where its WAV's do.
                &FormatOptions {
                    enable_gapless: true,
                    ..FormatOptions::default()
                },
                &MetadataOptions::default(),
            )
            .map_err(|e| classify_open_error(&path, &head, e))?;
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| AudioError::NoSamples { path: path.clone() })?;
        let params = track.codec_params.clone();
        let track_id = track.id;
        let decoder = symphonia::default::get_codecs()
            .make(&params, &DecoderOptions::default())
            .map_err(|e| AudioError::UnsupportedCodec {
                path: path.clone(),
                detail: e.to_string(),
            })?;
        let sample_rate = params
            .sample_rate
            .filter(|rate| (1..=MAX_SAMPLE_RATE).contains(rate))
            .ok_or_else(|| AudioError::InvalidAudio {
                path: path.clone(),
                detail: format!(
                    "sample rate {} is not between 1 and {MAX_SAMPLE_RATE} Hz",
                    params.sample_rate.unwrap_or(0)
                ),
            })?;
        let channels = params.channels.map(|c| c.count()).unwrap_or(1);
        let coarse = match params.bits_per_sample {
            // One 8-bit step: 1/128, or 1/127 under madmom's scale (Downmix::Madmom).
            Some(bits) if bits <= 8 => Some((1.0 / 127.0, SeededRng::new(0, "dither"))),
            _ => None,
        };
        let info = AudioInfo {
            sample_rate,
            channels,
            frames: params.n_frames,
        };
        Ok(Self {
            path,
            format,
            decoder,
            track_id,
            info,
            downmix,
            frames_read: 0,
            finished: false,
            coarse,
        })
    }

    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Samples per channel decoded so far.
    pub fn frames_read(&self) -> u64 {
        self.frames_read
    }

    /// Decodes the next packet and appends its mono mix to `out`.
    ///
    /// Returns `Ok(false)` once the stream has ended. Fails on a non-finite sample, on a file
    /// that ends before the length its header announces, and on one with no samples at all.
    ///
    /// Audio of 8 bits or fewer is read as if it had been dithered: samples within one
    /// quantisation step of zero read as zero, the others get triangular noise of one step
    /// (seeded, so every read is the same). Undithered, quantising a chord's quiet tail to a
    /// few levels makes tones of its own (a C major chord's tail sounds C2 and C3), which a
    /// transcriber takes for notes; as noise, the error is what a listener hears.
    pub fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool> {
        while !self.finished {
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    self.finish()?;
                    return Ok(false);
                }
                Err(e) => return Err(self.decode_error(e)),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(decoded) => decoded,
                Err(e) => return Err(self.decode_error(e)),
            };
            let start = out.len();
            if mix_into(&decoded, self.downmix, out) {
                self.check_finite(&out[start..])?;
            }
            if let Some((step, rng)) = self.coarse.as_mut() {
                dither(&mut out[start..], *step, rng);
            }
            self.frames_read += (out.len() - start) as u64;
            if out.len() > start {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Decodes the next packet and appends each channel, in f64, to `out[channel]` (see
    /// [`crate::read_channels`]); `out` must have one vector per channel of the file.
    ///
    /// Returns `Ok(false)` once the stream has ended; fails as [`Self::read_block`] does.
    pub fn read_block_channels(&mut self, out: &mut [Vec<f64>]) -> Result<bool> {
        while !self.finished {
            let packet = match self.format.next_packet() {
                Ok(packet) => packet,
                Err(SymphoniaError::IoError(e))
                    if e.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    self.finish()?;
                    return Ok(false);
                }
                Err(e) => return Err(self.decode_error(e)),
            };
            if packet.track_id() != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(decoded) => decoded,
                Err(e) => return Err(self.decode_error(e)),
            };
            let start = out.first().map_or(0, Vec::len);
            let (channels, float) = append_channels(&decoded, out);
            if channels != out.len() {
                return Err(AudioError::InvalidAudio {
                    path: self.path.clone(),
                    detail: format!("a packet has {channels} channels, expected {}", out.len()),
                });
            }
            if float {
                for channel in out.iter() {
                    if let Some(i) = channel[start..].iter().position(|v| !v.is_finite()) {
                        return Err(AudioError::NonFinite {
                            path: self.path.clone(),
                            index: self.frames_read + i as u64,
                            value: channel[start + i],
                        });
                    }
                }
            }
            let added = out.first().map_or(0, Vec::len) - start;
            self.frames_read += added as u64;
            if added > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn finish(&mut self) -> Result<()> {
        self.finished = true;
        if self.frames_read == 0 {
            return Err(AudioError::NoSamples {
                path: self.path.clone(),
            });
        }
        match self.info.frames {
            Some(expected) if self.frames_read < expected => Err(AudioError::Truncated {
                path: self.path.clone(),
                expected,
                found: self.frames_read,
            }),
            _ => Ok(()),
        }
    }

    fn check_finite(&self, block: &[f32]) -> Result<()> {
        match block.iter().position(|s| !s.is_finite()) {
            None => Ok(()),
            Some(i) => Err(AudioError::NonFinite {
                path: self.path.clone(),
                index: self.frames_read + i as u64,
                value: block[i] as f64,
            }),
        }
    }

    fn decode_error(&self, error: SymphoniaError) -> AudioError {
        match error {
            SymphoniaError::Unsupported(what) => AudioError::UnsupportedCodec {
                path: self.path.clone(),
                detail: what.to_string(),
            },
            other => AudioError::Decode {
                path: self.path.clone(),
                detail: other.to_string(),
            },
        }
    }
}

/// The highest sample rate accepted (twice DXD's 352.8 kHz); a header claiming more is
/// corrupt, and trusting it would size buffers from it.
pub const MAX_SAMPLE_RATE: u32 = 768_000;
/// The most channels accepted in a WAV file.
const MAX_WAV_CHANNELS: u16 = 64;

/// Checks a RIFF/WAVE file's format chunk before symphonia reads it: its WAV reader panics on
/// a zero sample rate and trusts any other value. Other files pass unchecked.
/// The file's first 4 KiB (fewer if it is shorter), the file rewound to its start.
fn read_head(path: &Path, file: &File) -> Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut head = Vec::with_capacity(4096);
    let mut reader = file;
    reader
        .take(4096)
        .read_to_end(&mut head)
        .and_then(|_| reader.seek(SeekFrom::Start(0)))
        .map_err(|source| AudioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(head)
}

/// Whether `head` begins as a container this build reads: RIFF/WAVE, FLAC, Ogg, or MP3
/// (an ID3 tag or a frame sync).
fn begins_as_readable_audio(head: &[u8]) -> bool {
    let riff = head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WAVE";
    let mp3_sync = head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0;
    riff || mp3_sync
        || [&b"fLaC"[..], b"OggS", b"ID3"]
            .iter()
            .any(|magic| head.starts_with(magic))
}

fn check_wav_header(path: &Path, head: &[u8]) -> Result<()> {
    if head.len() < 12 || &head[..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return Ok(());
    }
    let invalid = |detail: String| AudioError::InvalidAudio {
        path: path.to_path_buf(),
        detail,
    };
    let mut at = 12;
    while at + 8 <= head.len() {
        let size = u32::from_le_bytes(head[at + 4..at + 8].try_into().unwrap()) as usize;
        if &head[at..at + 4] == b"fmt " {
            let Some(fmt) = head.get(at + 8..at + 16) else {
                return Ok(()); // a cut-short header is symphonia's to report
            };
            let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
            let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
            if !(1..=MAX_SAMPLE_RATE).contains(&rate) {
                let detail =
                    format!("WAV header gives sample rate {rate} Hz (not 1 to {MAX_SAMPLE_RATE})");
                return Err(invalid(detail));
            }
            if !(1..=MAX_WAV_CHANNELS).contains(&channels) {
                let detail =
                    format!("WAV header gives {channels} channels (not 1 to {MAX_WAV_CHANNELS})");
                return Err(invalid(detail));
            }
            return Ok(());
        }
        at = at.saturating_add(8).saturating_add(size + (size & 1));
    }
    Ok(())
}

/// The probe reads to the end of a file it recognises nothing in, so an early end of file
/// means a truncated header only where the file begins as audio this build reads.
fn classify_open_error(path: &Path, head: &[u8], error: SymphoniaError) -> AudioError {
    let unrecognised = match &error {
        SymphoniaError::IoError(e) => {
            e.kind() == std::io::ErrorKind::UnexpectedEof && !begins_as_readable_audio(head)
        }
        SymphoniaError::Unsupported(what) => what.contains("no suitable format reader"),
        _ => false,
    };
    if unrecognised {
        let mp4 = head.len() >= 8 && &head[4..8] == b"ftyp";
        return AudioError::UnrecognisedFormat {
            path: path.to_path_buf(),
            detail: match mp4 {
                true => "an MP4/M4A file (AAC or ALAC), which polyphon does not read; convert \
                         it to WAV or FLAC first"
                    .into(),
                false => "polyphon reads WAV, FLAC, MP3 and Ogg Vorbis".into(),
            },
        };
    }
    match error {
        SymphoniaError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            AudioError::Decode {
                path: path.to_path_buf(),
                detail: "file ends inside its header (truncated?)".into(),
            }
        }
        // The probe's own "no suitable format reader" means no container was recognised; any
        // other "unsupported" comes from a recognised container holding an unknown codec.
        SymphoniaError::Unsupported(what) if !what.contains("no suitable format reader") => {
            AudioError::UnsupportedCodec {
                path: path.to_path_buf(),
                detail: what.to_string(),
            }
        }
        other => AudioError::UnrecognisedFormat {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

/// Zeroes the samples within one `step` of zero and adds triangular noise of one `step` to
/// the others (see [`AudioReader::read_block`]).
fn dither(samples: &mut [f32], step: f32, rng: &mut SeededRng) {
    for sample in samples {
        if sample.abs() <= step * (1.0 + 1e-4) {
            *sample = 0.0;
        } else {
            *sample += step * (rng.unit() - rng.unit()) as f32;
        }
    }
}
