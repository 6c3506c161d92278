#!/usr/bin/env python3
"""Add a manifest's valid entries to its training split, keeping them as valid too.

For refitting on train + valid: every valid entry is written twice, once as valid (so the
run still has a valid split; its scores are then no longer held out, so train for a fixed
number of epochs with `--patience` as large as `--epochs`) and once as train. Test entries
stay as they are. The new manifest is written beside the old one as `<name>-trainvalid.jsonl`,
so its relative paths stay valid. Standard library only.

    python3 tools/valid_into_train.py data/notes/notes.jsonl
"""
import sys
from pathlib import Path

from manifest import entries, write


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    manifest = Path(sys.argv[1])
    out = manifest.with_name(f"{manifest.stem}-trainvalid.jsonl")
    kept = []
    for entry in entries(manifest):
        kept.append(entry)
        if entry["split"] == "valid":
            kept.append({**entry, "split": "train"})
    if not any(e["split"] == "valid" for e in kept):
        sys.exit(f"{manifest} has no valid entries to add")
    write(out, kept)

if __name__ == "__main__":
    main()
