"""Optional: a user-supplied transformer sentiment model from a local directory (never downloaded).

For users who want the last points of accuracy or have a GPU: install the extra
(`pip install "opencx[transformers]"`) and point OpenCX at a directory holding a Hugging Face
sequence-classification model (config.json, weights, tokenizer files), for example a copy of
twitter-xlm-roberta-base-sentiment made on a machine that may download it.

    model = LocalTransformerSentiment("/srv/models/xlmr-sentiment")
    model.predict(["Servizio pessimo"])  # [Sentiment(label="negative", ...)]

Loading passes `local_files_only=True` and sets HF_HUB_OFFLINE=1 for the process, so a missing
file is an error, never a download. The model's labels must map onto negative / neutral /
positive (by name in its config's id2label, or three classes in that order).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from opencx.analytics.text.sentiment import LABELS, Sentiment


class TransformerUnavailableError(RuntimeError):
    """The `transformers` extra is not installed, or the directory holds no usable model."""


def _label_order(id2label: dict[int, str]) -> list[int]:
    """For each of our labels, the model's class index."""
    names = {int(k): str(v).lower() for k, v in id2label.items()}
    found = []
    for ours in LABELS:
        matches = [k for k, v in names.items() if v.startswith(ours[:3])]
        if len(matches) != 1:
            break
        found.append(matches[0])
    if len(found) == 3:
        return found
    if len(names) == 3:
        return [0, 1, 2]
    raise TransformerUnavailableError(
        f"the model's labels {sorted(names.values())} do not map onto negative/neutral/positive"
    )


class LocalTransformerSentiment:
    def __init__(
        self, directory: str | Path, *, device: str | None = None, max_length: int = 256
    ) -> None:
        path = Path(directory)
        if not (path / "config.json").is_file():
            raise TransformerUnavailableError(f"{path} holds no config.json (a local model dir)")
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer
        except ImportError as exc:
            raise TransformerUnavailableError(
                'install the optional extra: pip install "opencx[transformers]"'
            ) from exc
        self._torch: Any = torch
        self._tokenizer: Any = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self._model: Any = AutoModelForSequenceClassification.from_pretrained(
            path, local_files_only=True
        )
        self._device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model.to(self._device).eval()
        self._order = _label_order(dict(self._model.config.id2label))
        self.max_length = max_length

    def probabilities(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            batch = self._tokenizer(
                list(texts[start : start + batch_size]),
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self._device)
            with self._torch.no_grad():
                logits = self._model(**batch).logits.float().softmax(-1).cpu().numpy()
            out.append(logits[:, self._order])
        return np.concatenate(out) if out else np.zeros((0, 3))

    def predict(self, texts: Sequence[str]) -> list[Sentiment]:
        result = []
        for row in self.probabilities(texts):
            k = int(row.argmax())
            probs = (float(row[0]), float(row[1]), float(row[2]))
            result.append(Sentiment(LABELS[k], round(probs[2] - probs[0], 4), probs))
        return result
