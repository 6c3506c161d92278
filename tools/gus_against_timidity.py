#!/usr/bin/env python3
"""Check `tools/gus_to_sf2.py` by ear's proxy: the level envelope of notes that `polyphon synth
notes` rendered from the converted SoundFont against TiMidity++ playing the same patches.

For each (instrument, GM program, key) it writes a one-note MIDI file (velocity 100, held 3 s,
then 1 s of release, as `synth notes` plays), renders it with `timidity -c CFG` at 16 kHz mono,
dry, and prints both RMS envelopes in 0.25 s steps, in dB below each note's loudest step.
Standard library only; needs the `timidity` and `freepats` Debian packages.

    python3 tools/gus_against_timidity.py /etc/timidity/freepats.cfg data/notes-freepats
"""
import array
import glob
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

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


def variable_length(n):
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.append(n & 0x7F | 0x80)
    return bytes(reversed(out))


def one_note_midi(program, key, velocity=100, held_ms=3000, release_ms=1000):
    # 1,000 ticks per quarter at 60 bpm: one tick is 1 ms.
    track = variable_length(0) + bytes([0xFF, 0x51, 3]) + (1_000_000).to_bytes(3, "big")
    track += variable_length(0) + bytes([0xC0, program])
    track += variable_length(0) + bytes([0x90, key, velocity])
    track += variable_length(held_ms) + bytes([0x80, key, 0])
    track += variable_length(release_ms) + bytes([0xFF, 0x2F, 0])
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, 1000)
    return header + b"MTrk" + struct.pack(">I", len(track)) + track


def read_mono(path):
    with wave.open(path) as w:
        if w.getsampwidth() != 2:
            sys.exit(f"{path}: expected 16-bit PCM")
        pcm = array.array("h", w.readframes(w.getnframes()))
        channels, rate = w.getnchannels(), w.getframerate()
    return [
        sum(pcm[i : i + channels]) / channels / 32768 for i in range(0, len(pcm), channels)
    ], rate


def envelope_db(signal, rate):
    hop = int(rate * STEP_SECONDS)
    levels = []
    for start in range(0, len(signal) - hop + 1, hop):
        power = sum(x * x for x in signal[start : start + hop]) / hop
        levels.append(10 * math.log10(power + 1e-18))
    top = max(levels)
    return [level - top for level in levels]


def render_timidity(config, program, key, folder):
    midi, out = os.path.join(folder, "note.mid"), os.path.join(folder, "note.wav")
    with open(midi, "wb") as f:
        f.write(one_note_midi(program, key))
    command = ["timidity", "-c", config, "-Ow", "-s", "16000", "--output-mono"]
    command += ["-EFreverb=0", "-EFchorus=0", "-o", out, midi]
    subprocess.run(command, check=True, capture_output=True)
    return read_mono(out)


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
                ("polyphon", read_mono(found[0])),
            ):
                levels = " ".join(f"{max(v, -99):4.0f}" for v in envelope_db(signal, rate)[:16])
                print(f"{instrument:22} program {program:3} key {key:3} {name}: {levels}")


if __name__ == "__main__":
    main()
