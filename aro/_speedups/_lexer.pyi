"""Types of the compiled scanner's public names; ``_pure_lexer.py`` is its behavioural twin and
defines the same names (tests/speedups/test_exports.py holds the three to one list)."""

from collections.abc import Iterable
from typing import Final

LEXER_IMPLEMENTATION: Final[str]  # "compiled" here, "pure" in the twin

class CommonScanner:
    """Scans words, punctuation, plain integers and plain strings into token 7-tuples."""

    def __init__(
        self,
        reserved: dict[str, object],
        punctuation: Iterable[str],
        word_kind: object,
        punct_kind: object,
        int_kind: object,
        string_kind: object,
    ) -> None: ...
    def scan(self, text: str, pos: int, stop: int, tokens: list, line_starts: list[int]) -> int:
        """Append the tokens of ``text[pos:stop]`` up to the first one the lexer's own scanners
        must take; returns where that one's leading whitespace starts (``stop`` when done)."""
