"""Checks of values that services take from people and systems: AppError naming the field."""

from .errors import AppError


def clean_text(value, field: str, *, limit: int, required: bool = False) -> str:
    """`value` as trimmed text of at most `limit` characters; None counts as empty."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise AppError("Expected text.", field=field)
    value = value.strip()
    if required and not value:
        raise AppError("This cannot be empty.", field=field)
    if len(value) > limit:
        raise AppError(f"At most {limit} characters.", field=field)
    return value
