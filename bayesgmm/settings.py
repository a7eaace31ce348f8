"""Sampler settings, diagnostic thresholds and a report's figure files: typed, validated
objects every route shares.

:class:`SamplerSettings` is what :func:`bayesgmm.fit_bayes`, :class:`bayesgmm.BayesianGMM`,
:func:`bayesgmm.select_bayes`, :func:`bayesgmm.fit_sparse`, the TOML specifications
(``[sampler]``) and the command line's sampling flags share, and what a
:class:`~bayesgmm.posterior.BayesResult` records (``result.sampler_settings``, saved with it).

Layer: config (the estimation settings). It imports nothing heavy (no PyMC, no numba), so reading a
specification or parsing the command line does not pay for the sampler's import; the
vocabularies (:data:`SAMPLERS`, :data:`NUTPIE_BACKENDS`) live here for the same reason.

(Over 500 lines since its public methods state their parameters and returns in numpydoc
sections (QA147): three small classes, each the one statement of its settings and checks.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from ._keywords import constructor_hints
from ._validation import check_bool, check_int, check_number

__all__ = ["AUTO", "LAPLACE_COST_RATIO", "LAPLACE_MAX_PARAMETERS", "MAX_REG_COVAR",
           "METRICS", "NUTPIE_BACKENDS", "SAMPLERS", "START_SUBSAMPLE_ROWS", "VECTOR_FORMATS",
           "DiagnosticThresholds", "FigureFiles", "SamplerSettings", "check_thresholds",
           "laplace_affordable"]

AUTO = "auto"  # draws="auto": sample until converged (bayesgmm.draws)

SAMPLERS = ("nutpie", "pymc")
# What a user may ask for; "auto" resolves to one of the others when the model is compiled
# (the resolved one is recorded in ``BayesResult.settings["nutpie_backend"]``).
NUTPIE_BACKENDS = ("auto", "native", "numba", "pyfunc", "jax")
# nutpie's metric (SamplerSettings.metric); "auto" resolves when the model is compiled (the
# resolved one is recorded in ``BayesResult.settings["laplace_metric"]``).
METRICS = ("auto", "diag", "laplace")
# The backends that can sample in Laplace-whitened coordinates ("auto" resolves to "native").
LAPLACE_BACKENDS = ("auto", "native", "jax")
# metric="auto" samples in Laplace-whitened coordinates where the whitening map costs little
# beside the density (laplace_affordable): n parameters with n^2 <= LAPLACE_COST_RATIO x rows x
# K x D. The map is 2 n^2 multiply-adds per gradient, measured (benchmarks/bench_whitening.py,
# full covariances) at 12% of a gradient with n^2 = 1.1 rows K D, 34% at 4.3 and 65% at 13;
# the whitening gave 40% more ESS per gradient at 1.1 (D=10, K=5, 2,000 rows). And at most
# LAPLACE_MAX_PARAMETERS: its n x n matrices (128 MB each at 4,000) and a Hessian of 2 n
# gradients.
LAPLACE_COST_RATIO = 2.0
LAPLACE_MAX_PARAMETERS = 4_000
# Upper bounds that catch typos (1e23 draws) before any memory is asked for: 10 million draws
# per chain of a 3-component 2-D model alone are ~1.4 GB a chain.
_MAX_PER_CHAIN = 10_000_000
_MAX_CHAINS = 1024
# fit_map_start searches for the start on this many rows drawn at random when there are more
# than twice as many (its docstring says why).
START_SUBSAMPLE_ROWS = 100_000
# EM restarts at most (fit_em's n_init, the command line's --n-init), for the same reason.
MAX_RESTARTS = 1_000_000
# The largest reg_covar (fit_em's, the command line's --reg-covar): a variance whose products
# with the data's (|x| < 1e150) and with itself stay far from float64's overflow (QA82: 1e300
# overflowed).
MAX_REG_COVAR = 1e150


def laplace_affordable(n_parameters: int, work: float) -> bool:
    """Whether the Laplace whitening is cheap beside the density: ``n_parameters`` at most
    :data:`LAPLACE_MAX_PARAMETERS` and its square at most :data:`LAPLACE_COST_RATIO` times
    ``work``, the density's point x component x feature terms (rows x K x D) per gradient."""
    return (n_parameters <= LAPLACE_MAX_PARAMETERS
            and n_parameters ** 2 <= LAPLACE_COST_RATIO * work)



class _NamedValues:
    """Mixin of the frozen settings dataclasses: their names, a validated copy, a dict and back
    (``_WHAT`` names one value in an error: "sampler setting")."""

    _WHAT: ClassVar[str]

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The names, in order.

        Returns
        -------
        tuple of str
        """
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def _refuse_unknown(cls, given: Iterable[str]) -> None:
        unknown = sorted(set(given) - set(cls.names()))
        if unknown:
            raise ValueError(f"unknown {cls._WHAT}(s) {unknown}; known: {list(cls.names())}")

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (and validated); an unknown name or a value out of
        range raises ``ValueError``.

        Parameters
        ----------
        **changes
            New values by name.

        Returns
        -------
        Same type as this object.
        """
        self._refuse_unknown(changes)
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain values by name (JSON-ready; for thresholds, the keyword arguments of
        :func:`~bayesgmm.diagnostics.diagnose`); ``from_dict`` reads it back.

        Returns
        -------
        dict
        """
        return dataclasses.asdict(self)

@constructor_hints
@dataclass(frozen=True)
class SamplerSettings(_NamedValues):
    """How NUTS is run: validated once, on construction.

    Parameters
    ----------
    sampler : {"nutpie", "pymc"}, default "nutpie"
        nutpie (Rust NUTS, the model compiled with numba) or PyMC's own NUTS.
    draws : int >= 1 or "auto", default "auto"
        Draws per chain kept after tuning. "auto" samples until the relabelled parameters
        converge (R-hat and bulk/tail ESS within the :class:`DiagnosticThresholds` the fit is
        given), checking at 1,000 draws per chain and then at the number the measured ESS rate
        asks for (:mod:`bayesgmm.draws`), up to ``max_draws`` or ``max_time``; the kept draws
        are exactly the first ``n`` of each chain, so the same seed gives the same result.
        With ``sampler="pymc"`` (which cannot extend a run) "auto" means 1,000 draws.
    tune : int >= 0 (>= 1 with nutpie), default 1000
        Tuning (warm-up) steps per chain.
    chains : int >= 1 (>= 2 with nutpie and draws="auto"), default 4
        Independent chains (R-hat and the mode checks compare them).
    target_accept : float in (0, 1), default 0.8
        NUTS's target acceptance rate (higher: smaller steps).
    retry_target_accept : float in (0, 1) or None, default 0.95
        With ``draws="auto"`` and nutpie: when the first run has a divergent transition
        after warm-up, it is ended just after it and the chains start again (warm-up included,
        three times as long) with ``target_accept`` raised to this value (smaller steps),
        once; the record says so (``result.settings["retried"]``). Not when a component has
        already collapsed in the draws (a posterior sd negligible beside the data's): smaller
        steps cannot cure that, and the run ends at the divergence (``stopped_by="futile"``,
        the reason recorded). Divergences mean the sampler cannot follow the posterior's
        curvature somewhere, so draws from such a run are biased; the remedy the verdict
        would advise is applied at once. Measured on galaxies K=4 (2,000 draws, seeds 1
        and 2): 45 and 4 divergences at 0.8, 3 and 0 at 0.95, with higher ESS per gradient.
        ``None`` (``false`` in a spec): never retry. No effect when it is not above
        ``target_accept``.
    cores : int >= 1, optional
        Chains run in parallel on this many cores (default: all available, at most ``chains``).
        With nutpie and ``draws="auto"`` every chain has its own thread whatever this says (the
        checkpoints need the chains to advance together); the fit warns when it is smaller.
    nutpie_backend : {"auto", "native", "numba", "pyfunc", "jax"}, default "auto"
        How nutpie evaluates the model (:func:`bayesgmm.backends.nutpie.compile_nutpie`); with
        ``sampler="pymc"`` only "auto" (a fit refuses the others: they would not run).
    progressbar : bool, default True
        Show the sampler's progress.
    max_draws : int >= 1, default 10000
        With ``draws="auto"``: draws per chain at most.
    max_time : float > 0, optional
        With ``draws="auto"``: seconds of sampling (warm-up included) after which the run stops
        at the draws every chain has made, converged or not (recorded in
        ``result.settings["adaptive"]``; the stopping point then depends on the machine). It
        bounds each run: a divergence retry or a re-anchoring rerun starts its own clock (a rerun
        given only what is left would often end inside its warm-up with a draw or two), so
        a fit can take up to about three times it; once it has passed, a run stops by time
        with the draws it has, divergences included, rather than end for a retry.
    metric : {"auto", "diag", "laplace"}, default "auto"
        nutpie's metric. "diag": its diagonal mass-matrix adaptation in the model's
        unconstrained coordinates. "laplace": the same adaptation in coordinates whitened by
        the posterior's curvature at its mode (Newton from the EM start to the exact mode,
        then theta = mode + A z with A A^T the inverse negative Hessian there), so the metric
        knows the posterior's scales and correlations from the first draw. "auto": "laplace"
        where the whitening map is cheap beside the density (:func:`laplace_affordable`: n
        free parameters with n^2 <= 2 x rows x K x D, and n <= 4,000), else "diag"; and
        "diag" in ``fit_sparse`` (empty components are far from Gaussian at any N). Measured
        (``benchmarks/README.md``): 6.4-6.8x the effective draws per gradient at 1e5 and 1e6
        rows; 17% more at 1,000 rows (K=3, D=2), 40% more at 2,000 rows (K=5, D=10); on the
        hard panel the same verdicts with 1.3-2.5x fewer draws where mixing is slow. Either way the
        whitening is used only where log p falls like the Gaussian's one and two sds from
        the mode along every whitened axis (within a factor 2 and 1.5; it does not with more
        components than the data support, with heavily overlapping components, or where a
        small component's scale makes the posterior skewed), else the diagonal metric
        (``settings["laplace_metric"]`` says which ran).
        "laplace" needs the native or jax backend, and nutpie: with ``sampler="pymc"`` a fit
        refuses it (PyMC's NUTS adapts a diagonal mass matrix: "auto" and "diag" are that).

    Raises
    ------
    ValueError
        A value of the wrong type or out of range, named with the accepted values.

    Examples
    --------
    >>> SamplerSettings(draws=2000, chains=2).replace(tune=500).tune
    500
    >>> SamplerSettings().draws
    'auto'

    """

    _WHAT: ClassVar[str] = "sampler setting"

    sampler: str = "nutpie"
    draws: int | str = AUTO
    tune: int = 1000
    chains: int = 4
    target_accept: float = 0.8
    retry_target_accept: float | None = 0.95
    cores: int | None = None
    nutpie_backend: str = "auto"
    progressbar: bool = True
    max_draws: int = 10_000
    max_time: float | None = None
    metric: str = "auto"

    def __post_init__(self) -> None:
        if self.sampler not in SAMPLERS:
            raise ValueError(f"sampler must be one of {SAMPLERS}; got {self.sampler!r}")
        if not (isinstance(self.draws, str) and self.draws == AUTO):
            if isinstance(self.draws, str):
                raise ValueError(f"draws must be an integer >= 1 or 'auto'; got {self.draws!r}")
            object.__setattr__(self, "draws", check_int(self.draws, "draws", 1))
        for name, low in (("tune", 0), ("chains", 1), ("max_draws", 1)):
            object.__setattr__(self, name, check_int(getattr(self, name), name, low))
        if self.max_time is not None:
            object.__setattr__(self, "max_time", check_number(
                self.max_time, "max_time", lambda t: t > 0, "a number of seconds > 0 or None"))
        if self.cores is not None:
            object.__setattr__(self, "cores", check_int(self.cores, "cores", 1))
        for name in ("target_accept", "retry_target_accept"):
            target = getattr(self, name)
            if name == "retry_target_accept" and target is None:
                continue
            none = " or None" if name == "retry_target_accept" else ""
            object.__setattr__(self, name, check_number(
                target, name, lambda v: 0 < v < 1, f"a number in (0, 1){none}"))
        if self.nutpie_backend not in NUTPIE_BACKENDS:
            raise ValueError(f"nutpie_backend must be one of {NUTPIE_BACKENDS}; "
                             f"got {self.nutpie_backend!r}")
        object.__setattr__(self, "progressbar", check_bool(self.progressbar, "progressbar"))
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}; got {self.metric!r}")

    def check_runnable(self) -> None:
        """Refuse, before a fit, combinations the sampler cannot run (checked here, not when
        settings are built, so that results saved with them still load): nutpie without
        warm-up (nuts-rs panics, an exception no ``except`` catches), ``draws="auto"``
        with one chain (it samples until R-hat, which compares chains, agrees), and nutpie's
        settings (a back end, the Laplace metric) with PyMC's sampler, which would not use
        them."""
        for name, most in (("draws", _MAX_PER_CHAIN), ("max_draws", _MAX_PER_CHAIN),
                           ("tune", _MAX_PER_CHAIN), ("chains", _MAX_CHAINS)):
            value = getattr(self, name)
            if isinstance(value, int) and value > most:
                raise ValueError(f"{name} must be at most {most:,}; got {value:,} (the draws "
                                 "would not fit in memory)")
        if self.sampler == "nutpie" and self.tune < 1:
            raise ValueError("tune must be >= 1 with nutpie (its step size and mass matrix "
                             "adapt during warm-up); got 0: give tune=1 or more, or "
                             "sampler='pymc'")
        if self.adaptive and self.sampler == "nutpie" and self.chains < 2:
            raise ValueError("draws='auto' samples until R-hat, which compares chains, says "
                             "they agree: give chains=2 or more, or a number of draws")
        if self.sampler == "pymc":
            # nutpie's settings: accepted, PyMC's sampler would ignore them, and the result
            # would record a metric or back end that never ran (specs QA)
            given = [f"{name}={value!r}" for name, value, ignored in (
                ("metric", self.metric, ("laplace",)),
                ("nutpie_backend", self.nutpie_backend,
                 tuple(b for b in NUTPIE_BACKENDS if b != "auto")))
                if value in ignored]
            if given:
                one = len(given) == 1
                raise ValueError(f"{' and '.join(given)} {'is' if one else 'are'} nutpie's; "
                                 "sampler='pymc' runs PyMC's own NUTS (a diagonal mass "
                                 f"matrix): leave {'it' if one else 'them'} out, or use "
                                 "sampler='nutpie'")
        if (self.metric == "laplace" and self.sampler == "nutpie"
                and self.nutpie_backend not in LAPLACE_BACKENDS):
            raise ValueError(f"metric='laplace' needs nutpie_backend 'native' or 'jax' (got "
                             f"{self.nutpie_backend!r}): change one of them")

    def laplace(self, n_parameters: int, n_rows: int, n_components: int,
                n_features: int) -> bool:
        """Whether nutpie samples in Laplace-whitened coordinates (``metric`` resolved) for a
        model of ``n_parameters`` free parameters, ``n_components`` components, on ``n_rows``
        rows of ``n_features`` features (the rows the density reads: frequency-weighted rows
        count once): :func:`laplace_affordable` decides "auto".

        Parameters
        ----------
        n_parameters, n_rows, n_components, n_features : int

        Returns
        -------
        bool
        """
        if self.sampler != "nutpie" or self.nutpie_backend not in LAPLACE_BACKENDS:
            return False
        return self.metric == "laplace" or (self.metric == "auto" and laplace_affordable(
            n_parameters, n_rows * n_components * n_features))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], *, strict: bool = True) -> SamplerSettings:
        """Settings from a mapping of names to values.

        Parameters
        ----------
        values : mapping
        strict : bool, default True
            Refuse unknown names. ``strict=False`` ignores them and None values: it reads the
            untyped ``BayesResult.settings`` record (results saved before settings were typed),
            which holds other entries too and ``nutpie_backend=None`` for PyMC's sampler.

        Returns
        -------
        SamplerSettings
            ``values``' settings, the defaults for those it does not name.

        Raises
        ------
        ValueError
            An unknown name (with ``strict``) or a value out of range.
        """
        known = cls.names()
        if strict:
            cls._refuse_unknown(values)
        return cls(**{k: v for k, v in values.items()
                      if k in known and (strict or v is not None)})

    @property
    def adaptive(self) -> bool:
        """Whether the number of draws is chosen by convergence (``draws="auto"``)."""
        return self.draws == AUTO

    @classmethod
    def resolve(cls, settings: SamplerSettings | None = None, **keywords: Any
                ) -> SamplerSettings:
        """Settings given either whole (``settings``) or as keyword arguments, not both.

        The functions that sample take both forms: ``fit_bayes(X, 2, draws=500)`` and
        ``fit_bayes(X, 2, settings=SamplerSettings(draws=500))``. Their signatures' defaults
        are :class:`Default` values, so a keyword the caller left out defers to ``settings``
        and any keyword the caller gave next to ``settings`` is refused, even one equal to
        its default (QA: ``tune=1000`` beside ``settings`` with ``tune=100`` was silently
        dropped) rather than silently preferring one of the two.

        Parameters
        ----------
        settings : SamplerSettings, optional
        **keywords
            Settings by name (:class:`Default` values: left out by the caller).

        Returns
        -------
        SamplerSettings
            ``settings`` as given, or the keywords' settings (defaults for those left out).

        Raises
        ------
        ValueError
            ``settings`` is no SamplerSettings, or is given beside a keyword.
        """
        values = {k: v.value if isinstance(v, Default) else v for k, v in keywords.items()}
        if settings is None:
            return cls(**values)
        if not isinstance(settings, SamplerSettings):
            raise ValueError(f"settings must be a bayesgmm.SamplerSettings; "
                             f"got {type(settings).__name__}")
        clash = sorted(k for k, v in keywords.items() if not isinstance(v, Default))
        if clash:
            raise ValueError(
                f"give sampler settings either as settings=SamplerSettings(...) or as keyword "
                f"arguments, not both: {', '.join(clash)} given next to settings "
                f"(use settings.replace({clash[0]}=...))"
            )
        return settings


class Default:
    """A sampling keyword's default in the signature of a function that also takes
    ``settings=``: shown as its value (``help(fit_bayes)`` reads ``tune: int = 1000``), and
    told apart by :meth:`SamplerSettings.resolve` from the same value given by the caller."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return repr(self.value)

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, Default) else other)

    def __hash__(self) -> int:
        return hash(self.value)


def default(name: str) -> Any:
    """:class:`SamplerSettings`' default of the setting ``name``, as a :class:`Default`."""
    return Default(next(f.default for f in dataclasses.fields(SamplerSettings)
                        if f.name == name))


def _limit(default: float, ok: Callable[[float], bool], rule: str) -> Any:
    """A threshold field: its default and the rule a value must meet (``ok``, said as ``rule``)."""
    return dataclasses.field(default=default, metadata={"rule": (ok, rule)})


@constructor_hints
@dataclass(frozen=True)
class DiagnosticThresholds(_NamedValues):
    """The limits the convergence verdict holds a posterior to (see ``diagnose``).

    Parameters
    ----------
    rhat_max : float > 1, default 1.01
        Largest acceptable rank-normalised split R-hat.
    ess_min : float > 0, default 400
        Smallest acceptable bulk and tail effective sample size (all chains together).
    ebfmi_min : float >= 0, default 0.3
        Smallest acceptable E-BFMI of any chain.
    max_divergences : int >= 0, default 0
        Largest acceptable number of divergent transitions (all chains together).
    max_treedepth_fraction : float in [0, 1], default 0.01
        Largest acceptable fraction of draws at the maximum tree depth.
    mode_shift_max : float > 0, default 1.0
        Largest acceptable distance (pooled within-chain sd) of a chain from the others.

    Notes
    -----
    Used by ``BayesResult.diagnostics(**thresholds.to_dict())``, the report
    (``write_report(..., thresholds=...)``), the ``[diagnostics]`` table of a specification and
    the command line's ``--rhat-max``, ``--ess-min``, ``--ebfmi-min`` and ``--max-divergences``.
    """

    _WHAT: ClassVar[str] = "diagnostic threshold"

    # Each limit with its rule (a count is checked as a count).
    rhat_max: float = _limit(1.01, lambda v: v > 1, "> 1")
    ess_min: float = _limit(400.0, lambda v: v > 0, "> 0")
    ebfmi_min: float = _limit(0.3, lambda v: v >= 0, ">= 0")
    max_divergences: int = 0
    max_treedepth_fraction: float = _limit(0.01, lambda v: 0 <= v <= 1, "in [0, 1]")
    mode_shift_max: float = _limit(1.0, lambda v: v > 0, "> 0")

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            if "rule" not in f.metadata:
                continue
            name, (ok, rule) = f.name, f.metadata["rule"]
            object.__setattr__(self, name, check_number(
                getattr(self, name), name, lambda v, ok=ok: np.isfinite(v) and ok(v),
                f"a number {rule}"))
        object.__setattr__(self, "max_divergences",
                           check_int(self.max_divergences, "max_divergences", 0))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any] | None) -> DiagnosticThresholds:
        """Thresholds from a mapping of names to values; an unknown name or a value out of
        range raises ``ValueError``.

        Parameters
        ----------
        values : mapping or None
            None: the defaults.

        Returns
        -------
        DiagnosticThresholds
        """
        values = dict(values or {})
        cls._refuse_unknown(values)
        return cls(**values)


def check_thresholds(thresholds: DiagnosticThresholds | Mapping[str, Any] | None
                     ) -> DiagnosticThresholds | None:
    """``thresholds`` as a public function takes them, checked before any work (QA119:
    ``fit_sparse(..., thresholds={...})`` sampled for minutes, then failed on the dict):
    a :class:`DiagnosticThresholds`, a mapping of its fields (checked as it checks them), or
    None (the function's own defaults)."""
    if thresholds is None or isinstance(thresholds, DiagnosticThresholds):
        return thresholds
    if isinstance(thresholds, Mapping):
        return DiagnosticThresholds.from_dict(thresholds)
    if thresholds is DiagnosticThresholds:  # the class itself (QA120 L6: "got type")
        raise ValueError("thresholds is the class DiagnosticThresholds: give an instance, "
                         "DiagnosticThresholds() or DiagnosticThresholds(rhat_max=1.05)")
    raise ValueError(f"thresholds must be a bayesgmm.DiagnosticThresholds (or a dict of its "
                     f"fields, e.g. {{'rhat_max': 1.05}}); got {type(thresholds).__name__}")


VECTOR_FORMATS = ("svg", "pdf")  # what matplotlib writes as vector graphics without extras
_DPI_RANGE = (50, 1200)


@constructor_hints
@dataclass(frozen=True)
class FigureFiles:
    """How a report's figures are written: the PNGs' resolution and vector copies.

    Parameters
    ----------
    dpi : int in [50, 1200], default 100
        Dots per inch of every PNG (the page's embedded images and ``figures/*.png``). The
        page shows them at the same size whatever the dpi (a 300-dpi figure is sharper, not
        larger), so a page printed or zoomed stays crisp.
    vector_formats : str or sequence of {"svg", "pdf"}, default ()
        Also write each figure as ``figures/<name>.svg`` / ``.pdf`` (vector graphics for a
        paper; the page itself embeds the PNGs). A string may list several: ``"svg,pdf"``.

    Notes
    -----
    Used by ``write_report``, ``write_em_report`` and ``write_selection_report``
    (``dpi=``, ``vector_formats=``), the ``[output]`` table of a specification and the
    command line's ``--dpi`` and ``--vector``.
    """

    dpi: int = 100
    vector_formats: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        lo, hi = _DPI_RANGE
        dpi = check_int(self.dpi, "dpi", None)
        if not lo <= dpi <= hi:
            raise ValueError(f"dpi must be between {lo} and {hi}; got {dpi} (100 is the "
                             "screen default, 300 print quality)")
        object.__setattr__(self, "dpi", dpi)
        formats = self.vector_formats
        if isinstance(formats, str):
            formats = [f for f in formats.replace(" ", "").split(",") if f]
        if not isinstance(formats, list | tuple) or not all(isinstance(f, str) for f in formats):
            raise ValueError(f"vector_formats must be a list of {list(VECTOR_FORMATS)} (or one "
                             f"comma-separated string); got {self.vector_formats!r}")
        formats = [f.lower().lstrip(".") for f in formats]
        unknown = sorted(set(formats) - set(VECTOR_FORMATS))
        if unknown:
            raise ValueError(f"unknown vector format(s) {unknown}; choose from "
                             f"{list(VECTOR_FORMATS)} (PNG is always written)")
        object.__setattr__(self, "vector_formats", tuple(dict.fromkeys(formats)))
