"""Reading 16-bit PCM WAV files (as `polyphon synth` and TiMidity write them) for the scripts in
tools/. A file that is missing, truncated or not 16-bit PCM ends the script with one line
naming it, instead of a traceback. Needs numpy.
"""

import sys
import wave

import numpy as np


def read_pcm16(path):
    """(samples averaged over the channels, float64 in 16-bit units; sample rate in Hz)."""
    try:
        with wave.open(path) as w:
            if w.getsampwidth() != 2:
                sys.exit(f"{path}: not 16-bit PCM")
            pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
            return pcm.reshape(-1, w.getnchannels()).mean(axis=1), w.getframerate()
    except (OSError, EOFError, wave.Error) as e:
        sys.exit(f"{path}: cannot read a WAV file ({str(e) or 'it ends early'})")
