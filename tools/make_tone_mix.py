#!/usr/bin/env python3
"""Writes a long stereo 44.1 kHz 16-bit WAV of two tone pairs (82 + 880 Hz left, 110 + 660 Hz
right), for measuring `polyphon separate`'s memory against the input's length. Standard
library only.

    python3 tools/make_tone_mix.py 10 /tmp/stereo_10min.wav
"""
import array
import math
import sys
import wave

RATE = 44_100


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    minutes, path = float(sys.argv[1]), sys.argv[2]
    frames = int(minutes * 60 * RATE)
    with wave.open(path, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(RATE)
        for start in range(0, frames, RATE):
            block = array.array("h")
            for i in range(start, min(frames, start + RATE)):
                t = i / RATE
                left = 0.3 * math.sin(2 * math.pi * 82 * t) + 0.2 * math.sin(2 * math.pi * 880 * t)
                right = 0.2 * math.sin(2 * math.pi * 110 * t) + 0.25 * math.sin(2 * math.pi * 660 * t)
                block.extend((int(left * 32767), int(right * 32767)))
            out.writeframes(block.tobytes())


if __name__ == "__main__":
    main()
