"""Figures for a fitted mixture: data, density, classification, EM, posterior, diagnostics.

Every function takes an optional ``ax`` (or ``axes``) to draw into and returns the matplotlib
``Figure``; none calls ``show()``. Without ``ax`` the figure is a bare
:class:`matplotlib.figure.Figure` (not registered with pyplot, rendered by the Agg canvas when
saved), so building a report never opens a window or leaks pyplot state. The trace, rank and
energy plots come from ArviZ (arviz-plots, matplotlib backend), which draws through pyplot; the
figure is taken off pyplot's list before it is returned, so those are bare too. In a Jupyter
notebook a figure shows as the cell's last expression, or with ``display(fig)``.

The figures of a fit itself (:func:`plot_density`, :func:`plot_classification`,
:func:`plot_membership`, :func:`plot_overlay`, :func:`plot_em_convergence`) accept an
:class:`~bayesgmm.EMResult` as well as a :class:`~bayesgmm.BayesResult`: an EM fit holds no
data, so pass the data it was fitted to as ``X``. A posterior's density averages over posterior
draws; an EM fit's is the estimate's. Pair grids (D > 2) show every pair of up to
:data:`MAX_PAIR_FEATURES` features, beyond that the features that separate the components most.

The figures of a fit are in :mod:`bayesgmm.plots.fit`, those of a posterior's diagnostics in
:mod:`bayesgmm.plots.diagnostics`, what they share in :mod:`bayesgmm.plots._common`; every
public name is re-exported here.

Where it sits: the surface layer; imports its three modules; imported by the report.
"""

from ._common import ELLIPSE_LEVEL, INTERVAL, MAX_PAIR_FEATURES, RANK_MAX_SCALARS, TRACE_MAX_SCALARS
from .diagnostics import (
    PredictiveCheck,
    plot_energy,
    plot_forest,
    plot_ppc_density,
    plot_ppc_statistics,
    plot_rank,
    plot_trace,
    predictive_check,
    trace_rows,
)
from .fit import (
    animate_em,
    em_path,
    negligible_change,
    plot_classification,
    plot_data,
    plot_density,
    plot_em_convergence,
    plot_membership,
    plot_overlay,
)

__all__ = [
    "ELLIPSE_LEVEL",
    "PredictiveCheck",
    "animate_em",
    "em_path",
    "MAX_PAIR_FEATURES",
    "plot_classification",
    "plot_data",
    "plot_density",
    "plot_em_convergence",
    "negligible_change",
    "plot_energy",
    "plot_forest",
    "plot_membership",
    "plot_overlay",
    "plot_ppc_density",
    "plot_ppc_statistics",
    "predictive_check",
    "plot_rank",
    "plot_trace",
    "trace_rows",
    "INTERVAL",
    "TRACE_MAX_SCALARS",
    "RANK_MAX_SCALARS",
]
