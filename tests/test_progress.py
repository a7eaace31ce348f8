"""The status layer: lines on stderr, silenced on request, and the cold-cache check."""

import io
import os
import re
import subprocess
import sys

import numpy as np
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


def test_in_a_notebook_a_quick_step_is_one_line(capsys, monkeypatch):
    """QA96: each step's "X..." and "X: done" made 8-9 pink lines per fit in a notebook; a
    step quicker than NOTEBOOK_START_S is said once, when done, a longer one as before."""
    import time

    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr(progress, "NOTEBOOK_START_S", 0.3)
    with progress.step("quick"):
        pass
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("bayesgmm: quick: done in ")
    with progress.step("slow"):
        time.sleep(0.6)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "bayesgmm: slow..." and lines[-1].startswith("bayesgmm: slow: done in")
    time.sleep(0.5)  # the quick step's timer was cancelled: nothing said late
    assert capsys.readouterr().err == ""
    # QA107: a step that silences its inside still says it started (warm's compile) ...
    with progress.step("compiling"), progress.silenced():
        time.sleep(0.6)
    assert capsys.readouterr().err.splitlines()[0] == "bayesgmm: compiling..."
    # ... and an inner step's line never comes before its outer step's start
    with progress.step("outer"):
        with progress.step("inner"):
            pass
    assert [line.split(":")[1].strip() for line in capsys.readouterr().err.splitlines()] == [
        "outer...", "inner", "outer"]


def test_a_long_silent_step_keeps_a_log_alive(capsys, monkeypatch):
    """QA (a pipeline): off a terminal, "choosing the start ... (compiling the sampler first)"
    was followed by nothing for 6.5 minutes: a step with no lines of its own says it is still
    working every HEARTBEAT_S, and only then."""
    import time

    monkeypatch.setattr(progress, "HEARTBEAT_S", 0.2)
    with progress.step("compiling"):
        time.sleep(0.5)
    err = capsys.readouterr().err
    assert err.count("bayesgmm: compiling: still working (") >= 1
    assert err.rstrip().splitlines()[-1].startswith("bayesgmm: compiling: done in")
    with progress.step("quick"):
        pass
    assert "still working" not in capsys.readouterr().err
    # QA: a shown step that silences what it runs (warm's cold compile) still says so
    with progress.step("compiling quietly"), progress.silenced():
        progress.say("inner")
        time.sleep(0.5)
    err = capsys.readouterr().err
    assert "compiling quietly: still working (" in err and "inner" not in err


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


def test_a_closed_stderr_stops_the_lines_not_the_run(monkeypatch):
    """A status line on a stderr whose reader left (``2>&1 | head``) raises nothing: the
    lines stop, the computation goes on."""
    class Gone:
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

        def flush(self):
            raise BrokenPipeError(32, "Broken pipe")

        def isatty(self):
            return False

    monkeypatch.setitem(progress._state, "enabled", True)
    monkeypatch.setattr(sys, "stderr", Gone())
    with progress.step("working"):
        progress.say("a line nobody reads")
    assert not progress.enabled()


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



def test_a_first_fit_em_on_a_cold_cache_says_it_compiles_once(old_faithful, capsys,
                                                             monkeypatch):
    """QA116 M2: in a notebook (no ``bayesgmm warm``), the first ``fit_em`` sat silent for
    16-30 s while numba compiled; fit_bayes said so, fit_em did not. Said once a process, and
    not again inside a fit whose own notice covers EM."""
    from bayesgmm import _numba_cache, fit_em

    monkeypatch.setattr(_numba_cache, "has_cached_code", lambda kernel: False)
    monkeypatch.setattr(progress, "_EM_CACHE_CHECKED", set())
    progress.set_enabled(True)
    fit_em(old_faithful, 2, random_state=0)
    fit_em(old_faithful, 3, random_state=0)
    err = capsys.readouterr().err
    assert err.count("first run on this machine: compiling the EM kernels (numba), about "
                     f"{progress.COLD_EM_S} s, once") == 1
    with_gaps = np.asarray(old_faithful, dtype=float).copy()
    with_gaps[0, 0] = np.nan  # the row plan's kernels: a notice of their own, longer
    fit_em(with_gaps, 2, random_state=0)
    assert f"about {progress.COLD_EM_S + progress.COLD_PLAN_S} s" in capsys.readouterr().err
    monkeypatch.setattr(progress, "_EM_CACHE_CHECKED", set())
    progress.first_run_notice(show=False)  # a fit_bayes told not to talk: nor does its EM
    fit_em(old_faithful, 2, random_state=0)
    assert "compiling" not in capsys.readouterr().err


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


def test_the_start_search_names_the_family_its_restarts_belong_to(old_faithful, capsys,
                                                                 monkeypatch):
    """Large-N QA: the posterior's start search counted "EM restart 1 of 10" up three times,
    once per seeding family, naming none."""
    from bayesgmm.em import fit_map_start

    monkeypatch.setattr(progress, "DETAIL_EVERY_S", 0.0)  # every detail a line
    with progress.step("finding the start"):
        fit_map_start(old_faithful, 2, n_init=2, random_state=0)
    said = [line.split(": ", 2)[2].rsplit(" (", 1)[0]
            for line in capsys.readouterr().err.splitlines()[1:-1]]
    families = ["MAP-EM, kmeans++ x2 (plain seeds)", "MAP-EM, random_from_data x2",
                "ML-EM, kmeans++ x2, polished by MAP-EM"]
    assert [text for text in said if text.endswith("EM restart 1 of 2")] == [
        f"start family {i} of 3 ({name}): EM restart 1 of 2"
        for i, name in enumerate(families, 1)]
    with progress.step("outside a family"):  # the label ends with its block
        with progress.within("a part"):
            progress.detail("inside")
        progress.detail("after")
    lines = capsys.readouterr().err.splitlines()
    assert lines[1].startswith("bayesgmm: outside a family: a part: inside (")
    assert lines[2].startswith("bayesgmm: outside a family: after (")


def test_a_report_tells_its_figures_as_it_draws_them(tiny_fit, tmp_path, monkeypatch,
                                                     capsys):
    """Its own steps and figures, in order; not the inner steps of what it computes (each
    EM restart of the outlier check, each pass of the memberships)."""
    from bayesgmm.report import write_report

    monkeypatch.setattr(progress, "DETAIL_EVERY_S", 0.0)  # every detail a line
    write_report(tiny_fit, tmp_path / "r", progressbar=True)
    lines = capsys.readouterr().err.splitlines()
    said = [re.fullmatch(r"bayesgmm: writing the report \(figures and tables\): (.*) \(\d+ s\)",
                         line)[1] for line in lines[1:-1]]
    said = [text for text in said if " took " not in text]  # a slow figure's second line
    assert said[:4] == ["membership probabilities", "checking for outliers (noise evidence)",
                        "checking for a richer model (EM refits)", "posterior predictive check"]
    # (the EM polish of the start changed nothing to speak of: a sentence, not a figure)
    assert said[4:6] == ["figure 1 (data)", "figure 2 (forest)"] and len(said) > 9
    assert not any(text.startswith(("EM restart", "rows ", "refitting")) for text in said)


def test_long_computations_say_where_they_have_got_to(old_faithful, tiny_fit, monkeypatch,
                                                      capsys):
    """QA (large data): EM's restarts (50 s at 1,000,000 rows), predict_proba (57 s at
    200,000 rows) and the CLI's noise check (two minutes) were silent."""
    import bayesgmm
    import bayesgmm.posterior as posterior
    from bayesgmm import cli

    said = []
    monkeypatch.setattr(progress, "detail", lambda text, **_: said.append(text))
    bayesgmm.fit_em(old_faithful, 2, n_init=3, random_state=0)
    assert said == ["EM restart 1 of 3", "EM restart 2 of 3", "EM restart 3 of 3"]
    said.clear()
    monkeypatch.setattr(posterior, "_ANNOUNCED_VALUES", 0)
    tiny_fit.predict_proba(old_faithful)
    assert "bayesgmm: membership probabilities of 272 rows over" in capsys.readouterr().err
    assert said and said[0].startswith("rows 1-")
    said.clear()  # the predictive density too, every draw by default (QA159 M2: 51 s silent)
    tiny_fit.score_samples(old_faithful)
    assert "bayesgmm: predictive density of 272 rows over 200 draws" in capsys.readouterr().err
    assert said and said[0].startswith("rows 1-")
    em = bayesgmm.fit_em(old_faithful, 2, random_state=0)  # 272 rows: said too (QA)
    cli._print_noise_hint(em, old_faithful, {})
    assert ("bayesgmm: checking whether a noise component fits some rows better"
            in capsys.readouterr().err)


def test_the_warm_up_says_when_it_will_end(capsys):
    """QA (large data): ten minutes of warm-up lines at 50,000 rows without an end in sight:
    the line says how long the warm-up still takes at its current pace. Large-N QA: the pace
    since the start (its first, slowest iterations) said "1.7 h" for 3.5 min; and the draws
    had no target."""
    from bayesgmm.sampling import _WaitingLine

    line = _WaitingLine(tune=1000, max_draws=5000)
    line(50, 120.0, 1000)  # the step size is still being found: no guess
    line(250, 160.0, 1000)  # 200 in 40 s: 750 more in about 150 s
    line(500, 185.0, 1000)  # 250 in 25 s: 500 more in about 50 s
    line(1200, 210.0, 1000)  # past the warm-up: the draws, the next check, the most
    line(1400, 220.0, 1000)  # 200 draws in 10 s: 600 to the check in about 30 s (QA: none)
    lines = capsys.readouterr().err.splitlines()
    # counts with their separators, as every other line (QA116 L2: "1013 draws" beside "1,000")
    assert lines[0] == "bayesgmm: sampling: warm-up 50 of 1,000 per chain (the slowest), 120 s"
    # and the first check after it, at that pace (QA158 M1: its 5 min at 100,000 rows unsaid)
    assert lines[1] == ("bayesgmm: sampling: warm-up 250 of 1,000 per chain (the slowest), 160 s; "
                        "the warm-up ends in about 2 min at the current pace, the first "
                        "convergence check (1,000 draws) about 3 min after it")
    assert lines[2].endswith("185 s; the warm-up ends in about 50 s at the current pace, the "
                             "first convergence check (1,000 draws) about 2 min after it")
    assert lines[3] == ("bayesgmm: sampling: 200 draws per chain (the slowest), 210 s; next "
                        "convergence check at 1,000 draws per chain, at most 5,000")
    assert lines[4] == ("bayesgmm: sampling: 400 draws per chain (the slowest), 220 s; next "
                        "convergence check at 1,000 draws per chain (in about 30 s at the "
                        "current pace), at most 5,000")
    # across a convergence check no pace: its pause is not the draws' (wine K=3 full, 13
    # columns: "in about 54 s" of 13 s); the next line has it again
    line(2213, 300.0, 4000)
    assert capsys.readouterr().err.strip().endswith(
        "1,213 draws per chain (the slowest), 300 s; next convergence check at 4,000 draws per "
        "chain, at most 5,000")
    line(3213, 310.0, 4000)  # 1,000 draws in 10 s: 1,787 to the check in about 18 s
    assert "(in about 18 s at the current pace)" in capsys.readouterr().err
    # a first check far off: the ways to end sooner
    slow = _WaitingLine(tune=1000, max_draws=5000)
    slow(200, 100.0, 1000)
    slow(300, 160.0, 1000)  # 100 in 60 s: 1,000 draws in about 10 min
    assert capsys.readouterr().err.strip().endswith(
        "the first convergence check (1,000 draws) about 10 min after it: to end sooner, give "
        "a time limit (max_time, --max-time) or fewer rows to a first look")


def test_inner_steps_of_a_report_are_silent(tiny_fit, tmp_path, monkeypatch, capsys):
    """Review: the memberships' own status step (large N) printed inside a report's step,
    and with progressbar=False too. A step inside a step that keeps to its own details is
    silent; a report without progressbar prints nothing."""
    import bayesgmm.posterior as posterior
    from bayesgmm.report import write_report

    monkeypatch.setattr(posterior, "_ANNOUNCED_VALUES", 0)  # every memberships call "large"
    monkeypatch.setattr(progress, "DETAIL_EVERY_S", 0.0)
    write_report(tiny_fit, tmp_path / "a", progressbar=True)
    err = capsys.readouterr().err
    assert "writing the report" in err and "membership probabilities of" not in err
    write_report(tiny_fit, tmp_path / "b", progressbar=False)
    assert capsys.readouterr().err == ""
    with progress.step("own", inner_details=False):
        with progress.step("inner"):
            progress.detail("inner detail")
        progress.detail("mine", own=True)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "bayesgmm: own..." and lines[1].startswith("bayesgmm: own: mine (")
    assert len(lines) == 3 and "inner" not in "".join(lines)


class ZMQInteractiveShell:  # the class name IPython's Jupyter kernel shell has
    pass


@pytest.mark.parametrize("quiet", [False, True])
def test_nutpie_draws_its_bar_where_it_can_finish_it(old_faithful, monkeypatch, quiet):
    """Notebook QA: with draws="auto" nutpie's HTML bar (to max_draws) froze part-way when a
    checkpoint stopped the run, beside the text lines; BAYESGMM_QUIET left the bar on."""
    import types

    import nutpie

    from bayesgmm import fit_bayes, fit_em, sampling

    assert not progress.in_notebook()
    monkeypatch.setitem(sys.modules, "IPython",
                        types.SimpleNamespace(get_ipython=ZMQInteractiveShell))
    assert progress.in_notebook()
    # a kernel's own shell class derives from it (Colab's: review)
    derived = type("Shell", (ZMQInteractiveShell,), {})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=derived))
    assert progress.in_notebook()
    seen = {}

    class Stop(Exception):
        pass

    def until(*args, progressbar, **kwargs):
        seen["auto"] = progressbar
        raise Stop

    def sample(*args, progress_bar, progress_callback, **kwargs):
        seen["fixed"], seen["lines"] = progress_bar, progress_callback is not None
        raise Stop

    monkeypatch.setattr(sampling, "sample_nutpie_until", until)
    monkeypatch.setattr(nutpie, "sample", sample)
    monkeypatch.setattr(progress, "_state", {"enabled": not quiet})
    em = fit_em(old_faithful, 2, random_state=0)
    for draws in ("auto", 50):
        with pytest.raises(Stop):
            fit_bayes(old_faithful, 2, draws=draws, tune=50, random_state=0,
                      em=em)
    # auto: text lines only; fixed: nutpie's bar (it finishes), no text lines beside it
    assert seen == {"auto": False, "fixed": not quiet, "lines": False}


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal (what rich and nutpie ask before drawing a bar)."""

    def isatty(self):
        return True


def test_a_live_bar_only_where_it_can_hold_the_foot_of_a_terminal(monkeypatch):
    """progress.live_bar: nothing off a terminal or with the lines off; on a terminal, stderr
    goes through the bar's console, which prints each line above the bar."""
    monkeypatch.setitem(progress._state, "enabled", True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    with progress.live_bar("sampling") as bar:
        assert bar is None
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress.live_bar("sampling", show=False) as bar:
        assert bar is None
    with progress.step("a step with a spinner"), progress.live_bar("sampling") as bar:
        # one console: the bar nests in the spinner's display (rich >= 14.1), else none
        assert bar is None or sys.stderr is not terminal
        progress.say("a line under the spinner")
    assert "bayesgmm: a line under the spinner" in terminal.getvalue()
    with progress.live_bar("sampling") as bar:
        assert bar is not None and sys.stderr is not terminal  # rich's proxy
        bar(50, 100, "half way")
        progress.say("a line while the bar runs")
    assert sys.stderr is terminal
    assert "bayesgmm: a line while the bar runs" in terminal.getvalue()


def test_the_terminal_bar_tells_the_warm_up_then_the_next_check():
    from bayesgmm.sampling import _LiveBarText

    seen = []
    text = _LiveBarText(lambda *shown: seen.append(shown), tune=1000, max_draws=10_000)
    text(250, 3.0, 1000)
    text(3200, 9.0, 4000)
    assert seen == [(250, 1000, "warm-up 250/1,000 (slowest chain)"),
                    (2200, 4000, "2,200/4,000 draws to the next check (max 10,000)")]
    # at a checkpoint the bar is full before its line prints (QA136 L7: left at 829/1,000)
    import types

    text.reached(types.SimpleNamespace(draws=4000), 8000)
    assert seen[-1] == (4000, 4000, "4,000/4,000 draws to the next check (max 10,000)")


def test_on_a_terminal_checkpoint_lines_are_not_drawn_over(old_faithful, monkeypatch):
    """TTY QA: with draws="auto" nutpie's terminal bar (indicatif) redrew over the checkpoint
    lines printed under it, so a run's "4,000 draws per chain: ...: continuing to 6,900" was
    gone from the screen. On a terminal nutpie's bar is off and ours runs instead, fed by the
    waiting callback and printing the lines above itself."""
    from bayesgmm import fit_bayes, fit_em, sampling

    seen = {}

    class Stop(Exception):
        pass

    def until(*args, progressbar, waiting, waiting_every, **kwargs):
        seen["nutpie bar"], seen["every"] = progressbar, waiting_every
        seen["proxied"] = not isinstance(sys.stderr, _Terminal)
        waiting(30, 0.5, 1000)  # the bar's text: the warm-up
        progress.say("1,000 draws per chain: a checkpoint line")
        raise Stop

    em = fit_em(old_faithful, 2, random_state=0)
    monkeypatch.setattr(sampling, "sample_nutpie_until", until)
    monkeypatch.setitem(progress._state, "enabled", True)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with pytest.raises(Stop):
        fit_bayes(old_faithful, 2, draws="auto", tune=50, random_state=0, em=em)
    assert seen == {"nutpie bar": False, "every": sampling._BAR_EVERY_S, "proxied": True}
    assert "bayesgmm: 1,000 draws per chain: a checkpoint line" in terminal.getvalue()


def test_the_readme_switch_works_after_a_bare_import():
    """Small-sample QA: ``import bayesgmm`` then ``bayesgmm.progress.set_enabled(False)``, as
    the README has it, raised AttributeError."""
    import subprocess
    import sys

    code = "import bayesgmm; bayesgmm.progress.set_enabled(False); print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_stop_asked_for_is_raised_at_the_next_status_line_of_the_main_thread():
    """The command line's signal handler asks for a stop besides raising KeyboardInterrupt,
    which Python can swallow (in a garbage collector's callback): the next status line,
    shown or silenced, raises it in the main thread; another thread's lines (nutpie's
    progress callback) never do."""
    import threading

    progress.request_stop()
    try:
        raised = []

        def worker():
            try:
                progress.say("from a worker")
            except KeyboardInterrupt:
                raised.append(True)

        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        assert raised == []
        with progress.silenced(), pytest.raises(KeyboardInterrupt):
            progress.say("silenced, still a stop point")
        with pytest.raises(KeyboardInterrupt), progress.step("a step"):
            pass
    finally:
        progress.clear_stop()
    progress.say("after", show=False)  # cleared: no interrupt


def test_a_pymc_run_says_what_it_samples_before_pymc_does(capsys, monkeypatch):
    """QA: with --sampler pymc, draws="auto" became a fixed 1,000 in silence, and PyMC's own
    progress shows only at the end off a terminal."""
    import pymc as pm

    from bayesgmm import sampling

    monkeypatch.setattr(pm, "sample", lambda **kwargs: kwargs)  # what would be sampled
    with pm.Model() as model:
        pm.Normal("x")
    monkeypatch.setattr(progress, "_state", {**progress._state, "enabled": True})
    ran = sampling._sample_pymc(model, {"x": 0.0}, draws=1000, tune=500, chains=2, cores=1,
                                seed=1, progressbar=True, target_accept=0.8, auto=True)
    assert ran[0]["draws"] == 1000
    assert ("bayesgmm: sampling with PyMC: 2 chains x (500 warm-up + 1,000 draws) (PyMC "
            "cannot extend a run: draws='auto' is a fixed 1,000 here; draws=N, --draws N for "
            "more)") in capsys.readouterr().err


def test_every_stage_of_a_cold_warm_up_says_how_long_it_takes(capsys, monkeypatch):
    """QA: `bayesgmm warm`'s first stage ran 20 s with no time said, where the sampler's
    said "about 70 s" (the README: "three stages, each announced with the time it takes")."""
    from bayesgmm import warm

    monkeypatch.setattr(progress, "_state", {**progress._state, "enabled": True})
    monkeypatch.setattr(progress, "sampler_cache_is_cold", lambda plan=False: True)
    warm.warm(show=True)
    started = [line for line in capsys.readouterr().err.splitlines()
               if line.startswith("bayesgmm: compiling") and line.endswith("...")]
    assert len(started) == 3 and all(", once)..." in line for line in started), started
    # the EM stage compiles the threaded E-step too (stop 69: 22.5 s cold with it)
    assert f"(about {progress.COLD_EM_S + progress.COLD_THREADED_S} s, once)" in started[0]


def test_set_enabled_reaches_the_worker_processes_started_after_it(monkeypatch):
    """QA99: set_enabled(False), which the README says does what BAYESGMM_QUIET=1 does, did
    not reach a sweep's joblib workers (90 status lines); they inherit the variable."""
    import os
    import subprocess
    import sys

    monkeypatch.delenv("BAYESGMM_QUIET", raising=False)
    try:
        progress.set_enabled(False)
        assert os.environ["BAYESGMM_QUIET"] == "1"
        child = subprocess.run([sys.executable, "-c", "from bayesgmm import progress; "
                                "print(progress.enabled())"], capture_output=True, text=True,
                               check=True)
        assert child.stdout.strip() == "False"
    finally:
        progress.set_enabled(True)
    assert "BAYESGMM_QUIET" not in os.environ and progress.enabled()


def test_a_terminal_spinner_shows_the_seconds_and_no_silenced_detail(monkeypatch):
    """QA136 M1: on a terminal a cold compile's spinner stood for 128 s under "about 70 s"
    with nothing that moved but its glyph, its text a detail of warm's own inner fit ("EM
    restart 10 of 10") from a silenced block. The spinner shows the seconds so far, and a
    silenced block's details do not reach it."""
    import time

    monkeypatch.setitem(progress._state, "enabled", True)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress.step("compiling the sampler"):
        progress.detail("the start search")
        with progress.silenced():
            progress.detail("EM restart 10 of 10")
        time.sleep(2.6)
    shown = terminal.getvalue()
    assert re.search(r"compiling the sampler: the start search\.\.\. 2 s", shown), shown[-400:]
    assert "EM restart 10 of 10" not in shown
    assert "bayesgmm: compiling the sampler: 2." in shown


def test_a_checkpoint_fills_the_terminal_bar_before_its_line_prints(old_faithful, monkeypatch):
    """QA142 L3: the wiring of ``_LiveBarText.reached`` into the checkpoint report (QA136 L7:
    the bar stood at 829/1,000 beside "1,000 draws per chain: ... converged") had a test of
    the bar alone; putting back ``report=_print_checkpoint`` left the suite green."""
    import contextlib
    from types import SimpleNamespace

    from bayesgmm import fit_bayes, fit_em, sampling

    shown = []

    @contextlib.contextmanager
    def live_bar(description, show=True):
        yield lambda done, total, text: shown.append(("bar", done, total))

    class Stop(Exception):
        pass

    def until(*args, report, waiting, **kwargs):
        waiting(130, 3.0, 1000)  # 80 of the first 1,000 draws
        point = SimpleNamespace(draws=1000, converged=True, failed=(), other_failed=(),
                                max_rhat=1.002, min_ess_bulk=900.0, min_ess_tail=800.0,
                                divergences=0)
        report(point, None)
        raise Stop

    em = fit_em(old_faithful, 2, random_state=0)
    monkeypatch.setattr(sampling, "sample_nutpie_until", until)
    monkeypatch.setattr(progress, "live_bar", live_bar)
    monkeypatch.setattr(progress, "say", lambda text, *a, **k: shown.append(("line", text)))
    monkeypatch.setitem(progress._state, "enabled", True)
    monkeypatch.setattr(sys, "stderr", _Terminal())
    with pytest.raises(Stop):
        fit_bayes(old_faithful, 2, draws="auto", tune=50, random_state=0, em=em)
    line = next(i for i, s in enumerate(shown) if s[0] == "line"
                and s[1].startswith("1,000 draws per chain"))
    assert shown[line - 1] == ("bar", 1000, 1000), shown
    assert ("bar", 80, 1000) in shown[:line - 1]
