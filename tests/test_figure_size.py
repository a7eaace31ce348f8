"""The figure functions' shared wrapper: a figure's size, and its display in a notebook."""

import sys
import types

import matplotlib
import numpy as np

from bayesgmm import figure_size, fit_em, plots


def test_a_figure_in_a_jupyter_kernel_loads_the_inline_backend(monkeypatch):
    """QA69: in a fresh notebook the bare figures showed as "<Figure size 640x480 with 1
    Axes>" (display(fig) too) until something drew through pyplot: the inline backend
    registers its image formatter only when it is loaded."""
    loaded = []
    real = figure_size.importlib.import_module

    def recorded(name, *args):
        if name.startswith("matplotlib_inline"):
            return loaded.append(name)
        return real(name, *args)

    monkeypatch.setattr(figure_size.importlib, "import_module", recorded)
    monkeypatch.delitem(sys.modules, "matplotlib_inline.backend_inline", raising=False)
    X = np.random.default_rng(0).normal(size=(40, 2))
    em = fit_em(X, 1, random_state=0)
    kernel = types.SimpleNamespace(get_ipython=lambda: object(), version_info=(9, 0))
    outside = types.SimpleNamespace(get_ipython=lambda: None, version_info=(9, 0))
    for ipython, backend, expected in [(kernel, "module://matplotlib_inline.backend_inline",
                                        ["matplotlib_inline.backend_inline"]),
                                       (kernel, "inline", ["matplotlib_inline.backend_inline"]),
                                       (kernel, "agg", []),  # a script's backend: its own
                                       (outside, "inline", [])]:
        loaded.clear()
        monkeypatch.setitem(sys.modules, "IPython", ipython)
        monkeypatch.setattr(matplotlib, "get_backend", lambda auto_select=True, b=backend: b)
        plots.plot_classification(em, X)
        assert loaded == expected, backend
    monkeypatch.delitem(sys.modules, "IPython")
    loaded.clear()
    plots.plot_classification(em, X)
    assert loaded == []  # no IPython at all: nothing


def test_every_figure_function_says_it_returns_a_figure():
    """QA69: the 12 plot functions never said what they return. QA110: figsize and that
    note came after the Returns section, where numpydoc took them for returned values: now
    figsize is the last parameter and the note is in Notes, each section once."""
    import re

    from bayesgmm import selection

    public = [getattr(module, name) for module in (plots, selection)
              for name in module.__all__ if name.startswith("plot_")]
    assert len(public) >= 12
    for function in public:
        doc, name = function.__doc__, function.__name__
        assert "The figure is a matplotlib ``Figure``" in doc, name
        sections = re.findall(r"\n    (\w[\w ]*)\n    -{3,}\n", doc)
        assert sections.count("Parameters") == 1 and sections.count("Notes") == 1, name
        parameters = doc.split("Parameters\n    ----------\n")[1]
        parameters = re.split(r"\n    \w[\w ]*\n    -{3,}\n", parameters)[0]
        assert re.findall(r"^    (\w+) :", parameters, flags=re.M)[-1] == "figsize", name


def test_titles_of_panels_side_by_side_keep_to_their_panels(old_faithful):
    """QA96 L3: plot_density's title in the left panel of a user's 1 x 2 figure ran 64 px
    into plot_classification's; and a line wrapped by an estimated character width was too
    wide still and wrapped again, leaving "of" on a line of its own."""
    from matplotlib.figure import Figure

    em = fit_em(old_faithful, 2, random_state=0)
    fig = Figure(figsize=(9, 3.5))
    left, right = fig.subplots(1, 2)
    plots.plot_density(em, old_faithful, ax=left)
    plots.plot_classification(em, old_faithful, ax=right)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()
    a, b = (ax.title.get_window_extent(renderer) for ax in (left, right))
    assert a.x1 < b.x0
    for ax in (left, right):
        lines = ax.get_title().split("\n")
        assert all(len(line.split()) > 1 for line in lines if len(line) < 10), lines
