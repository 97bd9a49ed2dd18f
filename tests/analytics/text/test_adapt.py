"""The per-brand sentiment adapter: a correction learnt from people's labels."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opencx.analytics.text import adapt, analyze
from opencx.analytics.text.adapt import AdapterError, SentimentAdapter
from opencx.analytics.text.features import normalize
from opencx.analytics.text.sentiment import LABELS, shipped_model

# A brand's jargon: here "florped" means broken in transit, which the shipped model cannot know.
JARGON_TRAIN = [
    "My parcel arrived florped.",
    "The kettle was florped when I opened the box.",
    "Second time this month the order came florped.",
    "Everything florped again, as usual.",
    "The screen was florped out of the box.",
    "They sent me a florped chair.",
    "My bike came back from the service florped.",
    "The lamp is florped, the shade too.",
    "Half the plates florped in transit.",
    "Got the mixer today, florped.",
    "Ordered a desk, it was florped.",
    "The headphones were florped on arrival.",
]
JARGON_HELD_OUT = [
    "The blender arrived florped.",
    "Our sofa was florped when delivered.",
    "Fourth florped package this year.",
    "The phone came florped.",
]
# Confirmations of what the model already gets right, so that the examples hold three classes.
CONFIRMED = [
    ("Lovely staff and quick delivery.", "positive"),
    ("The shop opens at nine.", "neutral"),
    ("Great value, will buy again.", "positive"),
    ("The parcel came on Tuesday.", "neutral"),
    ("Really happy with the service.", "positive"),
    ("I collected it from the store.", "neutral"),
]
OTHERS = [
    "The staff were rude and unhelpful.",
    "Fast delivery, thank you!",
    "The store is on the high street.",
    "Terrible experience, never again.",
    "Amazing quality, love it.",
    "The order number is 1234.",
    "Waited an hour for nothing.",
    "Friendly people at the till.",
    "Delivery was late and the box was damaged.",
    "It was fine, nothing special.",
]


def _shipped(texts, mode):
    model = shipped_model()
    embeddings = model.embedder(mode).embed([normalize(t) for t in texts])
    return model.probabilities(texts, ["en"] * len(texts), mode=mode, embeddings=embeddings), (
        embeddings
    )


def _labels(prob):
    return [LABELS[k] for k in prob.argmax(axis=1)]


@pytest.fixture(scope="module", params=["fast", "default"])
def jargon_fit(request):
    mode = request.param
    texts = JARGON_TRAIN + [text for text, _ in CONFIRMED]
    labels = ["negative"] * len(JARGON_TRAIN) + [label for _, label in CONFIRMED]
    return mode, adapt.fit_texts(texts, ["en"] * len(texts), labels, mode=mode)


def test_adapting_to_a_jargon_word_fixes_it_and_leaves_the_rest_alone(jargon_fit):
    mode, fitted = jargon_fit
    assert fitted.examples == len(JARGON_TRAIN) + len(CONFIRMED)
    assert fitted.classes == {"negative": 12, "positive": 3, "neutral": 3}
    # The shipped model misses most of the jargon; the adapter learns it...
    assert fitted.correct_before < 12
    assert fitted.correct_after >= fitted.correct_before + 4
    # ...and carries it over to texts it never saw.
    prob, emb = _shipped(JARGON_HELD_OUT, mode)
    assert _labels(prob).count("negative") < len(JARGON_HELD_OUT)
    assert _labels(fitted.adapter.apply(prob, emb)) == ["negative"] * len(JARGON_HELD_OUT)
    # Unrelated texts keep their labels, and their probabilities barely move.
    prob, emb = _shipped(OTHERS, mode)
    adapted = fitted.adapter.apply(prob, emb)
    assert _labels(adapted) == _labels(prob)
    assert np.abs(adapted - prob).mean() < 0.05


@pytest.mark.parametrize("mode", ["fast"])
def test_one_example_barely_moves_anything(mode):
    fitted = adapt.fit_texts([JARGON_TRAIN[0]], ["en"], ["negative"], mode=mode)
    prob, emb = _shipped(OTHERS + JARGON_HELD_OUT, mode)
    assert np.abs(fitted.adapter.apply(prob, emb) - prob).max() < 0.1
    assert fitted.cross_validated is None  # too few to hold any out


def test_analyze_takes_the_adapter_as_a_dict(jargon_fit):
    mode, fitted = jargon_fit
    stored = json.loads(json.dumps(fitted.adapter.to_dict()))  # as a JSON field keeps it
    shipped = analyze(JARGON_HELD_OUT, languages=["en"], mode=mode)
    adapted = analyze(JARGON_HELD_OUT, languages=["en"], mode=mode, adapter=stored)
    assert [r.sentiment for r in adapted] == ["negative"] * len(JARGON_HELD_OUT)
    assert [r.sentiment for r in shipped] != [r.sentiment for r in adapted]
    assert [r.topics for r in shipped] == [r.topics for r in adapted]  # only sentiment changes
    other = "fast" if mode == "default" else "default"
    with pytest.raises(AdapterError, match=f"trained for mode '{mode}'.*runs in mode '{other}'"):
        analyze(["x"], languages=["en"], mode=other, adapter=stored)


# --- properties on synthetic numbers --------------------------------------------------------


def _unit_rows(rng, n, dim):
    x = rng.normal(size=(n, dim))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 40), dim=st.integers(1, 24))
def test_no_examples_is_the_identity(seed, n, dim):
    rng = np.random.default_rng(seed)
    prob = rng.dirichlet(np.ones(3), size=n)
    emb = _unit_rows(rng, n, dim)
    adapter = adapt.fit(np.zeros((0, 3)), np.zeros((0, dim)), [], mode="fast", embedder="use")
    assert adapter.examples == 0
    assert not adapter.weights.any() and not adapter.bias.any()
    np.testing.assert_allclose(adapter.apply(prob, emb), prob, atol=1e-6)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30))
def test_round_trip_through_json_gives_the_same_predictions(seed, n):
    rng = np.random.default_rng(seed)
    dim = 8
    prob = rng.dirichlet(np.ones(3), size=n)
    emb = _unit_rows(rng, n, dim)
    labels = [LABELS[k] for k in rng.integers(0, 3, size=n)]
    adapter = adapt.fit(prob, emb, labels, mode="default", embedder="e5")
    loaded = SentimentAdapter.load(
        json.loads(json.dumps(adapter.to_dict())), mode="default", embedder="e5", dim=dim
    )
    np.testing.assert_allclose(loaded.apply(prob, emb), adapter.apply(prob, emb), rtol=1e-12)
    assert loaded.examples == n


def _corrected_and_kept(seed: int) -> tuple[float, float]:
    """Texts along one direction of the embedding are called positive by the shipped model but
    the brand means negative; the rest is called right. Adapt on 60, then on 200 new texts: the
    share of the direction's texts now called negative, and the share of the rest whose label
    stayed."""
    rng = np.random.default_rng(seed)
    dim, n = 16, 60
    jargon = np.zeros(dim)
    jargon[0] = 1.0

    def sample(count):
        emb = _unit_rows(rng, count, dim) * 0.4
        has = rng.random(count) < 0.4
        emb[has] += jargon
        truth = rng.integers(0, 3, size=count)
        truth[has] = 0
        logits = rng.normal(scale=0.3, size=(count, 3))
        logits[np.arange(count), truth] += 2.0
        logits[has] = [-1.0, 0.0, 2.0]  # the mistake: jargon read as positive
        prob = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return prob, emb, truth, has

    prob, emb, truth, _ = sample(n)
    adapter = adapt.fit(prob, emb, [LABELS[k] for k in truth], mode="fast", embedder="use")
    prob2, emb2, truth2, has2 = sample(200)
    before = prob2.argmax(axis=1)
    after = adapter.apply(prob2, emb2).argmax(axis=1)
    assert (before[has2] == 0).mean() == 0
    return float((after[has2] == 0).mean()), float((after[~has2] == before[~has2]).mean())


def test_a_systematic_mistake_is_corrected_on_held_out_texts():
    # A statistical property, so over fixed seeds rather than hypothesis's search: a search
    # finds the rare draw where a 60-example fit moves a fifth of the other labels (seed
    # 32038126 keeps 0.79), which says nothing about the adapter getting worse.
    results = [_corrected_and_kept(seed) for seed in range(40)]
    corrected = np.array([c for c, _ in results])
    kept = np.array([k for _, k in results])
    assert corrected.min() >= 0.9 and corrected.mean() >= 0.98
    assert kept.min() >= 0.85 and kept.mean() >= 0.95


def test_fit_refuses_unknown_labels_and_mismatched_lengths():
    with pytest.raises(AdapterError, match="'angry' is not one of"):
        adapt.fit(np.full((1, 3), 1 / 3), np.ones((1, 2)), ["angry"], mode="fast", embedder="use")
    with pytest.raises(AdapterError, match="do not match"):
        adapt.fit(
            np.full((2, 3), 1 / 3), np.ones((1, 2)), ["negative"] * 2, mode="fast", embedder="use"
        )
    with pytest.raises(AdapterError, match="mode"):
        adapt.fit(np.zeros((0, 3)), np.zeros((0, 2)), [], mode="slow", embedder="use")


def _stored(**changes):
    adapter = SentimentAdapter.identity(mode="fast", embedder="use", dim=4)
    return {**adapter.to_dict(), **changes}


@pytest.mark.parametrize(
    ("changes", "expected", "message"),
    [
        ({"format": "pickle"}, {}, "format 'pickle'"),
        ({"classes": ["bad", "good"]}, {}, "classes"),
        ({"mode": "turbo"}, {}, "unknown mode 'turbo'"),
        ({"dim": "4"}, {}, "dim must be a positive integer"),
        ({"weights": [[0.0] * 3] * 3}, {}, r"weights \(3, 3\)"),
        ({"bias": [0.0, float("nan"), 0.0]}, {}, "finite"),
        ({"center": None}, {}, r"center \(\)"),
        ({"bias": "abc"}, {}, "weights unreadable"),
        ({"examples": -1}, {}, "examples must be a count"),
        ({}, {"mode": "default"}, "trained for mode 'fast' .use, 4 dimensions.*mode 'default'"),
        ({}, {"embedder": "e5"}, "the embedder is 'e5'"),
        ({}, {"dim": 384}, "the embeddings have 384 dimensions"),
    ],
)
def test_load_says_what_does_not_fit(changes, expected, message):
    with pytest.raises(AdapterError, match=message):
        SentimentAdapter.load(_stored(**changes), **expected)


def test_load_accepts_its_own_output_and_an_adapter():
    raw = _stored()
    adapter = SentimentAdapter.load(raw, mode="fast", embedder="use", dim=4)
    assert SentimentAdapter.load(adapter, mode="fast") is adapter
    with pytest.raises(AdapterError, match="expected a dict"):
        SentimentAdapter.load([1, 2, 3])  # type: ignore[arg-type]


def test_cross_validation_holds_examples_out():
    rng = np.random.default_rng(7)
    n, dim = 40, 6
    prob = rng.dirichlet(np.ones(3), size=n)
    emb = _unit_rows(rng, n, dim)
    y = prob.argmax(axis=1)
    hits = adapt.cross_validated_hits(prob, emb, y, mode="fast", c=adapt.DEFAULT_C)
    assert hits is not None and 0.8 * n <= hits <= n  # labels the shipped model already had
    assert adapt.cross_validated_hits(prob[:5], emb[:5], y[:5], mode="fast", c=1.0) is None
