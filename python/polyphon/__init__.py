"""polyphon: deep learning on music audio, in Rust.

Piano transcription, spectrogram front-ends, source separation, instrument recognition and
mir_eval's transcription metrics, on numpy arrays. Every function releases the GIL while it
computes. Bad input raises ``ValueError`` (``OSError`` for files), with the message the
``polyphon`` command prints.

>>> import polyphon
>>> notes = polyphon.transcribe_file("examples/piano_chord.wav")
>>> notes["pitch"][:3]
"""

from __future__ import annotations

import json
import os
from typing import Dict, Optional, Union

import numpy as np

from . import _native

__all__ = [
    "NOTE_DTYPE",
    "transcribe",
    "transcribe_file",
    "features",
    "separate",
    "classify",
    "write_notes",
    "eval",
]

#: The notes' structured dtype: seconds from the start, MIDI pitch (60 = C4), velocity 0-127.
NOTE_DTYPE = np.dtype(
    [("onset", "f8"), ("offset", "f8"), ("pitch", "f8"), ("velocity", "u1")]
)


def _notes(rows: np.ndarray) -> np.ndarray:
    notes = np.empty(len(rows), dtype=NOTE_DTYPE)
    for column, name in enumerate(NOTE_DTYPE.names):
        notes[name] = rows[:, column]
    return notes


def _mono(y) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 2:
        y = y.mean(axis=0)
    if y.ndim != 1:
        raise ValueError(f"audio must be 1-D (samples) or 2-D (channels, samples), not {y.ndim}-D")
    return np.ascontiguousarray(y)


def transcribe(y, sr: int, model: Optional[str] = None) -> np.ndarray:
    """Notes of piano audio ``y`` (1-D, or 2-D ``(channels, samples)``, mixed to mono) at
    ``sr`` Hz, as a structured array of :data:`NOTE_DTYPE`, by onset.

    ``model`` is a bundled model's name or the ``model.json`` of ``polyphon train
    transcription``; the default is the bundled ``convnet-pieces``. Equal to ``polyphon
    transcribe`` on the same samples.
    """
    return _notes(_native.transcribe(_mono(y), int(sr), model))


def transcribe_file(path: Union[str, os.PathLike], model: Optional[str] = None) -> np.ndarray:
    """Notes of an audio file (WAV, FLAC, MP3, Ogg Vorbis), as :func:`transcribe` gives them;
    the file is streamed, so memory stays flat however long it is."""
    return _notes(_native.transcribe_file(os.fspath(path), model))


def features(y, sr: int, kind: str = "logfilt") -> np.ndarray:
    """The spectrogram ``(frames, bins)`` (float32) that ``polyphon features --kind KIND``
    writes as ``.npy``, with that command's defaults: ``"logfilt"`` (madmom's logarithmic
    filtered spectrogram of Kelz et al. 2016, 229 bins at 100 fps, 44.1 kHz), ``"mel"``
    (librosa's melspectrogram, 128 bands, 22.05 kHz) or ``"stft"``."""
    return _native.features(_mono(y), int(sr), kind)


def separate(y, sr: int, model: Optional[str] = None) -> Dict[str, np.ndarray]:
    """Sources of the mixture ``y`` (1-D, or 2-D ``(channels, samples)``) at ``sr`` Hz: a dict
    of source name to an array of ``y``'s shape. The default model is the bundled
    ``unet-bass-flute``."""
    y = np.asarray(y, dtype=np.float32)
    if y.ndim not in (1, 2):
        raise ValueError(f"audio must be 1-D or 2-D (channels, samples), not {y.ndim}-D")
    channels = np.ascontiguousarray(y.reshape(1, -1) if y.ndim == 1 else y)
    stems = _native.separate(channels, int(sr), model)
    return {
        name: np.asarray(stem, dtype=np.float32).reshape(y.shape)
        for name, stem in stems
    }


def classify(y, sr: int, model: Optional[str] = None) -> Dict[str, float]:
    """Probability of each instrument family in the first 4 s of ``y`` at ``sr`` Hz. The
    default model is the bundled multi-label network (bass, flute, guitar, keyboard, organ,
    vocal)."""
    return dict(_native.classify(_mono(y), int(sr), model))


def write_notes(path: Union[str, os.PathLike], notes) -> None:
    """Writes notes as CSV (``.csv``: onset,offset,pitch,velocity) or MIDI (``.mid``), as
    ``polyphon transcribe`` does; the file appears whole or not at all."""
    _native.write_notes(os.fspath(path), _note_rows(notes))


def _note_rows(notes) -> np.ndarray:
    notes = np.asarray(notes)
    if notes.dtype.names:
        columns = [notes[name] for name in ("onset", "offset", "pitch")]
        velocity = notes["velocity"] if "velocity" in notes.dtype.names else np.zeros(len(notes))
        return np.ascontiguousarray(np.stack(columns + [velocity], axis=1), dtype=np.float64)
    rows = np.asarray(notes, dtype=np.float64).reshape(len(notes), -1)
    if rows.shape[1] == 3:
        rows = np.hstack([rows, np.zeros((len(rows), 1))])
    if rows.shape[1] != 4:
        raise ValueError("notes must be rows of onset, offset, pitch[, velocity]")
    return np.ascontiguousarray(rows)


class eval:  # noqa: N801 - a namespace, as ``polyphon.eval.transcription`` reads
    """The metrics of ``polyphon eval``, equal to mir_eval's."""

    @staticmethod
    def transcription(reference, estimate) -> dict:
        """mir_eval.transcription's precision, recall and F1 with onsets only (``onset``) and
        with offsets (``onset_offset``), and mir_eval.multipitch's frame scores (``frame``,
        with accuracy), as ``polyphon eval transcription --json`` prints them. Notes are
        structured arrays from :func:`transcribe` or rows of onset, offset, pitch[, velocity]
        (seconds, MIDI pitch)."""
        report = _native.evaluate_transcription(_note_rows(reference), _note_rows(estimate))
        return json.loads(report)
