"""Object ids as requests write them: whole numbers that a primary key can hold."""

MAX_ID = 2**63 - 1  # primary keys are 64-bit signed integers


def parse_id(text: str) -> int | None:
    """The id a text names, or None when it can name none: not ASCII digits (`²` passes
    `isdigit` but not `int`), zero, or too large for a key (the query would overflow)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
