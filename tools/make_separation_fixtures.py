#!/usr/bin/env python3
"""Fixtures for polyphon-eval's separation metrics: audio and the scores museval 0.4.1 gives it.

Run with a venv that has museval and fast_bss_eval (versions in tools/requirements.txt):

    python3 -m venv /opt/polyphon-museval-venv
    /opt/polyphon-museval-venv/bin/pip install -r tools/requirements.txt
    /opt/polyphon-museval-venv/bin/python tools/make_separation_fixtures.py

`import museval` imports musdb, whose audio backend (stempeg) refuses to load without an
ffmpeg binary. Nothing here reads MUSDB, so when that import fails an empty `musdb` module
stands in for it; `museval.evaluate` and `museval.metrics` never touch it.

Writes, under crates/polyphon-eval/tests/fixtures/separation/<case>/:
  ref/<source>.wav, est/<source>.wav   16-bit PCM; the scores below are of exactly these
                                       samples as soundfile reads them (int / 32768)
  expected.json                        museval.evaluate(refs, ests, win=rate, hop=rate,
                                       mode="v4", padding=True): every frame of SDR, ISR, SIR,
                                       SAR per source (NaN frames as null), their np.nanmedian
                                       (what museval's TrackStore reports), and SI-SDR

SI-SDR is torchmetrics' `scale_invariant_signal_distortion_ratio` (zero_mean=False, eps the
float64 machine epsilon), restated in numpy, per channel over the whole (padded) signal and
then averaged over channels; it is cross-checked here against fast_bss_eval's numpy
`si_sdr_loss` (which has no eps) to 1e-6 dB.

Cases:
  good     2 sources, stereo, 8 kHz, 3 s: each estimate its reference, slightly filtered,
           plus a little leakage and noise
  leak     same sources, each estimate 60 % own source + 40 % the other, plus noise
  silent   2 sources, stereo, 8 kHz, 4 s; the second reference is silent for its third
           second (museval gives NaN for that frame), and the estimates are 0.3 s shorter
           than the references (museval zero-pads them)
  mono     2 sources, mono, 44.1 kHz, 2.2 s (museval's default 1 s window; the last 0.2 s
           fall in no frame)
  short3   3 sources, mono, 8 kHz, 0.8 s: shorter than a window, so one frame of it all

Everything is seeded: running the script twice gives identical files.
"""

import json
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import soundfile as sf

try:
    import museval
except RuntimeError:  # stempeg without ffmpeg: see the docstring
    sys.modules["musdb"] = types.ModuleType("musdb")
    import museval
import fast_bss_eval.numpy  # its top-level dispatch needs torch

OUT = (
    Path(__file__).resolve().parent.parent
    / "crates" / "polyphon-eval" / "tests" / "fixtures" / "separation"
)
METRICS = ("sdr", "isr", "sir", "sar")


def tone(rng, rate, n, f0, harmonics, vibrato):
    """A harmonic tone with vibrato and a slow amplitude envelope."""
    t = np.arange(n) / rate
    phase = 2 * np.pi * np.cumsum(f0 * (1 + vibrato * np.sin(2 * np.pi * 5.0 * t))) / rate
    out = sum(np.sin(h * phase + rng.uniform(0, 2 * np.pi)) / h for h in range(1, harmonics + 1))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 2 * np.pi))
    return out * envelope


def coloured_noise(rng, n, taps):
    kernel = rng.standard_normal(taps) * np.hanning(taps)
    return np.convolve(rng.standard_normal(n), kernel / np.sqrt(np.sum(kernel**2)), mode="same")


def source(rng, rate, n, channels, f0, harmonics, noise):
    mono = tone(rng, rate, n, f0, harmonics, 0.01) + noise * coloured_noise(rng, n, 31)
    if channels == 1:
        return mono[:, None]
    # stereo: panned, the right channel a few samples late and with its own noise
    delay = int(rng.integers(1, 6))
    right = np.concatenate([np.zeros(delay), mono[:-delay]]) + 0.05 * rng.standard_normal(n)
    return np.stack([0.8 * mono, 0.5 * right], axis=1)


def references(rng, rate, n, channels, count):
    f0s = (55.0, 440.0, 220.0)
    sources = [
        source(rng, rate, n, channels, f0s[k], (12, 5, 8)[k], (0.05, 0.3, 0.15)[k])
        for k in range(count)
    ]
    return [0.25 * s / np.max(np.abs(s)) for s in sources]


def smear(x, rng):
    """A short random FIR filter per channel (what BSS Eval calls spatial distortion)."""
    out = np.empty_like(x)
    for c in range(x.shape[1]):
        kernel = np.zeros(8)
        kernel[0] = 1.0
        kernel[1:] = 0.08 * rng.standard_normal(7)
        out[:, c] = np.convolve(x[:, c], kernel)[: x.shape[0]]
    return out


def estimates(rng, refs, own, leak, noise, filtered):
    ests = []
    for j, r in enumerate(refs):
        others = sum(refs[k] for k in range(len(refs)) if k != j)
        base = smear(r, rng) if filtered else r
        ests.append(own * base + leak * others + noise * rng.standard_normal(r.shape))
    return ests


def quantised(x):
    """What a 16-bit WAV of x holds, read back as float."""
    return np.clip(np.round(x * 32768.0), -32768, 32767) / 32768.0


def si_sdr_torchmetrics(ref, est):
    """torchmetrics' scale_invariant_signal_distortion_ratio over time, zero_mean=False."""
    eps = np.finfo(np.float64).eps
    alpha = (np.sum(est * ref, axis=-1, keepdims=True) + eps) / (
        np.sum(ref**2, axis=-1, keepdims=True) + eps
    )
    target = alpha * ref
    noise = target - est
    return 10 * np.log10((np.sum(target**2, axis=-1) + eps) / (np.sum(noise**2, axis=-1) + eps))


def nan_to_none(values):
    out = []
    for v in np.asarray(values, dtype=float).tolist():
        if np.isnan(v):
            out.append(None)
        else:
            assert np.isfinite(v), v
            out.append(v)
    return out


def write_case(name, rate, names, refs, ests):
    case = OUT / name
    if case.exists():
        shutil.rmtree(case)
    for side, signals in (("ref", refs), ("est", ests)):
        (case / side).mkdir(parents=True)
        for source_name, x in zip(names, signals):
            sf.write(case / side / f"{source_name}.wav", x, rate, subtype="PCM_16")
    # score what the files hold
    refs = [sf.read(case / "ref" / f"{s}.wav", dtype="float64", always_2d=True)[0] for s in names]
    ests = [sf.read(case / "est" / f"{s}.wav", dtype="float64", always_2d=True)[0] for s in names]
    sdr, isr, sir, sar = museval.evaluate(refs, ests, win=rate, hop=rate, mode="v4", padding=True)
    framewise = dict(zip(METRICS, (sdr, isr, sir, sar)))

    # SI-SDR on the signals museval scored: estimates padded or truncated to the references
    refs_a, ests_a = museval.pad_or_truncate(np.array(refs), np.array(ests))
    result = {
        "sample_rate": rate,
        "window": rate,
        "hop": rate,
        "sources": names,
        "channels": int(refs_a.shape[2]),
        "reference_samples": int(refs_a.shape[1]),
        "estimate_samples": int(np.array(ests).shape[1]),
        "framewise": {},
        "median": {},
        "si_sdr": {},
    }
    for j, source_name in enumerate(names):
        result["framewise"][source_name] = {m: nan_to_none(framewise[m][j]) for m in METRICS}
        result["median"][source_name] = {
            m: nan_to_none([np.nanmedian(framewise[m][j])])[0] for m in METRICS
        }
        # (channels, samples), one SI-SDR per channel
        per_channel = si_sdr_torchmetrics(refs_a[j].T, ests_a[j].T)
        check = -fast_bss_eval.numpy.si_sdr_loss(ests_a[j].T, refs_a[j].T)
        assert np.max(np.abs(per_channel - check)) < 1e-6, (per_channel, check)
        result["si_sdr"][source_name] = float(np.mean(per_channel))
    (case / "expected.json").write_text(json.dumps(result, indent=1) + "\n")
    print(name, {s: result["median"][s] for s in names}, result["si_sdr"])


def main():
    rng = np.random.default_rng(20260707)

    rate, n = 8000, 3 * 8000
    refs = [quantised(r) for r in references(rng, rate, n, 2, 2)]
    write_case("good", rate, ["bass", "flute"], refs,
               [quantised(e) for e in estimates(rng, refs, 0.95, 0.03, 0.002, True)])
    write_case("leak", rate, ["bass", "flute"], refs,
               [quantised(e) for e in estimates(rng, refs, 0.6, 0.4, 0.01, False)])

    rate, n = 8000, 4 * 8000
    refs = references(rng, rate, n, 2, 2)
    ests = estimates(rng, refs, 0.9, 0.1, 0.005, True)
    refs[1][2 * rate:3 * rate] = 0.0
    ests = [e[: n - int(0.3 * rate)] for e in ests]
    write_case("silent", rate, ["bass", "flute"],
               [quantised(r) for r in refs], [quantised(e) for e in ests])

    rate, n = 44100, int(2.2 * 44100)
    refs = [quantised(r) for r in references(rng, rate, n, 1, 2)]
    write_case("mono", rate, ["bass", "flute"], refs,
               [quantised(e) for e in estimates(rng, refs, 0.9, 0.15, 0.003, True)])

    rate, n = 8000, int(0.8 * 8000)
    refs = [quantised(r) for r in references(rng, rate, n, 1, 3)]
    write_case("short3", rate, ["bass", "flute", "piano"], refs,
               [quantised(e) for e in estimates(rng, refs, 0.8, 0.2, 0.01, False)])


if __name__ == "__main__":
    main()
