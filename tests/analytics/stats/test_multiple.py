import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.stats.multiple import benjamini_hochberg, bonferroni, holm

# Worked by hand with the definitions statsmodels documents for multipletests(method="holm")
# and method="fdr_bh" (the same numbers as R's p.adjust):
# sorted 0.005, 0.01, 0.03, 0.04 (m = 4)
# Holm:  ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
# BH:    ×4/1, ×4/2, ×4/3, ×4/4 = 0.02, 0.02, 0.04, 0.04 -> running min from the top (same)
RAW = [0.01, 0.04, 0.03, 0.005]


def test_holm_by_hand():
    assert holm(RAW) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_benjamini_hochberg_by_hand():
    assert benjamini_hochberg(RAW) == pytest.approx([0.02, 0.04, 0.04, 0.02])


def test_bh_step_up_lowers_an_earlier_value():
    # sorted 0.02, 0.03 (m=2): BH 0.04 then 0.03 -> the first is lowered to 0.03.
    assert benjamini_hochberg([0.03, 0.02]) == pytest.approx([0.03, 0.03])
    assert holm([0.03, 0.02]) == pytest.approx([0.04, 0.04])


def test_adjustments_cap_at_one_and_handle_empty():
    assert holm([0.6, 0.7]) == [1.0, 1.0]
    assert bonferroni([0.3, 0.01]) == pytest.approx([0.6, 0.02])
    assert holm([]) == [] and benjamini_hochberg([]) == []


@pytest.mark.parametrize("bad", [[0.1, 1.2], [float("nan")], [-0.1], ["0.1"], [True], [None]])
def test_invalid_p_values_raise(bad):
    with pytest.raises(ValueError, match="p-value #"):
        holm(bad)
    with pytest.raises(ValueError, match="p-value #"):
        benjamini_hochberg(bad)


def _naive_holm(p):
    m = len(p)
    order = sorted(range(m), key=lambda i: (p[i], i))
    rank = {index: r for r, index in enumerate(order)}
    return [
        max(min(1.0, (m - rank[j]) * p[j]) for j in range(m) if rank[j] <= rank[i])
        for i in range(m)
    ]


def _naive_bh(p):
    m = len(p)
    order = sorted(range(m), key=lambda i: (p[i], i))
    rank = {index: r + 1 for r, index in enumerate(order)}
    return [
        min(min(1.0, m * p[j] / rank[j]) for j in range(m) if rank[j] >= rank[i]) for i in range(m)
    ]


p_lists = st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=25)


@settings(max_examples=80, deadline=None)
@given(p_lists)
def test_agree_with_naive_formulas(p):
    assert holm(p) == pytest.approx(_naive_holm(p))
    assert benjamini_hochberg(p) == pytest.approx(_naive_bh(p))


@settings(max_examples=80, deadline=None)
@given(p_lists)
def test_invariants(p):
    for adjusted in (holm(p), benjamini_hochberg(p)):
        assert all(raw <= adj + 1e-12 and adj <= 1 for raw, adj in zip(p, adjusted, strict=True))
        for i, j in itertools.combinations(range(len(p)), 2):
            if p[i] <= p[j]:
                assert adjusted[i] <= adjusted[j] + 1e-15
    # BH controls a weaker error rate, so it never adjusts more than Holm.
    assert all(b <= h + 1e-12 for b, h in zip(benjamini_hochberg(p), holm(p), strict=True))
