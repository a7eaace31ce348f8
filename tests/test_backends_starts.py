"""Where each chain starts: which chains start at another place, and what a run says when
nutpie's seeds could not be mapped to chains (the mapping itself is pinned against a real
nutpie run in test_model.py, beside compile_nutpie's other start tests)."""

import pytest

from bayesgmm.backends.starts import ChainStarts, chains_apart


@pytest.mark.parametrize("chains, places, expected", [
    (4, 1, [[1, 3]]), (5, 1, [[1, 3]]), (6, 2, [[1, 4], [2, 5]]), (1, 1, [[]])])
def test_chains_take_the_places_in_turn_after_the_start(chains, places, expected):
    starts = ChainStarts(tuple({} for _ in range(places)), seed=0, chains=chains)
    assert [starts.chains_at(p) for p in range(places)] == expected


def test_seeds_nutpie_asked_with_that_map_to_no_chain_are_said():
    mapped = ChainStarts(({},), seed=1, chains=4, asked={0, 1, 2, 3})
    assert chains_apart(mapped) == [1, 3]
    with pytest.warns(RuntimeWarning, match="cannot map to chains .* second start: none"):
        assert chains_apart(ChainStarts(({},), seed=1, chains=4, asked={0})) == []
    with pytest.warns(RuntimeWarning, match=r"second start: \[1\]"):
        assert chains_apart(ChainStarts(({},), seed=1, chains=4, asked={0, 1, 2})) == [1]
