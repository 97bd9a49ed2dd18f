"""Sentiment and language identification of the shipped text model on held-out data.

The held-out texts are those that `opencx.analytics.text.data.split_of` puts in "heldout"
(15 % of each of the eight sets, by a hash of the text): the training script never reads them.
Language is identified among the eight languages (en, it, es, fr, de, pt, ru, cy) and the
detected language feeds the sentiment model, as in the product. Prints one JSON line per set and
mode, then the headline: macro_f1_mean, macro_f1_min (default mode, over the eight sets),
langid_accuracy, and the fast mode's figures.

    .venv/bin/python bench/text_quality.py                  # both modes
    .venv/bin/python bench/text_quality.py --modes default --cache-dir /tmp/opencx-embeddings
"""

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from opencx.analytics.text import data, features
from opencx.analytics.text.language import DEFAULT_LANGUAGES, LanguageDetector
from opencx.analytics.text.sentiment import SentimentModel, macro_f1


def _embeddings(model, mode, texts, cache_dir):
    embedder = model.embedder(mode)
    key = None
    if cache_dir is not None:
        digest = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
        settings = json.dumps(model.manifest["e5" if mode == "default" else "use"], sort_keys=True)
        key = (
            cache_dir
            / f"heldout_{mode}_{hashlib.sha256(settings.encode()).hexdigest()[:8]}_{digest}.npy"
        )
        if key.exists():
            return np.load(key, allow_pickle=False)
    out = embedder.embed(texts)
    if key is not None:
        cache_dir.mkdir(parents=True, exist_ok=True)
        np.save(key, out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--modes", default="default,fast")
    parser.add_argument("--cache-dir", type=Path, default=None, help="embedding cache")
    args = parser.parse_args()

    examples = data.load(args.data, split="heldout")
    texts = [e.text for e in examples]
    y = np.array([e.label for e in examples])
    sets = np.array([e.set_name for e in examples])
    truth = np.array([e.language for e in examples])

    started = time.perf_counter()
    detector = LanguageDetector(DEFAULT_LANGUAGES)
    detected = np.array([d.language for d in detector.detect_many(texts)])
    langid_seconds = time.perf_counter() - started
    for name in data.SETS:
        mask = sets == name
        print(
            json.dumps(
                {
                    "set": name,
                    "n": int(mask.sum()),
                    "langid_accuracy": round(float(np.mean(detected[mask] == truth[mask])), 4),
                }
            )
        )
    langid_accuracy = round(float(np.mean(detected == truth)), 4)

    model = SentimentModel.load()
    headline: dict[str, object] = {
        "heldout_texts": len(texts),
        "langid_seconds": round(langid_seconds, 1),
    }
    for mode in args.modes.split(","):
        started = time.perf_counter()
        emb = _embeddings(model, mode, [features.normalize(t) for t in texts], args.cache_dir)
        prob = model.probabilities(texts, list(detected), mode=mode, embeddings=emb)
        pred = prob.argmax(axis=1)
        per_set = {}
        for name in data.SETS:
            mask = sets == name
            per_set[name] = round(macro_f1(y[mask], pred[mask]), 4)
            print(
                json.dumps(
                    {
                        "mode": mode,
                        "set": name,
                        "language": data.SETS[name],
                        "n": int(mask.sum()),
                        "macro_f1": per_set[name],
                    }
                )
            )
        prefix = "" if mode == "default" else f"{mode}_"
        headline[f"{prefix}macro_f1_mean"] = round(float(np.mean(list(per_set.values()))), 4)
        headline[f"{prefix}macro_f1_min"] = min(per_set.values())
        headline[f"{prefix}seconds"] = round(time.perf_counter() - started, 1)
    headline["langid_accuracy"] = langid_accuracy
    headline["targets"] = {"macro_f1_mean": 0.63, "macro_f1_min": 0.55, "langid_accuracy": 0.98}
    print(json.dumps(headline))


if __name__ == "__main__":
    main()
