"""The status layer: lines on stderr, silenced on request, and the cold-cache check."""

import os
import subprocess
import sys

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


def test_cold_cache_is_detected_where_numba_would_look(tmp_path):
    """In a process whose numba cache is an empty ``NUMBA_CACHE_DIR`` the check says cold and
    the notice is printed (numba keeps that cache under a hashed folder name per source
    directory: the check asks numba's locator rather than guessing the path)."""
    code = ("from bayesgmm import progress; print(progress.sampler_cache_is_cold()); "
            "progress.first_run_notice()")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), BAYESGMM_QUIET="0")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
    assert "first run on this machine: compiling" in done.stderr



@pytest.mark.slow
def test_cold_check_turns_warm_after_warm_up_in_numba_cache_dir(tmp_path):
    """After ``warm`` in a fresh ``NUMBA_CACHE_DIR`` a new process reads the cache as warm (the
    check used to look for the index under a mirror of the source path, where numba 0.68 does
    not put it, and so said "cold" forever)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path), BAYESGMM_QUIET="1")
    ask = ("from bayesgmm import progress; "
           "print(progress.sampler_cache_is_cold() or progress.sampler_cache_is_cold(True))")
    for code in ("from bayesgmm.warm import warm; warm(show=False)", ask):
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                              text=True, timeout=1200)
        assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False"


def test_a_step_says_where_it_has_got_to_at_most_every_few_seconds(capsys, monkeypatch):
    """QA (CLI): writing a report sat 17 s between its two lines in a log. progress.detail
    inside a step prints where it is, at most every DETAIL_EVERY_S seconds; nothing outside
    a step."""
    progress.detail("ignored: no step runs")
    with progress.step("writing"):
        progress.detail("figure 1 (data)")  # less than DETAIL_EVERY_S since the start: quiet
        monkeypatch.setattr(progress, "DETAIL_EVERY_S", 0.0)
        progress.detail("figure 2 (trace)")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "bayesgmm: writing..." and lines[-1].startswith("bayesgmm: writing: done")
    assert len(lines) == 3 and lines[1].startswith("bayesgmm: writing: figure 2 (trace) (")


def test_a_report_tells_its_figures_as_it_draws_them(tiny_fit, tmp_path, monkeypatch):
    from bayesgmm.report import write_report

    said = []
    monkeypatch.setattr(progress, "detail", said.append)
    write_report(tiny_fit, tmp_path / "r", progressbar=False)
    assert said[:2] == ["figure 1 (data)", "figure 2 (em_convergence)"] and len(said) > 6
