import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencx.platform.errors import AppError
from opencx.platform.validation import clean_text


@given(st.text(max_size=40))
def test_text_within_the_limit_comes_back_trimmed(value):
    assert clean_text(value, "note", limit=40) == value.strip()


def test_what_is_refused_names_the_field():
    with pytest.raises(AppError, match="Expected text") as error:
        clean_text(42, "body", limit=10)
    assert error.value.field == "body"
    with pytest.raises(AppError, match="cannot be empty"):
        clean_text("   ", "body", limit=10, required=True)
    with pytest.raises(AppError, match="At most 3 characters"):
        clean_text("four", "body", limit=3)
    assert clean_text(None, "body", limit=3) == ""
