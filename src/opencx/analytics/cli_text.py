"""`opencx text analyze`: language, sentiment, topics and keyphrases for a JSON-lines file.

    opencx text analyze --input in.jsonl --output out.jsonl
    opencx text analyze --input in.jsonl --output out.jsonl --languages en,cy --mode fast --redact

Each input line is a JSON object with `id` (string or integer) and `text`; other keys are kept.
Each output line is the input object plus `language`, `sentiment` (negative|neutral|positive),
`sentiment_score` (P(positive) − P(negative)), `topics` and `keyphrases`. With `--redact`,
e-mail addresses, phone and card numbers in `text` are replaced before writing.

The file is streamed in batches (bounded memory) with a progress bar on standard error. A bad
line is reported as `FILE:LINE: FIELD: reason` on standard error and skipped; the good lines are
still written, and the exit status is then 1 (2 for a usage error). Runs offline, without Django.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO, cast

from opencx.analytics.text.jsonl import LineError, Record, parse_lines
from opencx.analytics.text.language import DEFAULT_LANGUAGES, UnknownLanguageError
from opencx.analytics.text.pipeline import SentimentSource, analyze
from opencx.analytics.text.sentiment import MODES, Mode

USAGE_ERROR = 2
BAD_LINES = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="opencx text", description="Offline text analytics (see docs/text-analytics.md)."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("analyze", help="analyse a JSON-lines file of {id, text}")
    run.add_argument("--input", required=True, type=Path, help="JSON lines, or - for stdin")
    run.add_argument("--output", required=True, type=Path, help="JSON lines, or - for stdout")
    run.add_argument(
        "--languages",
        default=",".join(DEFAULT_LANGUAGES),
        help="the brand's languages, comma-separated ISO 639-1 codes (default: %(default)s)",
    )
    run.add_argument("--mode", default="default", choices=MODES)
    run.add_argument("--redact", action="store_true", help="hide e-mails, phones, card numbers")
    run.add_argument(
        "--transformer",
        type=Path,
        default=None,
        metavar="DIR",
        help="sentiment from a local Hugging Face model directory (the transformers extra)",
    )
    run.add_argument("--batch-size", type=int, default=256)
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
    return count


def _batches(items: Iterator[Record | LineError], size: int) -> Iterator[list[Record | LineError]]:
    batch: list[Record | LineError] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def analyze_file(
    source: TextIO,
    sink: TextIO,
    *,
    name: str,
    languages: Sequence[str],
    mode: Mode,
    redact: bool,
    batch_size: int,
    errors: TextIO,
    total: int | None = None,
    progress: bool = True,
    sentiment_model: SentimentSource | None = None,
) -> tuple[int, int]:
    """Stream `source` to `sink`; returns (lines written, bad lines)."""
    from tqdm import tqdm

    written = bad = 0
    bar = tqdm(total=total, unit=" lines", disable=not progress, file=errors, mininterval=0.5)
    try:
        for batch in _batches(parse_lines(source), batch_size):
            records = [item for item in batch if isinstance(item, Record)]
            for item in batch:
                if isinstance(item, LineError):
                    bad += 1
                    errors.write(f"{name}:{item.line}: {item.field}: {item.reason}\n")
            results = analyze(
                [r.text for r in records],
                languages=languages,
                mode=mode,
                redact=redact,
                sentiment_model=sentiment_model,
            )
            for record, result in zip(records, results, strict=True):
                row = dict(record.row)
                row["text"] = result.text
                row["language"] = result.language
                row["sentiment"] = result.sentiment
                row["sentiment_score"] = result.sentiment_score
                row["topics"] = list(result.topics)
                row["keyphrases"] = list(result.keyphrases)
                sink.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
            bar.update(len(batch))
    finally:
        bar.close()
    return written, bad


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    if args.batch_size < 1:
        print("opencx text: --batch-size: must be at least 1", file=sys.stderr)
        return USAGE_ERROR
    reading_stdin = str(args.input) == "-"
    if not reading_stdin and not args.input.is_file():
        print(f"opencx text: --input: {args.input} is not a file", file=sys.stderr)
        return USAGE_ERROR
    try:
        from opencx.analytics.text.language import LanguageDetector

        LanguageDetector(languages)
    except UnknownLanguageError as exc:
        print(f"opencx text: --{exc}", file=sys.stderr)
        return USAGE_ERROR
    sentiment_model = None
    if args.transformer is not None:
        from opencx.analytics.text.transformer import (
            LocalTransformerSentiment,
            TransformerUnavailableError,
        )

        try:
            sentiment_model = LocalTransformerSentiment(args.transformer)
        except TransformerUnavailableError as exc:
            print(f"opencx text: --transformer: {exc}", file=sys.stderr)
            return USAGE_ERROR
    source = (
        sys.stdin
        if reading_stdin
        else args.input.open(encoding="utf-8", errors="replace", newline="\n")
    )
    writing_stdout = str(args.output) == "-"
    partial = args.output.with_name(args.output.name + ".partial")
    sink = sys.stdout if writing_stdout else partial.open("w", encoding="utf-8")
    try:
        written, bad = analyze_file(
            cast(TextIO, source),
            cast(TextIO, sink),
            name=str(args.input),
            languages=languages,
            mode=args.mode,
            redact=args.redact,
            batch_size=args.batch_size,
            errors=sys.stderr,
            total=None if reading_stdin else _count_lines(args.input),
            progress=not args.no_progress,
            sentiment_model=sentiment_model,
        )
    finally:
        if not reading_stdin:
            source.close()
        if not writing_stdout:
            sink.close()
    if not writing_stdout:
        partial.replace(args.output)
    print(f"opencx text: {written} lines analysed, {bad} bad lines skipped", file=sys.stderr)
    return BAD_LINES if bad else 0
