#!/usr/bin/env python3
"""Check `tools/gus_to_sf2.py` by ear's proxy: the level envelope of notes that `polyphon synth
notes` rendered from the converted SoundFont against TiMidity++ playing the same patches.

For each (instrument, GM program, key) it writes a one-note MIDI file (velocity 100, held 3 s,
then 1 s of release, as `synth notes` plays), renders it with `timidity -c CFG` at 16 kHz mono,
dry, and prints both RMS envelopes in 0.25 s steps, in dB below each note's loudest step.
Needs numpy and mido (tools/requirements.txt) and the `timidity` and `freepats` Debian packages.

    python3 tools/gus_against_timidity.py /etc/timidity/freepats.cfg data/notes-freepats
"""
import glob
import os
import subprocess
import sys
import tempfile

import mido
import numpy as np

from wav import read_pcm16

# (instrument of `synth notes --soundfonts FreePats.sf2`, GM program, MIDI key)
NOTES = [
    ("keyboard_acoustic_000", 0, 60),
    ("organ_electronic_000", 16, 60),
    ("guitar_acoustic_000", 24, 61),
    ("bass_electronic_000", 33, 40),
    ("vocal_acoustic_000", 53, 60),
    ("flute_acoustic_001", 73, 72),
]
STEP_SECONDS = 0.25


def one_note_midi(path, program, key, velocity=100, held_ms=3000, release_ms=1000):
    # 1,000 ticks per beat at 60 bpm: one tick is 1 ms.
    track = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=1_000_000, time=0),
            mido.Message("program_change", program=program, time=0),
            mido.Message("note_on", note=key, velocity=velocity, time=0),
            mido.Message("note_off", note=key, velocity=0, time=held_ms),
            mido.MetaMessage("end_of_track", time=release_ms),
        ]
    )
    mido.MidiFile(ticks_per_beat=1000, tracks=[track]).save(path)


def envelope_db(signal, rate):
    """RMS level of each STEP_SECONDS step, in dB below the loudest step."""
    hop = int(rate * STEP_SECONDS)
    steps = signal[: len(signal) // hop * hop].reshape(-1, hop)
    levels = 10 * np.log10((steps**2).mean(axis=1) + 1e-9)
    return levels - levels.max()


def render_timidity(config, program, key, folder):
    midi, out = os.path.join(folder, "note.mid"), os.path.join(folder, "note.wav")
    one_note_midi(midi, program, key)
    command = ["timidity", "-c", config, "-Ow", "-s", "16000", "--output-mono"]
    command += ["-EFreverb=0", "-EFchorus=0", "-o", out, midi]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except OSError as e:
        sys.exit(f"cannot run timidity ({e.strerror}); apt-get install timidity")
    except subprocess.CalledProcessError as e:
        sys.exit(f"timidity -c {config} failed:\n{e.stderr.strip()}")
    return read_pcm16(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    config, notes = sys.argv[1], sys.argv[2]
    print(f"dB below the loudest {STEP_SECONDS} s step; the note is released at 3 s")
    with tempfile.TemporaryDirectory() as folder:
        for instrument, program, key in NOTES:
            found = glob.glob(
                os.path.join(notes, "nsynth-*", "audio", f"{instrument}-{key:03d}-100.wav")
            )
            if not found:
                sys.exit(f"{notes}: no {instrument}-{key:03d}-100.wav (render with --pitch-step 3)")
            for name, (signal, rate) in (
                ("timidity", render_timidity(config, program, key, folder)),
                ("polyphon", read_pcm16(found[0])),
            ):
                levels = " ".join(f"{max(v, -99):4.0f}" for v in envelope_db(signal, rate)[:16])
                print(f"{instrument:22} program {program:3} key {key:3} {name}: {levels}")


if __name__ == "__main__":
    main()
