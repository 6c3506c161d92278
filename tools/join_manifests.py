#!/usr/bin/env python3
"""Join `polyphon synth` manifests into one, e.g. the notes and the phrases of the same
instruments, so that one training run reads both.

Each entry keeps its split; its file paths (`file`, `labels_csv`, `labels_midi`, `stems`) are
rewritten relative to the new manifest's folder, so the joined manifest can live anywhere
above its parts. Written whole, then renamed. Standard library only.

    python3 tools/join_manifests.py data/notes-phrases.jsonl data/notes/notes.jsonl data/phrases/phrases.jsonl
"""
import os
import sys

from manifest import entries, write

PATH_FIELDS = ("file", "labels_csv", "labels_midi")


def rebase(path, old_root, new_root):
    return os.path.relpath(os.path.join(old_root, path), new_root)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, parts = sys.argv[1], sys.argv[2:]
    new_root = os.path.dirname(os.path.abspath(out))
    joined = []
    for part in parts:
        old_root = os.path.dirname(os.path.abspath(part))
        for entry in entries(part):
            for field in PATH_FIELDS:
                if field in entry:
                    entry[field] = rebase(entry[field], old_root, new_root)
            if "stems" in entry:
                entry["stems"] = [rebase(s, old_root, new_root) for s in entry["stems"]]
            joined.append(entry)
    write(out, joined)


if __name__ == "__main__":
    main()
