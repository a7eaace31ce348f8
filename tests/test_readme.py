"""Every Python snippet of the README runs, in order, in one namespace (as a reader pastes them)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.S | re.M)


def test_the_readme_has_python_snippets():
    blocks = _python_blocks()
    assert len(blocks) >= 5 and "fit_bayes" in blocks[0]


@pytest.mark.slow
def test_readme_python_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the snippets write results/ where they run
    namespace: dict = {}
    ran = 0
    for block in _python_blocks():
        # The Dask snippet starts a local cluster of worker processes (examples/dask_sweep.py
        # is the same sweep as a script); not run here.
        if "from distributed import Client" in block:
            continue
        exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
        ran += 1
    assert ran >= 5
    assert (tmp_path / "results" / "faithful" / "manifest.json").is_file()
    assert {"em", "post", "gmm", "sel", "loo", "sparse", "limits"} <= set(namespace)
