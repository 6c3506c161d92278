"""The Python package against the `polyphon` command on the same files.

Run by .ci/run in a fresh venv after `maturin develop`; POLYPHON_BIN names the command
(default: target/debug/polyphon, which `cargo test` builds).
"""

import csv
import json
import os
import subprocess
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

import polyphon

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
CHORD = EXAMPLES / "piano_chord.wav"
RAG = EXAMPLES / "maple_leaf_rag_timgm6mb.wav"
BIN = os.environ.get("POLYPHON_BIN", str(ROOT / "target" / "debug" / "polyphon"))


def cli(*args, cwd=None):
    done = subprocess.run([BIN, *map(str, args)], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return done.stdout


def read_pcm16(path):
    """Samples as the transcription front-end reads 16-bit PCM (madmom's scale, 1/32767),
    channels averaged and truncated to whole steps as madmom does."""
    with wave.open(str(path)) as w:
        frames = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
        channels, rate = w.getnchannels(), w.getframerate()
    mixed = np.trunc(frames.reshape(-1, channels).astype(np.float64).mean(axis=1))
    return (mixed / 32767.0).astype(np.float32), rate


def cli_notes(path, tmp_path):
    out = tmp_path / "notes.csv"
    cli("transcribe", path, "-o", tmp_path / "notes.mid", "--notes", out)
    with open(out) as f:
        rows = [[float(v) for v in row] for row in list(csv.reader(f))[1:]]
    return np.array(rows).reshape(-1, 4)


def as_rows(notes):
    return np.stack([notes[n].astype(np.float64) for n in polyphon.NOTE_DTYPE.names], axis=1)


def test_transcribe_file_equals_the_command(tmp_path):
    notes = polyphon.transcribe_file(CHORD)
    assert notes.dtype == polyphon.NOTE_DTYPE
    assert {60, 64, 67} <= set(notes["pitch"].astype(int))
    np.testing.assert_allclose(as_rows(notes), cli_notes(CHORD, tmp_path), atol=5e-7)


def test_samples_in_memory_give_the_files_notes():
    samples, rate = read_pcm16(CHORD)
    np.testing.assert_array_equal(
        as_rows(polyphon.transcribe(samples, rate)), as_rows(polyphon.transcribe_file(CHORD))
    )


def test_features_equal_the_commands_npy(tmp_path):
    samples, rate = read_pcm16(CHORD)
    out = tmp_path / "chord.npy"
    cli("features", CHORD, "--kind", "logfilt", "--out", out)
    expected = np.load(out)
    got = polyphon.features(samples, rate, kind="logfilt")
    assert got.shape == expected.shape == (200, 229)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_eval_transcription_equals_the_command(tmp_path):
    reference = np.loadtxt(EXAMPLES / "maple_leaf_rag_timgm6mb.csv", delimiter=",", skiprows=1)
    estimate = polyphon.transcribe_file(CHORD)
    est_csv = tmp_path / "est.csv"
    with open(est_csv, "w") as f:
        f.write("onset,offset,pitch,velocity\n")
        for n in estimate:
            f.write(f"{n['onset']:.6f},{n['offset']:.6f},{int(n['pitch'])},{n['velocity']}\n")
    ref_csv = EXAMPLES / "maple_leaf_rag_timgm6mb.csv"
    expected = json.loads(cli("eval", "transcription", "--ref", ref_csv, "--est", est_csv, "--json"))
    got = polyphon.eval.transcription(reference, estimate)
    assert set(got) == {"frame", "onset", "onset_offset"}
    for group in got:
        for key, value in expected[group].items():
            assert got[group][key] == pytest.approx(value, abs=1e-9), (group, key)


def test_separate_and_classify_return_named_arrays_and_probabilities():
    rate = 16_000
    t = np.arange(rate) / rate
    mix = 0.3 * np.sin(2 * np.pi * 82 * t) + 0.2 * np.sin(2 * np.pi * 880 * t)
    stems = polyphon.separate(np.stack([mix, mix]), rate)
    assert sorted(stems) == ["bass", "flute"]
    assert all(stem.shape == (2, rate) for stem in stems.values())
    low = lambda x: np.abs(np.fft.rfft(x[0]))[82]  # noqa: E731
    assert low(stems["bass"]) > 10 * low(stems["flute"])
    samples, chord_rate = read_pcm16(CHORD)
    families = polyphon.classify(samples, chord_rate)
    assert set(families) == {"bass", "flute", "guitar", "keyboard", "organ", "vocal"}
    assert max(families, key=families.get) == "keyboard"


def test_bad_input_raises_with_the_commands_message():
    with pytest.raises(OSError, match="missing.wav"):
        polyphon.transcribe_file("missing.wav")
    with pytest.raises(ValueError, match="cqt"):
        polyphon.features(np.zeros(1000), 44_100, kind="cqt")
    with pytest.raises(ValueError):
        polyphon.transcribe(np.zeros(1000), 0)
    with pytest.raises(ValueError, match="no-such-model"):
        polyphon.transcribe(np.zeros(1000), 44_100, model="no-such-model")


def test_the_gil_is_released_while_polyphon_computes():
    ticks = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=tick)
    thread.start()
    started = time.perf_counter()
    polyphon.transcribe_file(RAG)
    ended = time.perf_counter()
    stop.set()
    thread.join()
    during = [t for t in ticks if started < t < ended]
    # Held, the GIL would let the other thread run only between Python bytecodes.
    assert len(during) > 0.2 * (ended - started) / 0.001, (len(during), ended - started)
