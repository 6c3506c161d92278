"""Reading a `polyphon synth` manifest (JSON lines) for the scripts in tools/.

A line that is not a JSON object with the fields a script needs ends the script with one
line naming the file and line, instead of a traceback. Standard library only.
"""
import json
import os
import sys


def entries(path, fields=("file", "split", "synthesizer")):
    """Yields each line's object; exits with a clear message on a bad line."""
    try:
        source = open(path)
    except OSError as e:
        sys.exit(f"{path}: cannot read ({e.strerror})")
    with source:
        for number, line in enumerate(source, 1):
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{number}: not a manifest line ({e.msg})")
            missing = [f for f in fields if not isinstance(entry, dict) or f not in entry]
            if missing:
                sys.exit(f"{path}:{number}: no {', '.join(missing)}")
            yield entry


def chosen(path, split, count):
    """The entries of `split`, or `count` of them spread evenly in manifest order (0: all),
    as `polyphon eval transcription --files N` chooses them."""
    in_split = [e for e in entries(path) if e["split"] == split]
    if count == 0 or count >= len(in_split):
        return in_split
    return [in_split[i * len(in_split) // count] for i in range(count)]


def write(path, kept):
    """Writes manifest entries whole, then renames: a failure leaves no partial manifest.
    Prints the path and how many entries each split got."""
    partial = f"{path}.partial"
    with open(partial, "w") as out:
        out.writelines(json.dumps(e, separators=(",", ":")) + "\n" for e in kept)
    os.replace(partial, path)
    counts = {split: sum(e["split"] == split for e in kept) for split in ("train", "valid", "test")}
    print(f"{path}: " + ", ".join(f"{n} {split}" for split, n in counts.items()))
