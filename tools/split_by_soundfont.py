#!/usr/bin/env python3
"""Re-split a `polyphon synth` manifest so that one SoundFont is never heard in training.

Entries whose every stem comes from the held-out SoundFont become the test split; entries
with any stem from it are dropped (they would leak its timbres); the others keep their
train or valid split, and the original test entries (unseen instruments of the other
SoundFonts) are dropped. The new manifest is written beside the old one, so its relative
paths and the feature cache stay valid. Standard library only.

Several SoundFonts joined by "+" are held out together: MuseScore_General_Full plays some
presets with FluidR3_GM's samples (they render identically), so those two go as a pair.

    python3 tools/split_by_soundfont.py data/mixtures/mixtures.jsonl sf_GMbank
    python3 tools/split_by_soundfont.py data/notes/notes.jsonl FluidR3_GM+MuseScore_General_Full
"""
import sys
from pathlib import Path

from manifest import entries, write


def soundfonts(entry):
    # "sf_GMbank:000:033+TimGM6mb:000:016": SoundFont, bank, program per stem.
    return [part.split(":")[0] for part in entry["synthesizer"].split("+")]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    manifest, held_out = Path(sys.argv[1]), set(sys.argv[2].split("+"))
    out = manifest.with_name(f"{manifest.stem}-without-{sys.argv[2]}.jsonl")
    kept = []
    for entry in entries(manifest):
        fonts = soundfonts(entry)
        if all(f in held_out for f in fonts):
            entry["split"] = "test"
        elif held_out & set(fonts) or entry["split"] == "test":
            continue
        kept.append(entry)
    if not any(e["split"] == "test" for e in kept):
        sys.exit(f"no entry of {manifest} is made only of {sys.argv[2]}")
    write(out, kept)


if __name__ == "__main__":
    main()
