"""Reading whole numbers from untrusted text.

`str.isdigit()` accepts "²" and other Unicode digits that `int()` then rejects (a 500 waiting to
happen); every parser of user input goes through `whole_number` instead.
"""

import re

_WHOLE = re.compile(r"-?[0-9]{1,18}")


def whole_number(text: str, *, signed: bool = False) -> int | None:
    """The ASCII whole number `text` spells (at most 18 digits), or None."""
    if not isinstance(text, str) or not _WHOLE.fullmatch(text):
        return None
    if text.startswith("-") and not signed:
        return None
    return int(text)
