#!/usr/bin/env python3
"""Recall of a multi-label model by how loud each family is in its mixture.

`polyphon synth mixtures` writes each mixture's stems beside it. For every family present in a
mixture, this script sums the family's stems and measures its energy against the rest of the
mix (dB; a family alone in its mixture has no rest and gets its own row). Given the predictions
CSV of `polyphon eval instruments` (RUN/predictions-<split>.csv) it then prints, per level
range, how many labels there are and how many the model found, and the false alarms beside
them, so one can see whether misses are masked families or audible ones. The Hamming accuracy
printed at the end is recomputed from the CSV and the thresholds, and should equal eval's.
Needs numpy (tools/requirements-instruments.txt); 16-bit PCM WAV stems, as synth writes.

    python3 tools/family_levels.py data/mixtures/mixtures.jsonl runs/seg-inst-multi-s0/predictions-test.csv \\
        --thresholds runs/seg-inst-multi-s0/thresholds.json
"""
import argparse
import csv
import json
import os
import sys

import numpy as np

from manifest import entries
from wav import read_pcm16

# Upper edges (dB) of the level ranges; the last range is open.
EDGES = [-20, -15, -10, -5, 0]


def family_levels(entry, root):
    """{family: dB of its stems against the rest of the mix, or None when it is alone}."""
    stems = [read_pcm16(os.path.join(root, s))[0] for s in entry["stems"]]
    if len({len(s) for s in stems}) != 1:
        sys.exit(f"{entry['file']}: its stems differ in length (a truncated stem?)")
    mix = np.sum(stems, axis=0)
    by_family = {}
    for stem, family in zip(stems, entry["families"]):
        by_family[family] = by_family.get(family, 0) + stem
    if len(by_family) == 1:
        return {family: None for family in by_family}
    levels = {}
    for family, own in by_family.items():
        rest = np.sum((mix - own) ** 2)
        levels[family] = 10 * np.log10(np.sum(own**2) / rest) if rest > 0 else None
    return levels


def level_range(db):
    if db is None:
        return "alone"
    for edge in EDGES:
        if db < edge:
            return f"< {edge} dB"
    return f">= {EDGES[-1]} dB"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", help="mixtures.jsonl of polyphon synth mixtures")
    parser.add_argument("predictions", help="predictions CSV of polyphon eval instruments")
    parser.add_argument("--thresholds", help="thresholds.json of the run (default 0.5 for all)")
    args = parser.parse_args()
    try:
        with open(args.predictions) as f:
            reader = csv.DictReader(f)
            families = [c[2:] for c in reader.fieldnames or [] if c.startswith("p_")]
            if "file" not in (reader.fieldnames or []) or not families:
                sys.exit(
                    f"{args.predictions}: no file and p_<family> columns (not a predictions CSV)"
                )
            rows = {row["file"]: row for row in reader}
    except OSError as e:
        sys.exit(f"{args.predictions}: cannot read ({e.strerror})")
    if not rows:
        sys.exit(f"{args.predictions}: no predictions")
    thresholds = dict.fromkeys(families, 0.5)
    if args.thresholds:
        with open(args.thresholds) as f:
            fitted = json.load(f)
        thresholds.update(zip(fitted["classes"], fitted["thresholds"]))
    root = os.path.dirname(args.manifest)
    order = [f"< {e} dB" for e in EDGES] + [f">= {EDGES[-1]} dB", "alone"]
    found = {k: [0, 0] for k in order}
    false_alarms = 0
    scored = 0
    for entry in entries(args.manifest, ("file", "families", "stems")):
        row = rows.get(entry["file"])
        if row is None:
            continue
        scored += 1
        said = {f for f in families if float(row["p_" + f]) >= thresholds[f]}
        false_alarms += len(said - set(entry["families"]))
        for family, db in family_levels(entry, root).items():
            counts = found[level_range(db)]
            counts[0] += 1
            counts[1] += family in said
    if scored != len(rows):
        sys.exit(f"{len(rows) - scored} predicted files are not in {args.manifest}")
    print("family level vs rest   labels   found   recall")
    for key in order:
        labels, hits = found[key]
        print(f"{key:>20} {labels:8d} {hits:7d}   {hits / max(labels, 1):.3f}")
    misses = sum(l - h for l, h in found.values())
    errors = misses + false_alarms
    print(
        f"misses {misses}, false alarms {false_alarms}, files {scored}, "
        f"Hamming accuracy {1 - errors / (scored * len(families)):.4f}"
    )


if __name__ == "__main__":
    main()
