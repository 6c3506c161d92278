#!/usr/bin/env python3
"""Fixtures for crates/polyphon-eval: note lists and the scores mir_eval 0.8.2 gives them.

Run with the tools venv (mir_eval, numpy, scipy, mido; versions in tools/requirements.txt):

    /opt/polyphon-tools-venv/bin/python tools/make_eval_fixtures.py

Writes, under crates/polyphon-eval/tests/fixtures/:
  transcription_cases.json  reference/estimate note lists (onset, offset, MIDI pitch, velocity),
                            mir_eval's note-level scores and matchings, and the frame-level
                            scores of mir_eval.multipitch on the notes rendered to 100 fps frames
  multipitch_cases.json     raw multi-pitch time series (incl. differing time bases) + scores
  cli_ref.csv, cli_est.csv, cli_expected.json
                            one case for `polyphon eval transcription --json`
  midi_tempo.mid, midi_tempo_notes.csv
                            a MIDI file with tempo changes and its notes in seconds per mido
  cli_midi_est.csv, cli_midi_expected.json
                            `eval transcription --ref midi_tempo.mid --est cli_midi_est.csv`

Everything is seeded: running the script twice gives identical files.
"""

import json
import math
import warnings
from pathlib import Path

import mido
import mir_eval
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "crates" / "polyphon-eval" / "tests" / "fixtures"
FPS = 100.0

warnings.simplefilter("ignore")  # mir_eval warns on empty inputs; the scores are what we need


# --------------------------------------------------------------------------------------------
# The conventions polyphon-eval documents (frames.rs, evaluate.rs), restated in Python.

def midi_to_hz(midi):
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=float) - 69.0) / 12.0)


def quantise(midi):
    """Nearest MIDI number, halves up (pitches are positive)."""
    low = math.floor(midi)
    return low + 1 if midi - low >= 0.5 else low


def frame_count(last_offset):
    return math.ceil(last_offset * FPS) + 1


def notes_to_frames(notes, n_frames):
    """Frame k at t = k / FPS holds the quantised pitch of every note with onset <= t < offset."""
    times = np.arange(n_frames) / FPS
    frames = [set() for _ in range(n_frames)]
    for onset, offset, pitch, _ in notes:
        for k in np.nonzero((onset <= times) & (times < offset))[0]:
            frames[k].add(quantise(pitch))
    return times, [midi_to_hz(sorted(f)) if f else np.array([]) for f in frames]


def as_arrays(notes):
    intervals = np.array([[n[0], n[1]] for n in notes], dtype=float).reshape(-1, 2)
    pitches = midi_to_hz([n[2] for n in notes]).reshape(-1)
    return intervals, pitches


# --------------------------------------------------------------------------------------------
# mir_eval's scores

def note_scores(ref, est, **kwargs):
    ref_i, ref_p = as_arrays(ref)
    est_i, est_p = as_arrays(est)
    p, r, f, aor = mir_eval.transcription.precision_recall_f1_overlap(
        ref_i, ref_p, est_i, est_p, **kwargs
    )
    return {"precision": float(p), "recall": float(r), "f_measure": float(f),
            "average_overlap_ratio": float(aor)}


def note_matching(ref, est, **kwargs):
    if not ref or not est:
        return []
    ref_i, ref_p = as_arrays(ref)
    est_i, est_p = as_arrays(est)
    pairs = mir_eval.transcription.match_notes(ref_i, ref_p, est_i, est_p, **kwargs)
    return [[int(i), int(j)] for i, j in pairs]


def multipitch_scores(ref_time, ref_freqs, est_time, est_freqs):
    scores = mir_eval.multipitch.evaluate(ref_time, ref_freqs, est_time, est_freqs)
    p, r = float(scores["Precision"]), float(scores["Recall"])
    # mir_eval.multipitch gives no F-measure; polyphon reports 2PR/(P+R).
    f1 = 0.0 if p + r == 0 else 2 * p * r / (p + r)
    return {"precision": p, "recall": r, "accuracy": float(scores["Accuracy"]), "f1": f1}


def frame_scores(ref, est):
    last = max([n[1] for n in ref + est], default=0.0)
    n = frame_count(last)
    ref_time, ref_freqs = notes_to_frames(ref, n)
    est_time, est_freqs = notes_to_frames(est, n)
    return multipitch_scores(ref_time, ref_freqs, est_time, est_freqs)


def transcription_case(name, ref, est):
    return {
        "name": name,
        "reference": ref,
        "estimate": est,
        "expected": {
            "onset_offset": note_scores(ref, est),
            "onset": note_scores(ref, est, offset_ratio=None),
            "onset_offset_strict": note_scores(ref, est, strict=True),
            "onset_strict": note_scores(ref, est, offset_ratio=None, strict=True),
            "matching_onset_offset": note_matching(ref, est),
            "matching_onset": note_matching(ref, est, offset_ratio=None),
            "frame": frame_scores(ref, est),
        },
    }


def report(ref, est):
    """The `eval transcription --json` object."""
    onset = note_scores(ref, est, offset_ratio=None)
    onset_offset = note_scores(ref, est)
    frame = frame_scores(ref, est)
    prf = lambda s: {"precision": s["precision"], "recall": s["recall"], "f1": s["f_measure"]}
    return {
        "frame": {k: frame[k] for k in ("precision", "recall", "f1", "accuracy")},
        "onset": prf(onset),
        "onset_offset": prf(onset_offset),
    }


# --------------------------------------------------------------------------------------------
# Note lists

def note(onset, offset, pitch, velocity=80):
    return [float(onset), float(offset), float(pitch), int(velocity)]


def snap(value, grid):
    return round(value / grid) * grid if grid else value


def random_reference(rng, n, span, grid):
    notes = []
    for _ in range(n):
        onset = snap(rng.uniform(0.0, span), grid)
        duration = max(snap(rng.uniform(0.02, 1.2), grid), grid or 0.01)
        notes.append(note(onset, onset + duration, rng.integers(21, 109), rng.integers(1, 128)))
    return notes


def perturb(rng, ref, grid, jitter):
    """An estimate: most notes kept with jittered times, some pitch errors, drops and extras."""
    est = []
    for onset, offset, pitch, velocity in ref:
        if rng.random() < 0.15:
            continue
        new_onset = max(0.0, snap(onset + rng.normal(0.0, jitter), grid))
        new_offset = snap(offset + rng.normal(0.0, 3 * jitter), grid)
        if new_offset <= new_onset:
            new_offset = new_onset + (grid or 0.01)
        u = rng.random()
        if u < 0.08:
            pitch += rng.choice([-12, 12, -1, 1])
        elif u < 0.14:
            pitch += rng.choice([-0.6, -0.4, 0.4, 0.6])
        est.append(note(new_onset, new_offset, min(max(pitch, 16.0), 111.0), velocity))
    span = max([n[1] for n in ref], default=1.0)
    est += random_reference(rng, int(rng.integers(0, 1 + len(ref) // 4)), span, grid)
    order = rng.permutation(len(est))
    return [est[i] for i in order]


def repeated_notes(rng, n, pitch, spacing, grid):
    """Dense repeated notes of one pitch: many notes within each other's onset tolerance."""
    notes = []
    t = 0.1
    for _ in range(n):
        t = snap(t + rng.uniform(0.5, 1.5) * spacing, grid)
        notes.append(note(t, t + snap(rng.uniform(0.05, 0.4), grid), pitch))
    return notes


def edge_cases():
    c = []
    ref5 = [note(0.1, 0.5, 60), note(0.3, 0.9, 64), note(0.6, 1.0, 67), note(1.2, 1.3, 72),
            note(1.25, 2.0, 48)]
    c.append(("empty_estimate", ref5, []))
    c.append(("empty_reference", [], ref5))
    c.append(("both_empty", [], []))
    c.append(("identical", ref5, [list(n) for n in ref5]))
    c.append(("zero_onset", [note(0.0, 0.2, 60), note(0.0, 0.3, 64)],
              [note(0.0, 0.21, 60), note(0.04, 0.3, 64)]))
    # Onset distances of exactly 50 ms, whose float differences fall on both sides of 0.05.
    c.append(("onset_exactly_at_tolerance",
              [note(0.7, 1.2, 60), note(1.23, 1.6, 62), note(0.2, 0.6, 64), note(0.1, 0.5, 65),
               note(2.3, 2.8, 67)],
              [note(0.75, 1.2, 60), note(1.28, 1.6, 62), note(0.25, 0.6, 64),
               note(0.05, 0.5, 65), note(2.35, 2.8, 67)]))
    # Just outside / rounding to the border under numpy's round-half-even at 4 decimals.
    c.append(("onset_near_tolerance",
              [note(0.5, 1.0, 60), note(1.5, 2.0, 62), note(2.5, 3.0, 64), note(3.5, 4.0, 65),
               note(4.5, 5.0, 67)],
              [note(0.5501, 1.0, 60), note(1.55005, 2.0, 62), note(2.54995, 3.0, 64),
               note(3.44994, 4.0, 65), note(4.55015, 5.0, 67)]))
    # Distances whose scaled value is exactly x.5 (0.05005 * 1e4 == 500.5 in floating point):
    # numpy rounds half to even, to 0.05, which matches; rounding half away would not.
    c.append(("rounding_half_to_even",
              [note(0.0, 0.5, 60), note(0.025, 0.125, 62)],
              [note(0.05005, 0.5, 60), note(0.025, 0.07495, 62)]))
    # Offsets at 20 % of the duration (1 s -> 0.2 s) and at the 50 ms minimum (0.1 s notes).
    c.append(("offset_at_tolerance",
              [note(0.0, 1.0, 60), note(2.0, 3.0, 62), note(4.0, 4.1, 64), note(5.0, 5.1, 65),
               note(6.0, 7.0, 67), note(8.0, 8.1, 69), note(9.0, 9.25, 71)],
              [note(0.0, 1.2, 60), note(2.0, 2.8, 62), note(4.0, 4.15, 64), note(5.0, 5.05, 65),
               note(6.0, 7.2001, 67), note(8.0, 8.1501, 69), note(9.0, 9.3, 71)]))
    # Pitches 49 and 51 cents away, and an octave error.
    c.append(("pitch_tolerance",
              [note(0.0, 0.5, 60), note(1.0, 1.5, 60), note(2.0, 2.5, 60), note(3.0, 3.5, 60)],
              [note(0.0, 0.5, 60.49), note(1.0, 1.5, 60.51), note(2.0, 2.5, 59.6),
               note(3.0, 3.5, 72)]))
    c.append(("overlapping_same_pitch",
              [note(0.0, 1.0, 60), note(0.5, 1.5, 60), note(0.52, 0.7, 60)],
              [note(0.02, 1.0, 60), note(0.5, 1.4, 60), note(0.51, 0.6, 60), note(0.0, 2.0, 60)]))
    # Estimate 0 may match references 0 and 1, estimate 1 only reference 0: a greedy pass
    # that gives estimate 0 its first candidate matches one pair, the maximum matching two.
    c.append(("greedy_fails",
              [note(0.10, 0.5, 60), note(0.16, 0.5, 60)],
              [note(0.13, 0.5, 60), note(0.06, 0.5, 60)]))
    chain_ref = [note(0.06 * k, 0.06 * k + 0.3, 62) for k in range(8)]
    chain_est = [note(0.06 * k + 0.03, 0.06 * k + 0.3, 62) for k in range(7)]
    chain_est.append(note(0.0, 0.25, 62))
    c.append(("greedy_fails_long_chain", chain_ref, chain_est))
    # Several equally good matchings with different overlap ratios: mir_eval's choice decides
    # the average overlap ratio.
    c.append(("one_reference_many_estimates",
              [note(1.0, 2.0, 60)],
              [note(1.01, 1.9, 60), note(0.99, 2.0, 60), note(1.03, 1.2, 60)]))
    c.append(("many_references_one_estimate",
              [note(1.0, 2.0, 60), note(0.98, 1.5, 60), note(1.04, 1.1, 60)],
              [note(1.01, 1.9, 60)]))
    c.append(("overlap_ratio_ambiguity",
              [note(1.0, 2.0, 60), note(1.02, 1.3, 60), note(3.0, 3.5, 64)],
              [note(1.01, 1.3, 60), note(1.03, 2.1, 60), note(3.02, 3.4, 64)]))
    c.append(("duplicate_estimates", ref5, [list(n) for n in ref5 for _ in range(2)]))
    # Frame rule borders: notes starting/ending exactly on frame times, and notes shorter than
    # a frame that fall between two frame times.
    c.append(("frame_borders",
              [note(0.07, 0.1, 60), note(0.1, 0.2, 62), note(0.011, 0.019, 64),
               note(0.3, 0.305, 65)],
              [note(0.07, 0.09, 60), note(0.1, 0.21, 62), note(0.012, 0.02, 64),
               note(0.3001, 0.31, 65)]))
    c.append(("fractional_pitches_quantised",
              [note(0.0, 0.5, 60.5), note(0.0, 0.5, 64.4), note(1.0, 1.5, 70)],
              [note(0.0, 0.5, 61.0), note(0.0, 0.5, 64.0), note(1.0, 1.5, 70.49)]))
    c.append(("pitch_range_borders",
              [note(0.0, 0.5, 16), note(0.0, 0.5, 21), note(0.0, 0.5, 108), note(0.0, 0.5, 111)],
              [note(0.0, 0.5, 16), note(0.0, 0.5, 22), note(0.01, 0.5, 108), note(0.0, 0.4, 111)]))
    c.append(("estimate_longer_than_reference",
              [note(0.0, 0.5, 60)],
              [note(0.0, 0.5, 60), note(3.0, 4.0, 62)]))
    return c


def random_cases(rng):
    cases = []
    grids = [0.001, 0.01, None]
    for k in range(24):
        grid = grids[k % 3]
        n = int(rng.integers(1, 41))
        ref = random_reference(rng, n, span=max(1.0, n * 0.15), grid=grid)
        est = perturb(rng, ref, grid, jitter=float(rng.choice([0.01, 0.03, 0.06])))
        cases.append((f"random_{k:02d}_n{n}_grid{grid}", ref, est))
    for k in range(6):
        grid = grids[k % 3]
        ref = repeated_notes(rng, int(rng.integers(5, 25)), int(rng.integers(40, 80)), 0.04, grid)
        est = repeated_notes(rng, int(rng.integers(5, 25)), ref[0][2], 0.04, grid)
        cases.append((f"repeated_notes_{k:02d}", ref, est))
    return cases


# --------------------------------------------------------------------------------------------
# Raw multi-pitch series, including time bases that force mir_eval to resample

def random_series(rng, times, max_voices):
    freqs = []
    for _ in times:
        k = int(rng.integers(0, max_voices + 1))
        # Rounded to 0.1 mHz to keep the file small; both sides read the stored values.
        freqs.append(np.round(np.sort(440.0 * 2.0 ** (rng.uniform(-40, 40, size=k) / 12.0)), 4))
    return freqs


def near_copy(rng, freqs, semitone_spread):
    out = []
    for frame in freqs:
        keep = frame[rng.random(frame.size) < 0.8]
        keep = keep * 2.0 ** (rng.normal(0.0, semitone_spread, size=keep.size) / 12.0)
        extra = 440.0 * 2.0 ** (rng.uniform(-40, 40, size=int(rng.integers(0, 2))) / 12.0)
        out.append(np.round(np.clip(np.sort(np.concatenate([keep, extra])), 20.0, 5000.0), 4))
    return out


def multipitch_cases(rng):
    cases = []
    ref_t = np.arange(200) / 100.0
    layouts = [
        ("same_times", ref_t),
        ("times_within_allclose", ref_t + 1e-9),
        ("est_hop_11_6ms", np.arange(180) * 0.0116),
        ("est_shifted_start", 0.5 + np.arange(200) / 100.0),
        ("est_shorter", np.arange(120) / 100.0),
        ("est_half_rate_halfway_targets", np.arange(110) / 50.0),
        ("est_single_frame", np.array([1.0])),
        ("est_empty", np.array([])),
    ]
    for name, est_t in layouts:
        ref_f = random_series(rng, ref_t, 3)
        # The estimate follows the reference frame nearest in time, so resampling errors show.
        nearest = np.clip(np.round(est_t * 100.0).astype(int), 0, ref_t.size - 1)
        est_f = near_copy(rng, [ref_f[i] for i in nearest], 0.3)
        cases.append({
            "name": name,
            "ref_times": ref_t.tolist(),
            "ref_freqs": [f.tolist() for f in ref_f],
            "est_times": est_t.tolist(),
            "est_freqs": [f.tolist() for f in est_f],
            "expected": multipitch_scores(ref_t, ref_f, est_t, est_f),
        })
    return cases


# --------------------------------------------------------------------------------------------
# CLI and MIDI fixtures

def write_csv(path, notes, header):
    lines = ["onset,offset,pitch,velocity"] if header else []
    pitch = lambda m: str(int(m)) if m == int(m) else repr(m)
    lines += [f"{n[0]!r},{n[1]!r},{pitch(n[2])},{n[3]}" for n in notes]
    path.write_text("\n".join(lines) + "\n")


def write_tempo_midi(path, rng):
    """Two note tracks on a tempo map with three tempo changes; returns mido's notes."""
    mid = mido.MidiFile(type=1, ticks_per_beat=480)
    tempo = mido.MidiTrack()
    tempo += [mido.MetaMessage("set_tempo", tempo=500000, time=0),
              mido.MetaMessage("set_tempo", tempo=400000, time=960),
              mido.MetaMessage("set_tempo", tempo=750000, time=1440),
              mido.MetaMessage("set_tempo", tempo=300000, time=1000)]
    mid.tracks.append(tempo)
    for channel, base in [(0, 60), (1, 45)]:
        events = []
        tick = 0
        for _ in range(20):
            tick += int(rng.integers(60, 400))
            length = int(rng.integers(30, 700))
            key = base + int(rng.integers(0, 12))
            events.append((tick, 1, mido.Message("note_on", channel=channel, note=key,
                                                 velocity=int(rng.integers(1, 128)))))
            # Alternate real note-offs and velocity-0 note-ons.
            off = (mido.Message("note_off", channel=channel, note=key, velocity=64)
                   if rng.random() < 0.5 else
                   mido.Message("note_on", channel=channel, note=key, velocity=0))
            events.append((tick + length, 0, off))
        events.sort(key=lambda e: (e[0], e[1]))
        track = mido.MidiTrack()
        previous = 0
        for t, _, msg in events:
            track.append(msg.copy(time=t - previous))
            previous = t
        mid.tracks.append(track)
    mid.save(path)
    return notes_from_mido(mido.MidiFile(path))


def notes_from_mido(mid):
    """Notes in seconds as mido's playback clock gives them (merged tracks, tempo applied)."""
    now, open_notes, notes = 0.0, {}, []
    for msg in mid:
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            open_notes.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
        elif msg.type in ("note_on", "note_off"):
            for onset, velocity in open_notes.pop((msg.channel, msg.note), []):
                notes.append(note(onset, now, msg.note, velocity))
    notes.sort(key=lambda n: (n[0], n[2], n[1]))
    return notes


def write_cli_fixtures(rng):
    ref = random_reference(rng, 40, 8.0, 0.001)
    est = perturb(rng, ref, 0.001, 0.03)
    write_csv(OUT / "cli_ref.csv", ref, header=True)
    write_csv(OUT / "cli_est.csv", est, header=False)
    dump(OUT / "cli_expected.json", report(ref, est))

    midi_notes = write_tempo_midi(OUT / "midi_tempo.mid", rng)
    write_csv(OUT / "midi_tempo_notes.csv", midi_notes, header=True)
    midi_est = perturb(rng, midi_notes, None, 0.02)
    write_csv(OUT / "cli_midi_est.csv", midi_est, header=True)
    dump(OUT / "cli_midi_expected.json", report(midi_notes, midi_est))


def dump(path, value):
    path.write_text(json.dumps(value, indent=1) + "\n")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240604)
    cases = [transcription_case(*c) for c in edge_cases() + random_cases(rng)]
    dump(OUT / "transcription_cases.json", {"mir_eval": mir_eval.__version__, "cases": cases})
    dump(OUT / "multipitch_cases.json",
         {"mir_eval": mir_eval.__version__, "cases": multipitch_cases(rng)})
    write_cli_fixtures(rng)
    print(f"{len(cases)} transcription cases written to {OUT}")


if __name__ == "__main__":
    main()
