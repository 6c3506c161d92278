#!/usr/bin/env python3
"""Join `polyphon synth` manifests into one, e.g. the notes and the phrases of the same
instruments, so that one training run reads both.

Each entry keeps its split, unless its part is given as `train:PATH` (or `valid:`, `test:`):
then every entry of that part goes to that split (e.g. an extra SoundFont heard in training
only, so the other parts' valid and test sets stay as they were, or one that is all test).
Its file paths (`file`, `labels_csv`, `labels_midi`, `stems`) are rewritten relative to the
new manifest's folder, so the joined manifest can live anywhere above its parts. An
instrument name that an earlier part used for another preset (`synth` numbers each
SoundFont's instruments from 000) is renumbered after the highest number of its family and
source. Written whole, then renamed. Standard library only.

    python3 tools/join_manifests.py data/notes-phrases.jsonl data/notes/notes.jsonl data/phrases/phrases.jsonl
    python3 tools/join_manifests.py data/notes-fp.jsonl data/notes/notes.jsonl train:data/notes-freepats/notes.jsonl
    python3 tools/join_manifests.py data/notes-freepats/all-test.jsonl test:data/notes-freepats/notes.jsonl
"""
import os
import sys

from manifest import entries, write

PATH_FIELDS = ("file", "labels_csv", "labels_midi")
SPLITS = ("train", "valid", "test")


def rebase(path, old_root, new_root):
    return os.path.relpath(os.path.join(old_root, path), new_root)


class InstrumentNames:
    """Keeps instrument names unique per preset: "bass_acoustic_000" of two SoundFonts
    becomes two names."""

    def __init__(self):
        self.preset_of = {}
        self.renamed = {}

    def unique(self, name, preset):
        key = (name, preset)
        if key in self.renamed:
            return self.renamed[key]
        if self.preset_of.setdefault(name, preset) != preset:
            prefix = name.rsplit("_", 1)[0]
            taken = [n.rsplit("_", 1)[1] for n in self.preset_of if n.rsplit("_", 1)[0] == prefix]
            new = f"{prefix}_{max(int(t) for t in taken if t.isdigit()) + 1:03d}"
            self.preset_of[new] = preset
            self.renamed[key] = new
            return new
        return name

    def rename(self, entry):
        presets = entry["synthesizer"].split("+")
        if "instruments" in entry and len(presets) == len(entry["instruments"]):
            entry["instruments"] = [
                self.unique(n, p) for n, p in zip(entry["instruments"], presets)
            ]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, parts = sys.argv[1], sys.argv[2:]
    new_root = os.path.dirname(os.path.abspath(out))
    joined, names = [], InstrumentNames()
    for part in parts:
        split, _, path = part.partition(":")
        if split in SPLITS:
            part = path
        else:
            split = None
        old_root = os.path.dirname(os.path.abspath(part))
        for entry in entries(part):
            names.rename(entry)
            if split:
                entry["split"] = split
            for field in PATH_FIELDS:
                if field in entry:
                    entry[field] = rebase(entry[field], old_root, new_root)
            if "stems" in entry:
                entry["stems"] = [rebase(s, old_root, new_root) for s in entry["stems"]]
            joined.append(entry)
    write(out, joined)


if __name__ == "__main__":
    main()
