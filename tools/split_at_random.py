#!/usr/bin/env python3
"""Re-split a `polyphon synth` manifest at random, file by file: the in-distribution control.

`polyphon synth` splits by instrument, so every test timbre is unheard in training. This
script undoes that on purpose: each entry goes to train, valid or test at random (80 / 10 /
10 by default, seeded), so test files are other notes or mixtures of instruments heard in
training. Training on it and scoring its test split measures how much of a model's error is
the unheard timbres rather than the model or its features. The new manifest is written
beside the old one (`<name>-random.jsonl`), so relative paths stay valid. Standard library
only.

    python3 tools/split_at_random.py data/notes/notes.jsonl
    python3 tools/split_at_random.py data/mixtures/mixtures.jsonl --valid 0.1 --test 0.1 --seed 0
"""
import argparse
import random
from pathlib import Path

from manifest import entries, write


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifest", type=Path)
    parser.add_argument("--valid", type=float, default=0.1, help="share of valid files")
    parser.add_argument("--test", type=float, default=0.1, help="share of test files")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not (0 < args.valid and 0 < args.test and args.valid + args.test < 1):
        parser.error("--valid and --test must be positive shares that leave files to train")
    rng = random.Random(args.seed)
    kept = list(entries(args.manifest))
    for entry in kept:
        draw = rng.random()
        entry["split"] = "test" if draw < args.test else "valid" if draw < args.test + args.valid else "train"
    out = args.manifest.with_name(f"{args.manifest.stem}-random.jsonl")
    write(out, kept)


if __name__ == "__main__":
    main()
