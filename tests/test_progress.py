"""The status layer: lines on stderr, silenced on request, and the cold-cache check."""

import os

import pytest

from bayesgmm import progress


def test_say_and_step_write_status_lines_to_stderr(capsys):
    progress.say("fitting EM")
    with progress.step("writing the report"):
        pass
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "bayesgmm: fitting EM"
    assert lines[1] == "bayesgmm: writing the report..."
    assert lines[2].startswith("bayesgmm: writing the report: done in ")


def test_silenced_and_show_false_print_nothing(capsys):
    with progress.silenced():
        progress.say("hidden")
        with progress.step("hidden too"):
            pass
        progress.first_run_notice()
    progress.say("not shown", show=False)
    with progress.step("not shown either", show=False):
        pass
    assert capsys.readouterr().err == ""
    assert progress.enabled()  # the previous state comes back after the block


def test_set_enabled(capsys):
    progress.set_enabled(False)
    try:
        progress.say("hidden")
        assert not progress.enabled()
    finally:
        progress.set_enabled(True)
    progress.say("shown")
    assert capsys.readouterr().err == "bayesgmm: shown\n"


def test_step_reports_even_when_the_step_fails(capsys):
    with pytest.raises(RuntimeError), progress.step("compiling"):
        raise RuntimeError("boom")
    assert "compiling..." in capsys.readouterr().err


def test_cold_cache_is_detected_where_numba_would_look(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert progress.sampler_cache_is_cold()
    progress.first_run_notice()
    assert "first run on this machine: compiling" in capsys.readouterr().err
    # numba mirrors the source directory under NUMBA_CACHE_DIR
    from pathlib import Path

    source = Path(progress.__file__).resolve().parent / "backends"
    mirror = tmp_path / source.relative_to(source.anchor)
    mirror.mkdir(parents=True)
    index = mirror / "native.logp_and_gradient-309.py312.nbi"
    index.write_bytes(b"")
    os.utime(index, (0, 0))  # older than the source: stale, numba would recompile
    assert progress.sampler_cache_is_cold()
    index.touch()
    assert not progress.sampler_cache_is_cold()
    progress.first_run_notice()
    assert capsys.readouterr().err == ""
