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


def test_the_quickstart_says_whose_em_compare_em_shows():
    """QA: the Quickstart fitted ``em`` and then printed ``post.compare_em()``, whose ``em``
    column is fit_bayes's own MAP-EM start (components swapped against ``em``): say so."""
    text = README.read_text()
    quickstart = text[text.index("## Quickstart"):text.index("## Command line")]
    assert "# post.em vs posterior" in quickstart
    assert "`compare_em()`'s `em` column is that start, not `em` above" in quickstart


def test_the_readme_names_both_observation_records():
    """QA: the README said every fit records its data in ``observations``; BayesResult's is
    ``observations_summary``."""
    text = " ".join(README.read_text().split())
    assert "`EMResult.observations` and `BayesResult.observations_summary`" in text


@pytest.mark.slow
def test_readme_python_snippets_run(tmp_path, monkeypatch):
    import warnings

    monkeypatch.chdir(tmp_path)  # the snippets write results/ where they run
    namespace: dict = {}
    ran = 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for block in _python_blocks():
            # The Dask snippet starts a local cluster of worker processes
            # (examples/dask_sweep.py is the same sweep as a script); not run here.
            if "from distributed import Client" in block:
                continue
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102
            ran += 1
    assert ran >= 5
    assert (tmp_path / "results" / "faithful" / "manifest.json").is_file()
    assert {"em", "post", "gmm", "sel", "loo", "sparse", "limits"} <= set(namespace)
    # QA: impute() without the data warned in the README's own missing-values use; the
    # README passes the data and gets every row of it back
    assert not [w for w in caught if "impute() without X" in str(w.message)]
    assert namespace["completed"].shape == (5, len(namespace["holed"]), 2)
    # what the Quickstart says of compare_em's em column: post.em, components swapped
    em, post = namespace["em"], namespace["post"]
    assert post.em is not em and post.em.prior is not None  # MAP-EM, fit_bayes's own
    assert abs(post.em.means[0, 1] - em.means[1, 1]) < 1  # its component 0 is em's 1
    # ... "the short eruptions" (QA136 M2: the README said the long ones)
    assert post.em.means[0, 0] < 3 < post.em.means[1, 0]
    assert "`post`'s component 0 is `em`'s component 1, the short eruptions" in README.read_text()


def test_docstring_examples_run():
    """The Examples sections of the public API run as written (QA: they used ``X`` and
    ``result`` without defining them; skipped lines, which sample, are not run here)."""
    import doctest

    import bayesgmm

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    examples = 0
    for name in bayesgmm.__all__:
        for test in finder.find(getattr(bayesgmm, name), name):
            examples += sum(not e.options.get(doctest.SKIP) for e in test.examples)
            runner.run(test)
    assert examples >= 8  # the examples run, not those skipped (review)
    assert runner.summarize(verbose=False).failed == 0


def test_the_readmes_shell_commands_do_not_write_over_each_other():
    """QA136 M3: pasted in order, the README's second `select` line stopped at "output
    directory results/data_select already exists": both wrote the default. Each command of
    a block that writes a result writes its own directory (or says --force)."""
    import re
    import shlex

    from bayesgmm.cli import _parser, default_output

    parser = _parser()
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), re.S)
    checked = 0
    written: dict[str, str] = {}  # across blocks too: a reader pastes them in order
    for block in blocks:
        for line in block.splitlines():
            for command in line.split("#")[0].split(";"):
                words = shlex.split(command)
                if words[:1] != ["bayesgmm"] or len(words) < 3 or words[1] not in (
                        "fit", "em", "select") or "--help" in words:
                    continue
                args, _ = parser.parse_known_args(words[1:])
                k = getattr(args, "n_components", None)
                suffix = {"em": f"em_k{k}", "select": "select"}.get(words[1])
                out = str(args.out or default_output(args.data, k, suffix=suffix))
                assert out not in written or args.force, (command, written[out])
                written[out] = command
                checked += 1
    assert checked >= 4
