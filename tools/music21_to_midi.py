#!/usr/bin/env python3
"""Convert pieces of the music21 corpus to MIDI files for `polyphon synth pieces`.

The music21 corpus (PyPI `music21`, pinned in tools/requirements-data.txt) ships classical
scores as MusicXML and Humdrum. This script turns a balanced selection of them into piano MIDI:

* only polyphonic art music is used: the folk-tune collections (ABC, one melody line), the
  Roman-numeral analyses and the demo / exercise files are left out;
* chord symbols, Roman numerals, grace notes and unpitched percussion are removed (they are
  either not notes or would become zero-length notes), and parts left without notes are dropped;
* a piece is kept only if all its pitches lie within the piano's range (MIDI 21-108), it has
  at least two voices or chords, and it lasts at most --max-piece-minutes;
* every composer folder ("group") gets at most --minutes-per-group minutes, picked in an order
  shuffled with --seed, so that the 400 Bach chorales and the 1300 Palestrina movements do not
  dominate the mix;
* every part is set to Acoustic Grand Piano (the renderer chooses the real preset anyway).

Outputs: DIR/<group>__<name>.mid (written to a temporary name, then renamed, so a killed run
never leaves a half-written file) and DIR/pieces.jsonl, one line per piece with its source,
duration and counts. A rerun keeps the MIDI files that exist, converts what is missing and
deletes <group>__*.mid files that are no longer selected, so the folder matches the index.

Usage (music21 lives in a virtual environment outside the repository):

    python3 -m venv /opt/polyphon-data-venv
    /opt/polyphon-data-venv/bin/pip install -r tools/requirements-data.txt
    /opt/polyphon-data-venv/bin/python tools/music21_to_midi.py --out /work/data/music21-midi
"""

import argparse
import json
import os
import random
import sys
import warnings
from multiprocessing import Pool
from pathlib import Path

import music21
from music21 import bar, corpus, harmony, instrument, note, repeat, roman, stream

PIANO_LOWEST, PIANO_HIGHEST = 21, 108

# Composer folders of polyphonic art music. Folk collections (airdsAirs, essenFolksong,
# oneills1850, ryansMammoth, nottingham-dataset, miscFolk) are single melodies; demos,
# leadSheet and theoryExercises are not pieces.
DEFAULT_GROUPS = [
    "bach", "beach", "beethoven", "chopin", "ciconia", "corelli", "cpebach", "handel",
    "haydn", "johnson_j_r", "joplin", "josquin", "liliuokalani", "luca", "lusitano",
    "monteverdi", "mozart", "palestrina", "schoenberg", "schubert", "schumann_clara",
    "schumann_robert", "trecento", "verdi", "weber", "webern",
]
# In order of preference when the corpus holds one piece in several formats.
SCORE_SUFFIXES = [".mxl", ".musicxml", ".xml", ".krn", ".abc"]


def corpus_root(path):
    return Path(*path.parts[: path.parts.index("corpus") + 1])


def corpus_group(path):
    return path.relative_to(corpus_root(path)).parts[0]


def candidate_paths(groups, seed):
    """Score files per group, one per piece (a piece stored as both MusicXML and Humdrum is
    taken once, as MusicXML), in an order shuffled with the seed (stable for a seed)."""
    best = {}
    for path in corpus.getCorePaths():
        group = corpus_group(path)
        if group not in groups or path.suffix not in SCORE_SUFFIXES:
            continue
        key = (group, output_name(path, group))
        rank = SCORE_SUFFIXES.index(path.suffix)
        if key not in best or rank < best[key][0]:
            best[key] = (rank, path)
    by_group = {g: [] for g in groups}
    for (group, _), (_, path) in best.items():
        by_group[group].append(path)
    for group, paths in by_group.items():
        paths.sort()
        random.Random(f"{seed}:{group}").shuffle(paths)
    return by_group


def output_name(path, group):
    rel = path.relative_to(corpus_root(path) / group)
    stem = "_".join(rel.with_suffix("").parts)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)
    return f"{group}__{safe}.mid"


def clean_score(score):
    """Removes what is not playable; returns the score or None when nothing is left."""
    for element in list(score.recurse()):
        remove = isinstance(element, (harmony.ChordSymbol, roman.RomanNumeral, note.Unpitched))
        if isinstance(element, music21.percussion.PercussionChord):
            remove = True
        if isinstance(element, note.GeneralNote) and element.duration.isGrace:
            remove = True
        if remove:
            element.activeSite.remove(element)
    parts = list(score.parts) if score.parts else [score]
    for part in parts:
        if not part.recurse().notes:
            score.remove(part)
            continue
        for old in list(part.recurse().getElementsByClass(instrument.Instrument)):
            old.activeSite.remove(old)
        part.insert(0, instrument.Piano())
    return score if score.recurse().notes else None


def pitch_summary(score):
    pitches = [p.midi for n in score.recurse().notes for p in n.pitches]
    return min(pitches), max(pitches), len(pitches)


def is_polyphonic(score):
    return len(score.parts) >= 2 or any(len(n.pitches) > 1 for n in score.recurse().notes)


def duration_seconds(score):
    return max(e["endTimeSeconds"] for e in score.flatten().secondsMap)


def write_midi(score, target):
    """Writes atomically; repeats that music21 cannot expand are dropped (played once)."""
    temp = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        score.write("midi", fp=str(temp))
    except repeat.ExpanderException:
        for mark in list(score.recurse().getElementsByClass((bar.Repeat, repeat.RepeatMark))):
            mark.activeSite.remove(mark)
        score.write("midi", fp=str(temp))
    temp.rename(target)


def convert(path, group, out_dir, max_seconds):
    """Parses and cleans one score and writes its MIDI; returns (record, reason_skipped)."""
    target = out_dir / output_name(path, group)
    try:
        parsed = corpus.parse(str(path))
        if isinstance(parsed, stream.Opus):  # e.g. ABC files holding one voice per tune
            parsed = parsed.mergeScores()
        score = clean_score(parsed)
        if score is None:
            return None, "no notes"
        lowest, highest, count = pitch_summary(score)
        if lowest < PIANO_LOWEST or highest > PIANO_HIGHEST:
            return None, f"pitches {lowest}-{highest} outside the piano"
        if not is_polyphonic(score):
            return None, "monophonic"
        seconds = duration_seconds(score)
        if not 0 < seconds <= max_seconds:
            return None, f"lasts {seconds:.0f} s"
        if not target.exists():
            write_midi(score, target)
    except Exception as error:  # one bad score must not stop the conversion
        return None, f"{type(error).__name__}: {error}"
    record = {
        "file": target.name,
        "group": group,
        "source": str(path.relative_to(corpus_root(path))),
        "seconds": round(seconds, 3),
        "parts": len(score.parts),
        "notes": count,
        "lowest_pitch": lowest,
        "highest_pitch": highest,
    }
    return record, None


def convert_group(job):
    group, paths, out_dir, budget_seconds, max_seconds = job
    warnings.simplefilter("ignore")
    records, skipped, total = [], [], 0.0
    for path in paths:
        if total >= budget_seconds:
            break
        record, reason = convert(path, group, out_dir, max_seconds)
        if record is None:
            skipped.append((str(path), reason))
            continue
        records.append(record)
        total += record["seconds"]
    return group, records, skipped


def remove_unselected(out_dir, selected):
    """Deletes MIDI files of earlier runs that this selection no longer holds, so that the
    folder (which `polyphon synth pieces` reads whole) matches pieces.jsonl."""
    for path in sorted(out_dir.glob("*__*.mid")):
        if path.name not in selected:
            print(f"    removing {path.name}: no longer selected", file=sys.stderr)
            path.unlink()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="output folder for the MIDI files")
    parser.add_argument("--minutes-per-group", type=float, default=20.0,
                        help="at most this much music per composer folder (default 20)")
    parser.add_argument("--max-piece-minutes", type=float, default=12.0,
                        help="leave out pieces longer than this (default 12)")
    parser.add_argument("--groups", default=",".join(DEFAULT_GROUPS),
                        help="comma-separated corpus folders to use")
    parser.add_argument("--seed", type=int, default=0, help="seed of the per-group piece order")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()

    args.out.mkdir(parents=True, exist_ok=True)
    groups = [g for g in args.groups.split(",") if g]
    by_group = candidate_paths(groups, args.seed)
    jobs = [(g, by_group[g], args.out, args.minutes_per_group * 60, args.max_piece_minutes * 60)
            for g in groups]
    all_records = []
    with Pool(args.jobs) as pool:
        for group, records, skipped in pool.imap_unordered(convert_group, jobs):
            minutes = sum(r["seconds"] for r in records) / 60
            print(f"{group:16s} {len(records):4d} pieces {minutes:6.1f} min, {len(skipped)} skipped",
                  flush=True)
            for source, reason in skipped:
                print(f"    skipped {source}: {reason}", file=sys.stderr)
            all_records.extend(records)
    all_records.sort(key=lambda r: r["file"])
    remove_unselected(args.out, {r["file"] for r in all_records})
    index = args.out / "pieces.jsonl"
    temp = index.with_name(".pieces.jsonl.partial")
    temp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in all_records))
    temp.rename(index)
    hours = sum(r["seconds"] for r in all_records) / 3600
    print(f"{len(all_records)} pieces, {hours:.2f} hours, music21 {music21.__version__}")


if __name__ == "__main__":
    main()
