"""Sampler back ends: how the model's log-density reaches a sampler.

Where it sits: estimation layer. Imports the layout (:mod:`bayesgmm.layout`) and the kernel,
never :mod:`bayesgmm.model` (which re-exports ``compile_nutpie`` lazily for the old import path).

- :mod:`~bayesgmm.backends.native`: the density in numba, one small function per layout block.
- :mod:`~bayesgmm.backends.nutpie`: ``compile_nutpie``, its caches, the C callbacks, the native
  nutpie model and every use of nutpie's internals (behind one version check).
- :mod:`~bayesgmm.backends.laplace`: the Laplace whitening metric.
"""
