"""The examples run end to end (with --quick) and print what they promise.

They run in the default suite (CI): ~110 s together from an empty compile cache on 2 cores,
most of it compiling the Old Faithful model once (then cached), ~10 s warm.
"""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _run(name, tmp_path, *args):
    done = subprocess.run([sys.executable, str(EXAMPLES / name), "--quick", *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_old_faithful(tmp_path):
    out = _run("old_faithful.py", tmp_path)
    assert "means[1, waiting]" in out  # compare_em table
    assert "Label switching:" in out and ("OK:" in out or "PROBLEMS:" in out)
    assert "P(component 0)" in out  # membership with its interval
    assert (tmp_path / "old_faithful_report" / "report.html").is_file()


def test_galaxies(tmp_path):
    out = _run("galaxies.py", tmp_path)
    assert "K = 3" in out and "K = 4" in out
    # QA: "EM BIC" was the MAP-EM start's, 1.7 above select_em's ML-EM BIC for K=3
    assert out.count("BIC at the MAP-EM start") == 2 and ": EM BIC" not in out
    assert out.count("Label switching:") == 2
    assert "means[3, velocity]" in out


def test_em_vs_mcmc(tmp_path):
    out = _run("em_vs_mcmc.py", tmp_path, "--out", "overlay.png")
    assert "94% width" in out and "EM is >= 95% sure" in out
    png = tmp_path / "overlay.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_real_data(tmp_path):
    out = _run("real_data.py", tmp_path)
    for heading in ("1. Missing values", "2. Weights", "3. Noise", "4. Known labels"):
        assert heading in out
    assert "marginalise" in out and "counts ignored" in out and "labels ignored" in out


@pytest.mark.parametrize("name", ["old_faithful.py", "galaxies.py", "em_vs_mcmc.py",
                                  "real_data.py"])
def test_examples_document_quick(name):
    text = (EXAMPLES / name).read_text()
    assert '"--quick"' in text and text.startswith('"""')
