#!/usr/bin/env python3
"""How an instrument model hears piano music: the MAPS-like pieces of `polyphon synth pieces`
(every piece rendered by every piano preset), cut into 4 s segments by `polyphon classify
--segment 4s`. All of them are keyboard, so a single-label model should name keyboard in every
segment, and a multi-label one should list keyboard and nothing else.

The instrument models are trained on isolated 4 s notes and sums of them; this is the check
that they transfer to music. Standard library only.

    python3 tools/keyboard_on_pieces.py --polyphon target/release/polyphon \
        --pieces data/pieces/pieces.jsonl --model gbdt-instruments-single
    python3 tools/keyboard_on_pieces.py --polyphon target/release/polyphon \
        --pieces data/pieces/pieces.jsonl --model frame-mlp-instruments-multi \
        --thresholds models/frame-mlp-instruments-multi/thresholds.json
"""

import argparse
import collections
import json
import os
import subprocess
import sys

from manifest import entries


def pick_pieces(manifest, per_synth, max_seconds):
    """The first `per_synth` pieces of at most `max_seconds` of every synthesizer."""
    root = os.path.dirname(os.path.abspath(manifest))
    chosen = collections.defaultdict(list)
    for entry in entries(manifest, ("file", "synthesizer", "duration")):
        files = chosen[entry["synthesizer"]]
        if len(files) < per_synth and entry["duration"] <= max_seconds:
            files.append(os.path.join(root, entry["file"]))
    return chosen


def cuts_of(thresholds):
    """Per-family cuts from a thresholds.json, one cut for all, or None (single-label)."""
    if thresholds is None:
        return None
    try:
        cut = float(thresholds)
        return collections.defaultdict(lambda: cut)
    except ValueError:
        with open(thresholds) as f:
            fitted = json.load(f)
        return dict(zip(fitted["classes"], fitted["thresholds"]))


def classify(polyphon, model, files):
    command = [polyphon, "classify", *files, "--model", model, "--segment", "4s", "--json"]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: polyphon classify failed: {done.stderr.strip()}")
    return [json.loads(line) for line in done.stdout.splitlines()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polyphon", required=True, help="the polyphon binary")
    parser.add_argument("--pieces", required=True, help="pieces manifest (JSON lines)")
    parser.add_argument("--model", required=True, help="classify --model")
    parser.add_argument(
        "--thresholds",
        help="multi-label: a thresholds.json or one cut for every family",
    )
    parser.add_argument("--per-synth", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args()
    chosen = pick_pieces(args.pieces, args.per_synth, args.max_seconds)
    if not chosen:
        sys.exit(f"{args.pieces}: no piece of at most {args.max_seconds} s")
    cuts = cuts_of(args.thresholds)
    rows = []
    for synth, files in sorted(chosen.items()):
        segments = keyboard = others = 0
        for result in classify(args.polyphon, args.model, files):
            for segment in result["segments"]:
                labels = segment["labels"]
                segments += 1
                if cuts is None:
                    keyboard += max(labels, key=labels.get) == "keyboard"
                else:
                    listed = [f for f, p in labels.items() if p >= cuts[f]]
                    keyboard += "keyboard" in listed
                    others += sum(f != "keyboard" for f in listed)
        rows.append((synth, len(files), segments, keyboard, others))
    total = [sum(row[i] for row in rows) for i in (1, 2, 3, 4)]
    print(f"{args.model}: {total[0]} pieces, {total[1]} segments of 4 s")
    print(f"{'synthesizer':36s} {'segments':>8s} {'keyboard':>9s} {'others/seg':>10s}")
    for synth, _, segments, keyboard, others in rows + [("all", *total)]:
        print(f"{synth:36s} {segments:8d} {keyboard / segments:9.3f} {others / segments:10.2f}")


if __name__ == "__main__":
    main()
