from hypothesis import given
from hypothesis import strategies as st

from opencx.platform.numbers import whole_number


def test_ascii_whole_numbers_are_read_and_everything_else_is_none():
    assert whole_number("42") == 42
    assert whole_number("-3") is None
    assert whole_number("-3", signed=True) == -3
    for text in ("²", "٣", "4.0", " 4", "", "1" * 19, "+4", "0x10"):
        assert whole_number(text, signed=True) is None


@given(st.text(max_size=25))
def test_never_raises_and_agrees_with_int_on_what_it_accepts(text):
    number = whole_number(text, signed=True)
    if number is not None:
        assert number == int(text)
