#!/usr/bin/env python3
"""Cut the bundled transcription example from the rendered pieces set.

examples/maple_leaf_rag_timgm6mb.wav is the first 30 s of Joplin's Maple Leaf Rag (music21
corpus) as `polyphon synth pieces` rendered it with TimGM6mb, the test synthesizer that no
training file uses; examples/maple_leaf_rag_timgm6mb.csv holds its reference notes, cut at the
same point (notes starting later are dropped, notes still sounding end at the cut).

Usage: python tools/make_examples.py data/pieces   (versions: tools/requirements.txt)
"""
import csv
import sys
from pathlib import Path

import soundfile as sf

SOURCE = "TimGM6mb_000_000/joplin__maple_leaf_rag"
SECONDS = 30.0
TARGET = Path(__file__).resolve().parent.parent / "examples" / "maple_leaf_rag_timgm6mb"


def main():
    pieces = Path(sys.argv[1])
    audio, rate = sf.read(pieces / f"{SOURCE}.wav", dtype="int16")
    sf.write(TARGET.with_suffix(".wav"), audio[: int(SECONDS * rate)], rate, subtype="PCM_16")
    with open(pieces / f"{SOURCE}.csv") as handle:
        rows = list(csv.DictReader(handle))
    with open(TARGET.with_suffix(".csv"), "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["onset", "offset", "pitch", "velocity"])
        for row in rows:
            onset, offset = float(row["onset"]), float(row["offset"])
            if onset < SECONDS:
                writer.writerow([f"{onset:.6f}", f"{min(offset, SECONDS):.6f}",
                                 row["pitch"], row["velocity"]])


if __name__ == "__main__":
    main()
