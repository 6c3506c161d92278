#!/usr/bin/env python3
"""List presets of a `polyphon synth notes` manifest that render identically.

Some SoundFonts share samples (MuseScore_General_Full plays several presets with
FluidR3_GM's), so two "different instruments" can be one timbre. A split by instrument then
puts the same sound in two splits. This hashes every note's audio file and reports each pair
of presets whose notes at the same pitch and velocity are byte-identical, with the splits
they are in. Standard library only.

    python3 tools/find_identical_presets.py data/notes/notes.jsonl
"""
import hashlib
import sys
from collections import defaultdict
from pathlib import Path

from manifest import entries


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    manifest = Path(sys.argv[1])
    by_note = defaultdict(list)  # "pitch-velocity" -> [(preset, digest)]
    split_of = {}
    notes_of = defaultdict(int)
    for entry in entries(manifest, ("file", "split", "synthesizer", "source")):
        preset = entry["synthesizer"]
        if "+" in preset:
            continue  # a mixture, not a note
        # NSynth-style source "family_kind_NNN-pitch-velocity".
        if "-" not in entry["source"]:
            sys.exit(f"{manifest}: source '{entry['source']}' is not name-pitch-velocity")
        note = entry["source"].split("-", 1)[1]
        audio = manifest.parent / entry["file"]
        try:
            digest = hashlib.sha1(audio.read_bytes()).hexdigest()
        except OSError as e:
            sys.exit(f"{audio}: cannot read ({e.strerror})")
        by_note[note].append((preset, digest))
        split_of[preset] = entry["split"]
        notes_of[preset] += 1
    if not notes_of:
        sys.exit(f"{manifest}: no single notes")
    same = defaultdict(int)
    for renderings in by_note.values():
        for i, (a, da) in enumerate(renderings):
            for b, db in renderings[i + 1:]:
                if a != b and da == db:
                    same[tuple(sorted((a, b)))] += 1
    print("preset A (split)  preset B (split)  identical notes / notes of A / notes of B")
    for (a, b), count in sorted(same.items(), key=lambda kv: -kv[1]):
        print(f"{a} ({split_of[a]})  {b} ({split_of[b]})  {count} / {notes_of[a]} / {notes_of[b]}")
    if not same:
        print("none")


if __name__ == "__main__":
    main()
