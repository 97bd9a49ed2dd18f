"""The optional local transformer loader: refuses anything but a local model directory."""

import importlib.util

import pytest

from opencx.analytics.text.transformer import (
    LocalTransformerSentiment,
    TransformerUnavailableError,
    _label_order,
)


def test_a_directory_without_a_model_is_refused_before_anything_loads(tmp_path):
    with pytest.raises(TransformerUnavailableError, match="config.json"):
        LocalTransformerSentiment(tmp_path)
    with pytest.raises(TransformerUnavailableError, match="config.json"):
        LocalTransformerSentiment("cardiffnlp/twitter-xlm-roberta-base-sentiment")


def test_labels_map_by_name_or_by_position():
    assert _label_order({0: "Positive", 1: "Negative", 2: "Neutral"}) == [1, 2, 0]
    assert _label_order({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}) == [0, 1, 2]
    with pytest.raises(TransformerUnavailableError):
        _label_order({0: "joy", 1: "anger"})


@pytest.mark.skipif(
    importlib.util.find_spec("transformers") is None,
    reason="the transformers extra is not installed",
)
def test_a_tiny_local_model_loads_offline_and_predicts(tmp_path):
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerFast

    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "good", "bad"]))
    BertTokenizerFast(vocab_file=str(vocab)).save_pretrained(tmp_path)
    config = BertConfig(
        vocab_size=7,
        hidden_size=8,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=16,
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
    )
    BertForSequenceClassification(config).save_pretrained(tmp_path)
    model = LocalTransformerSentiment(tmp_path, device="cpu")
    [result] = model.predict(["good"])
    assert result.label in {"negative", "neutral", "positive"}
    assert abs(sum(result.probabilities) - 1) < 1e-5
