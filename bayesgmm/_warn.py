"""Where bayesgmm's warnings point: at the user's line that called bayesgmm, not at ours.

Every ``warnings.warn`` of the package passes ``skip_file_prefixes=IN_PACKAGE`` (Python >=
3.12) instead of a ``stacklevel``: the warning is attributed to the first frame outside this
package however deep the call that raised it (a stacklevel counts frames, so the same helper
reached through ``fit_bayes`` and through ``BayesianGMM.fit`` pointed into bayesgmm on one of
the two; QA: ``estimator.py:217``).

Where it sits: the vocabulary layer; standard library only.
"""

from __future__ import annotations

import os

__all__ = ["IN_PACKAGE"]

IN_PACKAGE = (os.path.dirname(os.path.abspath(__file__)) + os.sep,)
