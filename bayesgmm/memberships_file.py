"""Each fitted row's membership probabilities as one table: ``memberships.csv``.

What ``bayesgmm fit``, ``run`` and ``em --out`` write beside the result, so that a shell user
can join the classification back to the data (the question a clustering is usually asked
for: which group is each row in, and how sure is that). One row per fitted row, in the
fit's order; rows the fit left out (nothing observed, or any value missing under
``--missing drop``) are not there. Columns:

- ``row`` (or, with ``--index COLUMN``, that column's name, so that a join by it needs no
  renaming): the row's name, as the reports give it: its ID with ``--index``, else its row
  number in the data (header and blank lines excluded, counted from 0: R's row n is row
  n - 1, a spreadsheet's row n, with the header on row 1, is row n - 2);
- ``component``: the most probable component (its index; -1 for the noise component, as
  :meth:`~bayesgmm.BayesResult.predict`);
- ``component_label``: that component's known-label name with ``--labels``, ``noise`` for
  the noise component, else empty;
- ``known``, with ``--labels``: whether the row's label was given (its membership is then
  that label's by construction, probability 1, not an inference from its values);
- ``weight``, for a fit with ``--weights``: the row's frequency weight (0: a row
  the fit did not count, whose memberships are a prediction for it; QA134 L3);
- ``probability``: that component's membership probability;
- ``p_0`` ... ``p_{K-1}`` (and ``p_noise`` with a noise component): P(component k | x) for
  each component; rows sum to 1;
- for a posterior, the equal-tailed 94% interval of each, ``p_k_eti94_lb`` and
  ``p_k_eti94_ub`` (as ``estimates.csv`` names interval bounds).

For a posterior, P(component k | x) is the posterior mean over the draws the report's
membership section and figures use (:func:`bayesgmm.draw_arrays.membership_draws`: all 1,000
of a default run, a fixed subset at large N), so the table and the report give the same
numbers; for an EM fit, the responsibilities at the estimate. Numbers are written in full
(the shortest text that reads back as the same float64).

Where it sits: the surface layer, beside :mod:`bayesgmm.estimates`: the command line writes
the table (through :func:`bayesgmm.result_files.save_files`, which lists it in the
manifest). Imports :mod:`bayesgmm.observation_record` (label names) and, for a posterior only,
:mod:`bayesgmm.draw_arrays` (how many draws); never xarray, ArviZ or PyMC itself for an EM
fit, so ``bayesgmm em`` still never loads them.
"""

from __future__ import annotations

import os
import re
from typing import Any

import numpy as np
import pandas as pd

from ._warn import IN_PACKAGE, warn
from .formatting import interval_columns
from .observation_record import observations_record

__all__ = ["MEMBERSHIPS_FILE", "check_row_column", "membership_table", "write_memberships"]

# The table's own columns, which a column of row IDs must not be named as (it would be
# renamed "row", and a join on its name would take the component for the ID: downstream QA).
_OWN_COLUMNS = re.compile(r"component|component_label|known|weight|probability|"
                          r"p_(\d+|noise)(_eti\d+_(lb|ub))?")


def check_row_column(name: str, option: str = "--index") -> None:
    """Refuse ``name`` for the column of row IDs where it is one of the table's own."""
    if name != "row" and _OWN_COLUMNS.fullmatch(str(name)):
        raise ValueError(f"{option} column {name!r} has the name of a column memberships.csv "
                         "writes (component, component_label, known, probability, p_k ...): "
                         "rename that column of the data file")

MEMBERSHIPS_FILE = "memberships.csv"


def membership_table(result: Any, X: Any = None, *, rows: Any = None, labels: Any = None,
                     row_column: str | None = None, sample_weight: Any = None) -> pd.DataFrame:
    """``result``'s membership probabilities of its fitted rows, one row each (see the
    module's docstring).

    Parameters
    ----------
    result : BayesResult or EMResult
        A posterior brings its fitted rows (``observed_data``: values, known labels, row
        names); ``X``, ``rows`` and ``labels`` are then not given.
    X : array-like (N, D), for an EMResult
        The rows it was fitted to (NaN: a missing value). Rows the fit left out (nothing
        observed; any value missing when it was fitted with ``missing="drop"``) are left out
        of the table too.
    rows : array-like (N,), optional, for an EMResult
        Each row's name. Default: ``X``'s index for a pandas ``X`` whose index names its
        rows (not the positions 0, 1, ...), else the positions.
    labels : array-like (N,) of int, optional, for an EMResult
        Known components, -1 unknown, as the fit took them.
    sample_weight : array-like (N,), optional, for an EMResult
        The frequency weights it was fitted with: the table's ``weight`` column (a
        posterior's are its own).
    row_column : str, optional
        The name of the rows' column; "row" where it would be another column's name.
        Default: the ID column the result records it was read with (``--index``), so that
        a saved fit gives the table of its ``memberships.csv``; else the name of a pandas
        ``X``'s index that names its rows; "row" for rows numbered 0, 1, ....

    Returns
    -------
    pandas.DataFrame
        One row per fitted row; the columns ``row``, ``component``, ``component_label``,
        (``known`` with labels), ``probability``, ``p_k`` and, for a posterior,
        ``p_k_eti94_lb`` and ``p_k_eti94_ub``.

    Raises
    ------
    ValueError
        ``X``, ``rows``, ``labels`` or ``sample_weight`` given with a posterior; no ``X``
        for an EMResult; ``rows`` or ``sample_weight`` not one per row of ``X``.
    """
    named = hasattr(result, "posterior") or rows is not None  # not positions 0, 1, ...
    index_name = None
    if hasattr(result, "posterior"):
        if X is not None or rows is not None or labels is not None or sample_weight is not None:
            raise ValueError("a posterior's memberships are of its own fitted rows: give "
                             "no X, rows, labels or sample_weight")
        from .draw_arrays import membership_draws  # xarray: not on the EM path (review)

        n, columns = result.idata["observed_data"].sizes["observation"], _columns(result)
        proba = result.memberships(max_draws=membership_draws(n, columns))
        mean, bounds, rows = np.asarray(proba.mean), (proba.lower, proba.upper), \
            result.row_names
        if not _unique(rows):
            rows, named = result.row_numbers, False
        index_name = getattr(result, "index_name", None) if named else None
        interval = proba.interval
        observed = result.idata["observed_data"]
        labels = observed["labels"].values if "labels" in observed.data_vars else None
        weights = (observed["sample_weight"].values if "sample_weight" in observed.data_vars
                   else None)
    else:
        weights = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        if X is None:
            raise ValueError("an EM fit's memberships need the rows it was fitted to: X")
        if rows is None and _names_its_rows(X):  # a DataFrame indexed by IDs (QA)
            rows, named, index_name = X.index.to_numpy(), True, X.index.name
        mean, bounds, interval = result.predict_proba(X, labels=labels), None, None
        rows = np.arange(len(mean)) if rows is None else np.asarray(rows)
        if rows.shape != (len(mean),):
            raise ValueError(f"rows must name each of the {len(mean)} rows; got shape "
                             f"{rows.shape}")
        if named and not _unique(rows):
            rows, named, index_name = np.arange(len(mean)), False, None
        fitted = fitted_rows(result, X)  # not the rows the fit left out (QA: all-NaN rows)
        mean, rows = mean[fitted], rows[fitted]
        if weights is not None:  # QA139 M2: the EM table said no row's weight
            if weights.shape != (len(fitted),):
                raise ValueError(f"sample_weight must be one weight per row of X "
                                 f"({len(fitted)}); got shape {weights.shape}")
            weights = weights[fitted]
        if labels is not None:
            labels = np.asarray(labels).reshape(-1)[fitted]
    if row_column is None and index_name is not None and not _OWN_COLUMNS.fullmatch(
            str(index_name)):
        row_column = str(index_name)
    table = _table(result, mean, bounds, interval, rows, labels)
    if weights is not None:
        table.insert(table.columns.get_loc("probability"), "weight", weights)
    if row_column is None:  # the recorded ID column names the rows where they are IDs
        recorded = (getattr(result, "settings", None) or {}).get("index_column")
        row_column = (recorded if named else None) or "row"
    if row_column != "row" and row_column not in table.columns:
        table = table.rename(columns={"row": row_column})
    return table


def write_memberships(result: Any, path: str | os.PathLike, X: Any = None, *,
                      rows: Any = None, labels: Any = None,
                      row_column: str | None = None, sample_weight: Any = None) -> None:
    """Write :func:`membership_table` to the CSV file ``path``."""
    membership_table(result, X, rows=rows, labels=labels, row_column=row_column,
                     sample_weight=sample_weight).to_csv(path, index=False)


def _unique(rows: np.ndarray) -> bool:
    """Whether ``rows`` name one row each; else a warning that the table numbers them from 0
    in the data's order instead (QA82: a table whose every row was "s1"; the command line
    refuses such IDs)."""
    distinct = len(pd.unique(pd.Series(rows)))
    if distinct == len(rows):
        return True
    warn(f"the rows' names are not unique ({distinct} distinct for {len(rows)} rows), so "
         "they cannot name the rows: the table numbers them from 0, in the data's order, "
         "instead (give each row its own name)", UserWarning, skip_file_prefixes=IN_PACKAGE)
    return False


def _names_its_rows(X: Any) -> bool:
    """Whether ``X`` is a pandas object whose index names its rows (not 0, 1, ..., N-1)."""
    index = getattr(X, "index", None)
    if index is None or not hasattr(index, "equals"):
        return False
    return not index.equals(pd.RangeIndex(len(index)))


def fitted_rows(result: Any, X: Any) -> np.ndarray:
    """Which rows of ``X`` an EM fit used: those with a value observed, and with every value
    under ``missing="drop"`` (the policy its observations record)."""
    from ._validation import check_data  # as predict_proba reads X (pd.NA is missing)

    values, _ = check_data(X, n_features=result.n_features, allow_nan=True)
    missing = np.isnan(values)
    policy = (observations_record(result) or {}).get("missing")
    return ~(missing.any(axis=1) if policy == "drop" else missing.all(axis=1))


def _columns(result: Any) -> int:
    return result.n_components + int(bool(getattr(result, "noise", False)))


def _names(result: Any) -> list[str]:
    """Each membership column's suffix: the component indices, then ``noise``."""
    names = [str(k) for k in range(result.n_components)]
    return names + ["noise"] * (_columns(result) - result.n_components)


def _table(result: Any, mean: np.ndarray, bounds: tuple[np.ndarray, np.ndarray] | None,
           interval: float | None, rows: np.ndarray, labels: Any) -> pd.DataFrame:
    K = result.n_components
    best = np.argmax(mean, axis=1)
    label_names = [str(n) for n in (observations_record(result) or {}).get("label_names")
                   or ()]
    names = label_names + [None] * (K - len(label_names)) + ["noise"]
    table = pd.DataFrame({
        "row": rows,
        "component": np.where(best == K, -1, best),
        # object: pandas' string dtype would turn None into NaN beside "noise" (QA; the
        # documented value is None)
        "component_label": pd.Series([names[k] for k in best], dtype=object),
    })
    if labels is not None:  # "sure because it was told", not from the row's values
        table["known"] = np.asarray(labels).reshape(-1) >= 0
    table["probability"] = mean[np.arange(len(mean)), best]
    names = _names(result)
    for j, name in enumerate(names):
        table[f"p_{name}"] = mean[:, j]
    if bounds is not None:
        lower, upper = interval_columns(interval)
        for j, name in enumerate(names):
            table[f"p_{name}_{lower}"] = bounds[0][:, j]
            table[f"p_{name}_{upper}"] = bounds[1][:, j]
    return table
