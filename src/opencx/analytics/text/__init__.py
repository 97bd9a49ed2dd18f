"""Offline text analytics: language, sentiment, topics, keyphrases, PII redaction.

`analyze(texts, languages=..., mode="default"|"fast")` is the entry point (see pipeline.py and
docs/text-analytics.md). Nothing here imports Django or reaches the network.
"""

from opencx.analytics.text.pipeline import TextAnalysis, analyze

__all__ = ["TextAnalysis", "analyze"]
