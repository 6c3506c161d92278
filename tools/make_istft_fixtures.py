#!/usr/bin/env python3
"""Make the complex STFT / inverse STFT fixtures: what librosa's stft and istft give.

Run from the repository root with the versions pinned in tools/requirements.txt:

    /opt/polyphon-tools-venv/bin/python tools/make_istft_fixtures.py

Writes crates/polyphon-features/tests/fixtures/istft/{*.npy,manifest.json}. Every array is
little-endian float32; complex arrays are stored as (frames, bins, 2) with the real part
first, in the (frames, bins) layout polyphon uses (librosa's (bins, frames) transposed).

Per case:
* `<case>.signal.npy`: the input samples (float32, so both sides start from the same values);
* `<case>.stft.npy`: `librosa.stft(signal, n_fft, hop_length, window='hann', center=True,
  pad_mode='constant')`;
* `<case>.masked.npy`: that STFT times a random mask in [0, 1] (no longer the STFT of any
  signal, so the inverse's window-sum-square normalisation is exercised);
* `<case>.istft_<n>.npy`: `librosa.istft(masked, hop_length, window='hann', center=True,
  length=n)` for each length listed (`none`: no length given).
"""
import json
from pathlib import Path

import librosa
import numpy as np

OUT = Path("crates/polyphon-features/tests/fixtures/istft")
RNG = np.random.default_rng(20240707)
SR = 16000

# name, samples, n_fft, hop, istft lengths (None: librosa's default length)
CASES = [
    # The separation setting: 1024-point frames, hop 256, a length that is not a multiple.
    ("sep1024", 7999, 1024, 256, [7999, None]),
    # Smaller frames; lengths past the last frame (zero tail) and shorter than the signal.
    ("odd512", 3001, 512, 128, [3001, 3701, 2000]),
    # A hop that does not divide n_fft: the squared windows do not sum to a constant.
    ("hop300", 5000, 1024, 300, [5000, None]),
]


def signal(n):
    """A chirp, a low tone and noise: energy in every bin, peak near 0.8."""
    t = np.arange(n) / SR
    chirp = 0.4 * np.sin(2 * np.pi * (100 * t + 2000 * t ** 2))
    tone = 0.3 * np.sin(2 * np.pi * 110 * t)
    return (chirp + tone + 0.05 * RNG.standard_normal(n)).astype(np.float32)


def as_frames(stft):
    """librosa (bins, frames) complex -> (frames, bins, 2) float32."""
    frames = stft.T
    return np.stack([frames.real, frames.imag], axis=-1).astype(np.float32)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    manifest = {"librosa": librosa.__version__, "numpy": np.__version__, "cases": []}

    def save(name, array):
        np.save(OUT / name, np.ascontiguousarray(array, dtype=np.float32))
        return name

    for name, samples, n_fft, hop, lengths in CASES:
        y = signal(samples)
        stft = librosa.stft(y, n_fft=n_fft, hop_length=hop, window="hann", center=True,
                            pad_mode="constant")
        mask = RNG.uniform(0.0, 1.0, stft.shape).astype(np.float32)
        masked = (stft * mask).astype(np.complex64)
        case = dict(name=name, n_fft=n_fft, hop=hop, samples=samples,
                    signal=save(f"{name}.signal.npy", y),
                    stft=save(f"{name}.stft.npy", as_frames(stft)),
                    masked=save(f"{name}.masked.npy", as_frames(masked)),
                    istft=[])
        for length in lengths:
            out = librosa.istft(masked, hop_length=hop, n_fft=n_fft, window="hann",
                                center=True, length=length)
            label = "none" if length is None else str(length)
            case["istft"].append(dict(length=length, samples=int(out.shape[0]),
                                      array=save(f"{name}.istft_{label}.npy", out)))
        manifest["cases"].append(case)

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{len(manifest['cases'])} cases, {total / 1e3:.0f} kB in {OUT}")


if __name__ == "__main__":
    main()
