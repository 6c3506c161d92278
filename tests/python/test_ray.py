"""tools/ray_transcribe.py on a local Ray cluster of two workers (127.0.0.1), against the
command on the same files. Skipped where Ray is not installed (tools/requirements-ray.txt)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]
CHORD = ROOT / "examples" / "piano_chord.wav"
BIN = os.environ.get("POLYPHON_BIN", str(ROOT / "target" / "debug" / "polyphon"))


def test_a_local_cluster_writes_what_the_command_writes(tmp_path):
    inputs = []
    for name in ["first", "second"]:
        path = tmp_path / f"{name}.wav"
        path.write_bytes(CHORD.read_bytes())
        inputs.append(path)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    out = tmp_path / "ray"
    tool = [sys.executable, str(ROOT / "tools" / "ray_transcribe.py"), "--out", str(out)]
    run = lambda: subprocess.run(  # noqa: E731
        tool + ["--workers", "2", *map(str, inputs), str(bad)],
        capture_output=True, text=True, timeout=600,
    )
    done = run()
    assert done.returncode == 2, done.stderr
    assert "bad.wav" in done.stderr
    expected = tmp_path / "cli.csv"
    subprocess.run([BIN, "transcribe", str(CHORD), "-o", str(tmp_path / "cli.mid"),
                    "--notes", str(expected)], check=True, capture_output=True)
    for name in ["first", "second"]:
        assert (out / f"{name}.csv").read_text() == expected.read_text()
        assert (out / f"{name}.mid").read_bytes() == (tmp_path / "cli.mid").read_bytes()
    again = run()
    assert again.stdout.count("skipped, its outputs exist") == 2, again.stdout
