"""Normalisation and hashed character n-gram TF-IDF."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.text import features


def test_normalize_masks_links_and_mentions():
    assert features.normalize("@ana  look:\nhttps://x.y/z ok www.a.b") == "@user look: http ok http"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=6))
def test_a_texts_ngrams_do_not_depend_on_its_neighbours(texts):
    together = features.hashed_ngrams(texts, bits=12)
    for i, text in enumerate(texts):
        alone = features.hashed_ngrams([text], bits=12)
        assert (together[i] != alone[0]).nnz == 0


def test_counts_match_the_number_of_ngrams():
    # " ab " has 3 bigrams, 2 trigrams, 1 four-gram, no five-gram
    counts = features.hashed_ngrams(["AB"])
    assert counts.sum() == 6


def test_tfidf_rows_have_unit_length_and_unseen_columns_drop_out():
    counts = features.hashed_ngrams(["great staff", "great food", "awful queue"], bits=14)
    idf = features.fit_idf(counts, min_df=2)  # only n-grams of "great" survive
    x = features.tfidf(counts, idf)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    assert np.allclose(norms[:2], 1.0, atol=1e-5)
    assert norms[2] == 0
