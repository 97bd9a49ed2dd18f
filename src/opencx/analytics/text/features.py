"""Text normalisation shared by training and inference, and hashed character n-gram TF-IDF."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from scipy import sparse

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_SPACE = re.compile(r"\s+")


def normalize(text: str) -> str:
    """Links become `http`, @mentions `@user`, whitespace runs one space (as in the tweets)."""
    text = _URL.sub("http", text)
    text = _MENTION.sub("@user", text)
    return _SPACE.sub(" ", text).strip()


HASH_BITS = 20
NGRAM_MIN = 2
NGRAM_MAX = 5
_PRIME = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)
_SEPARATOR = "\x00"


def _codepoints(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code points of ` text ` for every text, concatenated; and each position's text index."""
    padded = [f" {normalize(t).lower()} " for t in texts]
    joined = _SEPARATOR.join(padded)
    points = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    lengths = np.fromiter((len(p) + 1 for p in padded), dtype=np.int64, count=len(padded))
    owner = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)[: len(points)]
    return points, owner


def hashed_ngrams(texts: Sequence[str], bits: int = HASH_BITS) -> sparse.csr_matrix:
    """Counts of character 2–5-grams per text, hashed into 2**bits columns (vectorised).

    An n-gram never crosses from one text into the next: the separator between texts is a
    code point that no normalised text contains, and windows that hold it are dropped.
    """
    n_docs = len(texts)
    if n_docs == 0:
        return sparse.csr_matrix(np.zeros((0, 1 << bits), dtype=np.float32))
    points, owner = _codepoints(texts)
    sep = np.uint64(ord(_SEPARATOR))
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    shift = np.uint64(64 - bits)
    with np.errstate(over="ignore"):
        for n in range(NGRAM_MIN, NGRAM_MAX + 1):
            count = len(points) - n + 1
            if count <= 0:
                continue
            h = np.full(count, np.uint64(n) * _MIX, dtype=np.uint64)
            bad = np.zeros(count, dtype=bool)
            for j in range(n):
                window = points[j : j + count]
                h = (h ^ window) * _PRIME
                bad |= window == sep
            h ^= h >> np.uint64(31)
            h *= _MIX
            keep = ~bad
            rows.append(owner[:count][keep])
            cols.append((h[keep] >> shift).astype(np.int64))
    row = np.concatenate(rows)
    col = np.concatenate(cols)
    data = np.ones(len(row), dtype=np.float32)
    matrix = sparse.csr_matrix((data, (row, col)), shape=(n_docs, 1 << bits), dtype=np.float32)
    matrix.sum_duplicates()
    return matrix


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF times IDF, rows scaled to unit length (columns whose idf is 0 drop out)."""
    out = counts.copy()
    out.data = (1.0 + np.log(out.data)) * idf[out.indices]
    norms = np.sqrt(np.asarray(out.multiply(out).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    out = sparse.diags((1.0 / norms).astype(np.float32)) @ out
    out.eliminate_zeros()
    return sparse.csr_matrix(out, dtype=np.float32)


def fit_idf(counts: sparse.csr_matrix, min_df: int = 2) -> np.ndarray:
    """Smoothed IDF per column; columns seen in fewer than `min_df` texts get 0 (unused)."""
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    n = counts.shape[0]
    idf = (np.log((1.0 + n) / (1.0 + df)) + 1.0).astype(np.float32)
    idf[df < min_df] = 0.0
    return idf
