"""A fit's estimates as one table, one row per scalar parameter and per sd and correlation:
``estimates.csv``.

What ``bayesgmm fit``, ``run`` and ``em --out`` write beside the result, so that a shell user
gets the numbers without opening ``idata.nc`` or ``em.npz`` in Python. The rows, in the
posterior's order: the weights (one per component), the means (component x feature), the
covariances as the covariance type has them, then ``noise_weight`` with a noise component:

- ``full``: each component's matrix, each entry once (the diagonal and above, ``feature`` at or
  before ``feature_bis`` in column order; the matrix is symmetric);
- ``tied``: the one shared matrix, the same entries, ``component`` empty;
- ``diag``: each component's variances, ``feature`` = ``feature_bis``;
- ``spherical``: one variance per component, ``feature`` and ``feature_bis`` empty;

then, as the report's parameter table and the console show them, the standard deviations
(``sd``: per component and feature; tied: per feature, ``component`` empty; spherical: per
component, ``feature`` empty) and the correlations (``corr``, full and tied with two or more
features: per component and pair of features, ``feature`` before ``feature_bis``). For a
posterior they are summarised draw by draw (an sd's interval is the interval of the sd, not
the root of a variance's interval; ``BayesResult.summary(var_names=["sd", "corr"])``).

Columns: the key ``parameter`` (``weights``, ``means``, ``covariances``, ``noise_weight``: the
posterior's variable names and the EMResult's attributes; ``sd``, ``corr``), ``component`` (its
index), ``label`` (its known label's name, with ``--labels``), ``feature`` and ``feature_bis`` (the
data's column names), ``name`` (ArviZ's label of the entry, e.g. ``means[0, waiting]``: the index
of :meth:`BayesResult.summary`); cells that do not apply are empty. Then the numbers: for a
posterior, the columns of :meth:`BayesResult.summary` as they are (``mean``, ``sd``, the
equal-tailed interval's bounds ``eti94_lb``/``eti94_ub``, ``ess_bulk``, ``ess_tail``, ``r_hat``,
``mcse_mean``, ``mcse_sd``), after ``em``, the (MAP-)EM estimate that started the chains and names
the components (:meth:`BayesResult.compare_em`'s ``em`` column), and last ``identified``: False on
the rows of a component whose draws describe no single cluster (the components the diagnostics'
verdict names, which the report's and the console's tables mark with a dagger: nearly empty, not
located by the data, counted twice or moving between two places), so that a script reading the
table does not report them as one estimate; True on the other components' rows; empty where no
component applies (a tied matrix, the noise weight). For an EM fit, one column ``em`` (a
point estimate has no sd, interval or sampling diagnostics, so there are no such columns; named
as a posterior's table names its EM start, so that an EM fit's table and a posterior's
concatenate into one column of EM values, QA99). Numbers
are written in full (the shortest text that reads back as the same float64).

Where it sits: the surface layer: the command line writes the table (through
:func:`bayesgmm.result_files.save_files`, which lists it in the manifest). Imports
:mod:`bayesgmm.covariance` (each distinct entry once), :mod:`bayesgmm.observation_record`
(label names) and pandas; never ArviZ itself (a posterior's
summary is its own method), so ``bayesgmm em`` still never loads it.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from .covariance import (
    COVARIANCE_DIMS,
    distinct_entries,
    entry_label,
    has_correlations,
    sd_and_correlation,
)
from .observation_record import observations_record

__all__ = ["ESTIMATES_FILE", "KEY_COLUMNS", "estimates_table", "write_estimates"]

ESTIMATES_FILE = "estimates.csv"
KEY_COLUMNS = ("parameter", "component", "label", "feature", "feature_bis", "name")
_SAMPLE_DIMS = ("chain", "draw")


def estimates_table(result: Any, diagnostics: Any = None) -> pd.DataFrame:
    """``result``'s estimates, one row per scalar parameter (see the module's docstring).

    ``result`` is a BayesResult (the rows of its :meth:`summary`) or an EMResult (its
    ``weights``, ``means``, ``covariances`` and ``noise_weight``). ``diagnostics``: a
    posterior's :class:`~bayesgmm.diagnostics.Diagnostics`, whose ``unreported_components`` set the
    ``identified`` column (None: ``result.diagnostics()``, the fit's own thresholds).

    Parameters
    ----------
    result : BayesResult or EMResult
    diagnostics : Diagnostics, optional
        Ignored for an EMResult.

    Returns
    -------
    DataFrame
        The key columns (``parameter``, ``component``, ``label``, ``feature``,
        ``feature_bis``, ``name``), then ``em``, the posterior's summary columns and
        ``identified`` (see the module), or for an EMResult the one column ``em``.
    """
    if hasattr(result, "posterior"):
        diagnostics = result.diagnostics() if diagnostics is None else diagnostics
        return _posterior_table(
            result, tuple(getattr(diagnostics, "unreported_components", ()) or ()))
    return _em_table(result)


def write_estimates(result: Any, path: str | os.PathLike, diagnostics: Any = None) -> None:
    """Write :func:`estimates_table` of ``result`` to the CSV file ``path``."""
    # float64 as Python's repr: the shortest text that reads back as the same number
    estimates_table(result, diagnostics).to_csv(path, index=False)


def _label_names(result: Any) -> list[str]:
    return [str(n) for n in (observations_record(result) or {}).get("label_names") or ()]


def _entries(name: str, dims: tuple[str, ...], coords: list[list[Any]],
             covariance_type: str) -> list[tuple[int, str, dict[str, Any]]]:
    """The entries of parameter ``name`` (dims without chain and draw, each dim's coordinate
    values) kept in the table: (flat position in C order, ArviZ's label, key cells)."""
    out = []
    shape = tuple(len(c) for c in coords)
    for index in distinct_entries(name, shape, covariance_type):  # (j, i) as (i, j): once
        position = int(np.ravel_multi_index(index, shape)) if shape else 0
        cells = {d: coords[i][j] for i, (d, j) in enumerate(zip(dims, index, strict=True))}
        label = entry_label(name, [cells[d] for d in dims])
        if name == "covariances" and covariance_type == "diag":
            cells["feature_bis"] = cells["feature"]  # a variance: the entry (f, f)
        out.append((position, label, cells))
    return out


def _key(name: str, cells: dict[str, Any], labels: list[str], label: str) -> dict[str, Any]:
    component = cells.get("component")
    component = None if component is None else int(component)
    return {"parameter": name, "component": component,
            "label": labels[component] if component is not None and component < len(labels)
            else None,
            "feature": cells.get("feature"), "feature_bis": cells.get("feature_bis"),
            "name": label}


def _posterior_table(result: Any, unidentified: tuple[int, ...]) -> pd.DataFrame:
    names = list(result.parameter_names)
    summary = result._summary(var_names=names)
    labels = _label_names(result)
    rows, positions, start = [], [], 0
    for name in names:
        draws = result.posterior[name]
        dims = tuple(d for d in draws.dims if d not in _SAMPLE_DIMS)
        coords = [[_plain(v) for v in draws[d].to_numpy()] for d in dims]
        for position, label, cells in _entries(name, dims, coords, result.covariance_type):
            rows.append(_key(name, cells, labels, label))
            positions.append(start + position)
        start += int(np.prod([len(c) for c in coords], dtype=int))
    table = _keys(rows)
    values = summary.to_numpy(dtype=float)  # the numbers as computed, not as displayed
    if not summary.index.is_unique:
        # feature names with ", " can make two entries' labels one (review): summary() then
        # keeps ArviZ's every row, the variables' entries in C order, found by position
        if len(summary) != start:
            raise RuntimeError(f"the summary has {len(summary)} rows; the parameters {names} "
                               f"have {start} entries")
        table["name"] = [str(summary.index[i]) for i in positions]
        numbers = values[positions]
    else:  # each entry once, by ArviZ's label
        missing = sorted(set(table["name"]) - set(summary.index))
        if missing or len(summary) != len(table):
            raise RuntimeError(f"the summary's {len(summary)} rows are not the parameters' "
                               f"{len(table)} entries (missing: {missing[:3]})")
        numbers = values[summary.index.get_indexer(table["name"])]
    table = pd.concat([table, pd.DataFrame(numbers, columns=[str(c) for c in summary.columns])],
                      axis=1)
    derived = _derived_keys(result.covariance_type, len(result.posterior["component"]),
                            [str(f) for f in result.feature_names], labels)
    if derived:
        names = list(dict.fromkeys(row["parameter"] for row in derived))
        extra = result._summary(var_names=names)
        if len(extra) != len(derived) or (extra.index.is_unique and list(extra.index) != [
                row["name"] for row in derived]):
            raise RuntimeError(f"the summary of {names} is not their {len(derived)} entries "
                               f"in order: {list(extra.index)[:3]}")
        extra = pd.concat([_keys(derived),
                           pd.DataFrame(extra.to_numpy(dtype=float),
                                        columns=[str(c) for c in extra.columns])], axis=1)
        table = pd.concat([table, extra], ignore_index=True)
    table.insert(len(KEY_COLUMNS), "em", _em_column(result.em, table))
    component = table["component"]
    table["identified"] = pd.array([pd.NA if pd.isna(k) else int(k) not in unidentified
                                    for k in component], dtype="boolean")
    return table


def _em_column(em: Any, table: pd.DataFrame) -> np.ndarray:
    """The EM estimate that started the chains and names the components (``result.em``,
    :meth:`BayesResult.compare_em`'s ``em`` column) on each of ``table``'s rows, matched by
    the key cells (QA77: a script comparing EM with MCMC found it only on the console)."""
    keys = ["parameter", "component", "feature", "feature_bis"]
    em_rows = _em_table(em)
    found = {tuple(row[keys].map(_missing_as_none)): row["em"]
             for _, row in em_rows.iterrows()}
    wanted = [tuple(row[keys].map(_missing_as_none)) for _, row in table.iterrows()]
    unmatched = [key for key in wanted if key not in found]
    if unmatched:
        raise RuntimeError(f"the EM start has no entry for {unmatched[:3]}")
    return np.array([found[key] for key in wanted], dtype=float)


def _missing_as_none(value: Any) -> Any:
    """A key cell as one comparable value: empty cells (None, NaN, pd.NA) as None."""
    if pd.isna(value):
        return None
    return int(value) if isinstance(value, int | np.integer) else str(value)


def _em_table(em: Any) -> pd.DataFrame:
    features = [str(f) for f in em.feature_names]
    components = list(range(len(em.weights)))
    covariance_type = em.covariance_type
    cov_dims = COVARIANCE_DIMS[covariance_type]
    parameters = [("weights", ("component",), np.asarray(em.weights, dtype=float)),
                  ("means", ("component", "feature"), np.asarray(em.means, dtype=float)),
                  ("covariances", cov_dims, np.asarray(em.covariances, dtype=float))]
    if getattr(em, "noise", False):
        parameters.append(("noise_weight", (), np.asarray(em.noise_weight, dtype=float)))
    labels = _label_names(em)
    rows, numbers = [], []
    for name, dims, array in parameters:
        coords = [components if d == "component" else features for d in dims]
        flat = array.reshape(-1)
        for position, label, cells in _entries(name, dims, coords, covariance_type):
            rows.append(_key(name, cells, labels, label))
            numbers.append(flat[position])
    derived = _derived_keys(covariance_type, len(components), features, labels)
    sd, corr = sd_and_correlation(em.full_covariances)  # (K, D), (K, D, D)
    position = {f: i for i, f in enumerate(features)}
    for row in derived:
        k = 0 if row["component"] is None else row["component"]
        i = position.get(row["feature"], 0)
        if row["parameter"] == "sd":
            numbers.append(sd[k, i])
        else:
            numbers.append(corr[k, i, position[row["feature_bis"]]])
    table = _keys(rows + derived)
    table["em"] = np.array(numbers, dtype=float)
    return table


def _derived_keys(covariance_type: str, K: int, features: list[str],
                  labels: list[str]) -> list[dict[str, Any]]:
    """The rows of the standard deviations and correlations, as the report's table has them
    and in the order of :meth:`BayesResult.summary`'s ``"sd"`` and ``"corr"`` (C order):
    ``sd`` per component and feature (tied: per feature; spherical: per component), then
    ``corr`` per component and pair of features, each pair once (full and tied, two or more
    features). QA: the console pointed to this file for the sds and correlations it left
    out, and the file had only the covariances."""
    components: list[int | None] = [None] if covariance_type == "tied" else list(range(K))
    per_feature = covariance_type != "spherical"
    rows = []
    for k in components:
        for f in features if per_feature else [None]:
            cells = {"component": k, "feature": f}
            index = [v for v in (k, f) if v is not None]
            rows.append(_key("sd", cells, labels, entry_label("sd", index)))
    if has_correlations(covariance_type) and len(features) > 1:
        upper = np.triu_indices(len(features), 1)
        for k in components:
            for a, b in zip(*upper, strict=True):
                cells = {"component": k, "feature": features[a], "feature_bis": features[b]}
                index = [v for v in (k, features[a], features[b]) if v is not None]
                rows.append(_key("corr", cells, labels, entry_label("corr", index)))
    return rows


def _keys(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The key columns; ``component`` a whole number, empty where it does not apply (a
    tied matrix, the noise weight), never written as 0.0."""
    table = pd.DataFrame(rows, columns=list(KEY_COLUMNS))
    table["component"] = table["component"].astype("Int64")
    return table


def _plain(value: Any) -> Any:
    """A coordinate value as a plain Python int or str (NumPy scalars print their type)."""
    if isinstance(value, np.integer):
        return int(value)
    return str(value) if isinstance(value, np.str_ | bytes | str) else value
