#!/usr/bin/env python3
"""Convert a TiMidity configuration of Gravis UltraSound patches (.pat), such as Debian's
`freepats` package, into one SoundFont 2 file that `polyphon synth` can render.

Why: FreePats are recordings of their own, not another version of the SoundFonts polyphon
already renders, so they give the instrument networks timbres they have not heard. rustysynth
reads SF2 only, hence the conversion. Standard library only.

Each melodic program of the configuration's `bank 0` becomes one preset (bank 0, same
program) with one instrument; each sample of the patch becomes one zone whose key range holds
the keys TiMidity would play with that sample (the first sample whose frequency range holds
the key's frequency, else the one with the nearest root frequency). Drum sets are skipped.

The GUS volume envelope (six rate/offset stages) is mapped onto SF2's attack, decay, sustain
and release. A rate's top two bits choose how many sample frames (1, 8, 64 or 512 at 44.1 kHz)
pass between increments of its low six bits, in units of 1/16 offset step, as TiMidity reads
them. Offsets are volumes on a log scale: at the GUS chip's 16 steps per 6.02 dB, decays and
releases came out twice as steep as TiMidity++ 2.14 plays the same patches, and at 32 steps
per 6.02 dB they match it within 2 dB over a held note (`tools/gus_against_timidity.py`), so
that is the scale used. Stage 0 is the attack, stages 1 and 2 (one straight line in dB in both
formats) the decay to the sustain level, stage 3 the release. Vibrato and tremolo are not
converted.

    python3 tools/gus_to_sf2.py /etc/timidity/freepats.cfg data/soundfonts/FreePats.sf2
"""
import math
import os
import struct
import sys

HEADER_BYTES = 239
SAMPLE_HEADER_BYTES = 96
DB_PER_OFFSET_STEP = 20 * math.log10(2) / 32  # calibrated against TiMidity++, see above
GUS_FRAME_RATE = 44100.0
MODE_16_BIT, MODE_UNSIGNED, MODE_LOOP, MODE_PING_PONG, MODE_REVERSE = 1, 2, 4, 8, 16
SF2_SAMPLE_PADDING = 46

# SF2 generator numbers (SoundFont 2.04, section 8.1.2).
GEN_ATTACK, GEN_HOLD, GEN_DECAY, GEN_SUSTAIN, GEN_RELEASE = 34, 35, 36, 37, 38
GEN_INSTRUMENT, GEN_KEY_RANGE, GEN_SAMPLE_ID, GEN_SAMPLE_MODES = 41, 43, 53, 54


class PatchError(Exception):
    pass


def read_config(path):
    """(program, patch path) of every melodic program in bank 0 of a TiMidity .cfg."""
    folder, section, programs = os.path.dirname(path), None, []
    with open(path) as config:
        for number, line in enumerate(config, 1):
            words = line.split("#")[0].split()
            if words and words[0] in ("dir", "bank", "drumset"):
                if len(words) < 2 or (words[0] != "dir" and not words[1].isdigit()):
                    raise PatchError(f"{path}:{number}: '{words[0]}' needs a folder or a number")
                if words[0] == "dir":
                    folder = words[1]
                else:
                    section = (words[0], int(words[1]))
            elif words and section == ("bank", 0) and words[0].isdigit() and len(words) > 1:
                programs.append((int(words[0]), os.path.join(folder, words[1])))
    if not programs:
        raise PatchError(f"{path}: no melodic programs in bank 0")
    return programs


def read_patch(path):
    """The samples of a GF1 patch: header fields and 16-bit signed PCM."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:12] not in (b"GF1PATCH110\0", b"GF1PATCH100\0") or len(data) < HEADER_BYTES:
        raise PatchError(f"{path}: not a GF1 patch")
    samples, position = [], HEADER_BYTES
    for _ in range(data[198]):
        header = data[position : position + SAMPLE_HEADER_BYTES]
        if len(header) < SAMPLE_HEADER_BYTES:
            raise PatchError(f"{path}: truncated sample header")
        length, loop_start, loop_end, rate = struct.unpack("<IIIH", header[8:22])
        low, high, root = struct.unpack("<III", header[22:34])
        modes = header[55]
        if root == 0 or rate == 0:
            raise PatchError(f"{path}: a sample has no root frequency or sample rate")
        raw = data[position + SAMPLE_HEADER_BYTES : position + SAMPLE_HEADER_BYTES + length]
        if len(raw) < length:
            raise PatchError(f"{path}: truncated sample data")
        if modes & MODE_REVERSE:
            raise PatchError(f"{path}: reversed samples are not converted")
        width = 2 if modes & MODE_16_BIT else 1
        pcm, loop = to_pcm16(raw, modes), (loop_start // width, loop_end // width)
        if modes & MODE_LOOP and modes & MODE_PING_PONG:
            pcm, loop = unroll_ping_pong(pcm, loop)
        samples.append(
            {
                "pcm": pcm,
                "loop": loop if modes & MODE_LOOP else None,
                "rate": rate,
                "low": low / 1000,
                "high": high / 1000,
                "root": root / 1000,
                "rates": header[37:43],
                "offsets": header[43:49],
            }
        )
        position += SAMPLE_HEADER_BYTES + length
    return samples


def unroll_ping_pong(pcm, loop):
    """SF2 loops run forwards only: append the loop played backwards and loop over both."""
    start, end = loop
    backwards = pcm[start:end][::-1]
    return pcm[:end] + backwards, (start, end + len(backwards))


def to_pcm16(raw, modes):
    if modes & MODE_16_BIT:
        values = struct.unpack(
            f"<{len(raw) // 2}{'H' if modes & MODE_UNSIGNED else 'h'}", raw[: len(raw) // 2 * 2]
        )
        return [v - 32768 for v in values] if modes & MODE_UNSIGNED else list(values)
    values = struct.unpack(f"{len(raw)}{'B' if modes & MODE_UNSIGNED else 'b'}", raw)
    return [((v - 128) if modes & MODE_UNSIGNED else v) * 256 for v in values]


def key_frequency(key):
    return 440.0 * 2 ** ((key - 69) / 12)


def sample_for_key(samples, key):
    f = key_frequency(key)
    for index, sample in enumerate(samples):
        if sample["low"] <= f <= sample["high"]:
            return index
    return min(range(len(samples)), key=lambda i: abs(math.log(f / samples[i]["root"])))


def key_ranges(samples):
    """[(sample index, low key, high key)]: runs of keys that play the same sample."""
    runs = []
    for key in range(128):
        index = sample_for_key(samples, key)
        if runs and runs[-1][0] == index and runs[-1][2] == key - 1:
            runs[-1] = (index, runs[-1][1], key)
        else:
            runs.append((index, key, key))
    return runs


def ramp_seconds(rate, steps):
    """Seconds a GUS envelope rate takes to move `steps` offset steps."""
    increment = rate & 0x3F
    if steps == 0 or increment == 0:
        return 0.0
    frames_per_update = 8 ** (rate >> 6)
    steps_per_second = increment / 16 * GUS_FRAME_RATE / frames_per_update
    return steps / steps_per_second


def timecents(seconds):
    return -12000 if seconds < 0.001 else round(1200 * math.log2(seconds))


def envelope_generators(rates, offsets):
    """SF2 attack, decay, sustain and release from stages 0-3 of a GUS envelope."""
    attack = ramp_seconds(rates[0], offsets[0])
    decay_steps = max(offsets[0] - offsets[2], 0)
    decay = ramp_seconds(rates[1], abs(offsets[0] - offsets[1])) + ramp_seconds(
        rates[2], abs(offsets[1] - offsets[2])
    )
    decay_db = decay_steps * DB_PER_OFFSET_STEP
    release_steps = max(offsets[2] - offsets[3], 1)
    release_db = release_steps * DB_PER_OFFSET_STEP
    release = ramp_seconds(rates[3], release_steps)
    # SF2 times are for a 100 dB change; GUS stages are for their own span.
    return [
        (GEN_ATTACK, timecents(attack)),
        (GEN_HOLD, -12000),
        (GEN_DECAY, timecents(decay * 100 / decay_db) if decay_db > 0 else -12000),
        (GEN_SUSTAIN, min(round(decay_db * 10), 1440)),
        (GEN_RELEASE, timecents(release * 100 / release_db)),
    ]


def name20(text):
    return text.encode("ascii", "replace")[:19].ljust(20, b"\0")


def chunk(tag, payload):
    # SF2 wants even sizes that count the padding (rustysynth does not skip RIFF pad bytes).
    payload += b"\0" * (len(payload) % 2)
    return tag + struct.pack("<I", len(payload)) + payload


def riff_list(tag, chunks):
    return chunk(b"LIST", tag + b"".join(chunks))


class SoundFontWriter:
    """Collects presets (one instrument each) and writes a SoundFont 2.01 file."""

    def __init__(self, name):
        self.name = name
        self.pcm = []
        self.shdr, self.inst, self.ibag, self.igen = [], [], [], []
        self.phdr, self.pbag, self.pgen = [], [], []

    def add_sample(self, name, sample):
        start = len(self.pcm)
        self.pcm.extend(sample["pcm"])
        end = len(self.pcm)
        self.pcm.extend([0] * SF2_SAMPLE_PADDING)
        loop = sample["loop"] or (0, len(sample["pcm"]))
        pitch = 69 + 12 * math.log2(sample["root"] / 440.0)
        key = min(max(round(pitch), 0), 127)
        correction = round((pitch - key) * 100)
        self.shdr.append(
            name20(name)
            + struct.pack("<IIIII", start, end, start + loop[0], start + loop[1], sample["rate"])
            + struct.pack("<Bbhh", key, correction, 0, 1)
        )
        return len(self.shdr) - 1

    def add_preset(self, program, name, samples):
        self.inst.append(name20(name) + struct.pack("<H", len(self.ibag)))
        ids = [self.add_sample(f"{name[:14]}-{i}", s) for i, s in enumerate(samples)]
        for index, low, high in key_ranges(samples):
            sample = samples[index]
            gens = [(GEN_KEY_RANGE, low | high << 8)]
            gens += envelope_generators(sample["rates"], sample["offsets"])
            gens += [(GEN_SAMPLE_MODES, 1 if sample["loop"] else 0), (GEN_SAMPLE_ID, ids[index])]
            self.ibag.append(struct.pack("<HH", len(self.igen), 0))
            self.igen.extend(
                struct.pack("<Hh" if g != GEN_KEY_RANGE else "<HH", g, v) for g, v in gens
            )
        self.phdr.append(name20(name) + struct.pack("<HHHIII", program, 0, len(self.pbag), 0, 0, 0))
        self.pbag.append(struct.pack("<HH", len(self.pgen), 0))
        self.pgen.append(struct.pack("<HH", GEN_INSTRUMENT, len(self.inst) - 1))

    def bytes(self):
        info = [
            chunk(b"ifil", struct.pack("<HH", 2, 1)),
            chunk(b"isng", b"EMU8000\0"),
            chunk(b"INAM", self.name.encode() + b"\0"),
        ]
        sdta = [chunk(b"smpl", struct.pack(f"<{len(self.pcm)}h", *self.pcm))]
        pdta = [
            chunk(
                b"phdr",
                b"".join(self.phdr)
                + name20("EOP")
                + struct.pack("<HHHIII", 0, 0, len(self.pbag), 0, 0, 0),
            ),
            chunk(b"pbag", b"".join(self.pbag) + struct.pack("<HH", len(self.pgen), 0)),
            chunk(b"pmod", b"\0" * 10),
            chunk(b"pgen", b"".join(self.pgen) + b"\0" * 4),
            chunk(b"inst", b"".join(self.inst) + name20("EOI") + struct.pack("<H", len(self.ibag))),
            chunk(b"ibag", b"".join(self.ibag) + struct.pack("<HH", len(self.igen), 0)),
            chunk(b"imod", b"\0" * 10),
            chunk(b"igen", b"".join(self.igen) + b"\0" * 4),
            chunk(b"shdr", b"".join(self.shdr) + name20("EOS") + b"\0" * 26),
        ]
        body = (
            b"sfbk" + riff_list(b"INFO", info) + riff_list(b"sdta", sdta) + riff_list(b"pdta", pdta)
        )
        return chunk(b"RIFF", body)


def preset_name(patch_path):
    # "Tone_000/024_Nylon_Guitar.pat" -> "Nylon_Guitar"
    stem = os.path.splitext(os.path.basename(patch_path))[0]
    return stem.split("_", 1)[1] if stem[:3].isdigit() else stem


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    config, out = sys.argv[1], sys.argv[2]
    writer = SoundFontWriter(os.path.splitext(os.path.basename(out))[0])
    try:
        for program, patch in read_config(config):
            writer.add_preset(program, preset_name(patch), read_patch(patch))
    except UnicodeDecodeError:
        sys.exit(f"gus_to_sf2: {config}: not a TiMidity configuration (not text)")
    except (OSError, PatchError) as e:
        sys.exit(f"gus_to_sf2: {e}")
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    partial = out + ".partial"
    with open(partial, "wb") as f:
        f.write(writer.bytes())
    os.replace(partial, out)
    print(f"{out}: {len(writer.phdr)} presets, {len(writer.shdr)} samples")


if __name__ == "__main__":
    main()
