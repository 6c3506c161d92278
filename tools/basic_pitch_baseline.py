"""Transcribe one split of a `polyphon synth` manifest with Basic Pitch (Spotify, ICASSP 2022).

Writes <out>/<audio stem>.csv (onset,offset,pitch,velocity) for every chosen file, which
`polyphon eval transcription --data MANIFEST --split SPLIT --est-dir OUT --files N` then scores
with the same metrics as polyphon's own models. Files are chosen exactly as that command chooses
them (--files N spread evenly over the split in manifest order), and Basic Pitch runs with its
default thresholds through the ONNX model shipped in its wheel.

Setup: see tools/requirements-basic-pitch.txt.
Usage: python tools/basic_pitch_baseline.py --data data/pieces/pieces.jsonl --split test \
           --files 24 --out runs/basic-pitch-test
"""

import argparse
import csv
import logging
import os
import time
from pathlib import Path

logging.disable(logging.WARNING)  # Basic Pitch warns about every backend it does not find.

from basic_pitch import ICASSP_2022_MODEL_PATH  # noqa: E402
from basic_pitch.inference import Model, predict  # noqa: E402

import manifest  # noqa: E402  (tools/manifest.py)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--files", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    model = Model(ICASSP_2022_MODEL_PATH)
    root = args.data.parent
    entries = manifest.chosen(args.data, args.split, args.files)
    audio_seconds = 0.0
    started = time.perf_counter()
    for index, entry in enumerate(entries):
        _, _, note_events = predict(str(root / entry["file"]), model)
        audio_seconds += entry["duration"]
        stem = Path(entry["file"]).stem
        target = args.out / f"{stem}.csv"
        temporary = target.with_suffix(".csv.partial")
        with open(temporary, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["onset", "offset", "pitch", "velocity"])
            for onset, offset, pitch, amplitude, _ in sorted(note_events, key=lambda e: (e[0], e[2])):
                velocity = max(1, min(127, round(127 * amplitude)))
                writer.writerow([f"{onset:.6f}", f"{offset:.6f}", int(pitch), velocity])
        os.replace(temporary, target)
        print(f"[{index + 1}/{len(entries)}] {entry['file']}: {len(note_events)} notes", flush=True)
    elapsed = time.perf_counter() - started
    print(f"{len(entries)} files, {audio_seconds:.0f} s of audio in {elapsed:.0f} s "
          f"({audio_seconds / elapsed:.1f}x realtime)")


if __name__ == "__main__":
    main()
