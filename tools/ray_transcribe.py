"""Transcribe a collection on a Ray cluster with Ray Data: one polyphon transcriber per
actor (the model loads once per worker), a MIDI file and a CSV note list per input, named
after it, in OUT. Inputs whose two outputs exist are skipped, so a rerun finishes what a
failed one left; a file that fails is reported and the rest go on.

    python tools/ray_transcribe.py --out midi/ --workers 2 examples/*.wav
    python tools/ray_transcribe.py --out midi/ --list files.txt --address auto   # a running cluster

Without --address, a local cluster of --workers CPUs starts on 127.0.0.1 and stops at the end.
Needs `pip install "ray[data]"` beside polyphon (tools/requirements-ray.txt pins the version).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import ray

import polyphon


class Transcribe:
    """A Ray Data actor: transcribes each path of a batch and writes its outputs."""

    def __init__(self, out: str, model: str | None = None):
        self.out = Path(out)
        self.model = model

    def __call__(self, batch: dict) -> dict:
        statuses, notes = [], []
        for path in batch["path"]:
            stem = Path(path).stem
            midi, csv = self.out / f"{stem}.mid", self.out / f"{stem}.csv"
            if midi.is_file() and csv.is_file():
                statuses.append("skipped")
                notes.append(-1)
                continue
            try:
                found = polyphon.transcribe_file(path, model=self.model)
                polyphon.write_notes(csv, found)
                polyphon.write_notes(midi, found)
                statuses.append("done")
                notes.append(len(found))
            except (OSError, ValueError) as error:
                statuses.append(f"failed: {error}")
                notes.append(-1)
        return {"path": batch["path"], "status": np.array(statuses), "notes": np.array(notes)}


def transcribe_all(paths, out, workers=2, model=None):
    """Transcribes `paths` into `out` with `workers` actors; returns (path, status, notes)
    rows in the order of `paths`."""
    Path(out).mkdir(parents=True, exist_ok=True)
    dataset = ray.data.from_items([{"path": str(p)} for p in paths])
    results = dataset.map_batches(
        Transcribe,
        fn_constructor_kwargs={"out": str(out), "model": model},
        batch_size=1,
        concurrency=workers,
        num_cpus=1,
    )
    rows = {row["path"]: (row["status"], int(row["notes"])) for row in results.iter_rows()}
    return [(str(p), *rows[str(p)]) for p in paths]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="*", help="audio files")
    parser.add_argument("--list", help="a file of input paths, one per line")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--workers", type=int, default=2, help="actors (one CPU each)")
    parser.add_argument("--model", help="bundled model name or model.json")
    parser.add_argument("--address", help="a running cluster (e.g. auto); default: start one")
    args = parser.parse_args(argv)
    paths = list(args.inputs)
    if args.list:
        lines = Path(args.list).read_text().splitlines()
        paths += [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    if not paths:
        parser.error("no inputs: give files or --list")
    if args.address:
        ray.init(address=args.address)
    else:
        ray.init(num_cpus=args.workers, include_dashboard=False, _node_ip_address="127.0.0.1")
    started = time.perf_counter()
    try:
        rows = transcribe_all(paths, args.out, args.workers, args.model)
    finally:
        seconds = time.perf_counter() - started
        ray.shutdown()
    failed = 0
    for path, status, notes in rows:
        if status == "done":
            print(f"{path}: {notes} notes -> {Path(args.out) / (Path(path).stem + '.mid')}")
        elif status == "skipped":
            print(f"{path}: skipped, its outputs exist")
        else:
            failed += 1
            print(f"error: {path}: {status[len('failed: '):]}", file=sys.stderr)
    print(f"{len(rows)} files in {seconds:.1f} s with {args.workers} workers")
    return 2 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
