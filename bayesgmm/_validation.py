"""Turning user input into a clean ``(N, D)`` float64 array, and every user-facing data error.

Validation happens once, at the public entry points; everything below them trusts its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def check_data(
    X: Any,
    *,
    n_components: int | None = None,
    name: str = "X",
    feature_names: Sequence[str] | None = None,
    n_features: int | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Validate data and return a private float64 copy with feature names.

    Parameters
    ----------
    X : array-like of shape (N, D) or (N,), or pandas DataFrame / Series
        1-D input is one feature. DataFrame column names become feature names.
    n_components : int, optional
        When given, at least this many points are required.
    name : str
        Name of the argument, used in error messages.
    feature_names : sequence of str, optional
        Names to use when ``X`` carries none (e.g. a fitted model's names).
    n_features : int, optional
        Expected number of columns (prediction on a fitted model).

    Returns
    -------
    X : ndarray of shape (N, D), float64, C-contiguous
        Always a new array: the caller's object is never modified later.
    feature_names : tuple of str

    Raises
    ------
    ValueError
        Naming the problem: non-numeric data, wrong number of dimensions, empty input,
        NaN or infinite values (with the first offending row), too few points for K,
        wrong number of features.
    """
    names = _column_names(X)
    values = X.to_numpy() if hasattr(X, "to_numpy") else X
    try:
        arr = np.array(values, dtype=np.float64, copy=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"{name} must be numeric; could not convert it to floating point ({exc})"
        ) from None
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 1-D or 2-D (samples x features); got {arr.ndim}-D")
    n, d = arr.shape
    if n == 0 or d == 0:
        raise ValueError(f"{name} is empty: shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        kind = "NaN" if np.isnan(arr[row, col]) else "infinite"
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s); the first is {kind} "
            f"at row {row}, column {col}. Remove or impute them first."
        )
    if n_features is not None and d != n_features:
        raise ValueError(f"{name} has {d} feature(s) but the model was fitted with {n_features}")
    if n_components is not None and n < n_components:
        raise ValueError(
            f"{name} has {n} point(s), fewer than n_components={n_components}; "
            "each component needs at least one point"
        )
    if names is None:
        names = tuple(feature_names) if feature_names is not None else default_names(d)
    if len(names) != d:
        raise ValueError(f"got {len(names)} feature name(s) for {d} column(s)")
    return np.ascontiguousarray(arr), names


def default_names(n_features: int) -> tuple[str, ...]:
    return tuple(f"x{i}" for i in range(n_features))


def _column_names(X: Any) -> tuple[str, ...] | None:
    if hasattr(X, "columns"):  # DataFrame
        return tuple(str(c) for c in X.columns)
    if hasattr(X, "name") and hasattr(X, "to_numpy") and getattr(X, "ndim", 0) == 1:  # Series
        return (str(X.name) if X.name is not None else "x0",)
    return None


def check_n_components(n_components: Any) -> int:
    if isinstance(n_components, bool) or not isinstance(n_components, int | np.integer):
        raise ValueError(f"n_components must be an integer >= 1; got {n_components!r}")
    if n_components < 1:
        raise ValueError(f"n_components must be >= 1; got {n_components}")
    return int(n_components)


def check_covariance_type(covariance_type: Any) -> str:
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCE_TYPES}; got {covariance_type!r}"
        )
    return covariance_type


def check_sample_weight(sample_weight: Any, n_samples: int) -> np.ndarray | None:
    """Per-point frequency weights: finite, non-negative, not all zero; ``None`` means 1."""
    if sample_weight is None:
        return None
    w = np.array(sample_weight, dtype=np.float64, copy=True).reshape(-1)
    if w.shape[0] != n_samples:
        raise ValueError(f"sample_weight has {w.shape[0]} entries for {n_samples} points")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not np.any(w > 0):
        raise ValueError("sample_weight must be finite, non-negative and not all zero")
    return w


def check_positive(value: Any, name: str, *, allow_zero: bool = False) -> float:
    v = float(value)
    if not np.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {bound}; got {value!r}")
    return v


def constant_columns(X: np.ndarray, names: Sequence[str]) -> list[str]:
    """Names of columns with zero spread (a mixture cannot be scaled to them)."""
    spread = np.ptp(X, axis=0)
    return [names[j] for j in np.flatnonzero(spread == 0)]


def check_not_constant(X: np.ndarray, names: Sequence[str]) -> None:
    const = constant_columns(X, names)
    if const:
        raise ValueError(
            f"column(s) {', '.join(map(repr, const))} are constant; a Gaussian mixture needs "
            "spread in every feature (drop the column or add reg_covar)"
        )
