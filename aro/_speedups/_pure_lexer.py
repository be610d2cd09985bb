"""The lexer's common-token loop in pure Python: the twin of the compiled ``_lexer`` module.

``CommonScanner.scan`` lexes words, punctuation, plain integers and plain strings, with the
whitespace and ``//`` comments before them, and stops at the first token it cannot decide on
its own; ``aro.lang.lexer`` scans that one and calls it again.  Both builds append the same
tokens and stop at the same offset (tests/lang/test_common_scanner.py holds them to it).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable

__all__ = ["LEXER_IMPLEMENTATION", "CommonScanner"]

LEXER_IMPLEMENTATION = "pure"

# Characters whose single-character token needs context, so the scanner hands them over: '('
# may open a block comment '(*', '-' may start a negative number, '/' a regex literal.
CONTEXTUAL = frozenset("(-/")


def ascii_symbols(punctuation: Iterable[str]) -> tuple[list[str], list[str]]:
    """The two-character and the one-character symbols of ``punctuation``.

    Raises ``ValueError`` for a symbol the compiled scanner's tables cannot hold.
    """
    pairs, singles = [], []
    for symbol in punctuation:
        if not symbol.isascii() or len(symbol) not in (1, 2):
            raise ValueError(f"a punctuation symbol is one or two ASCII characters, not {symbol!r}")
        (pairs if len(symbol) == 2 else singles).append(symbol)
    return pairs, singles


def _common_token(punctuation: Iterable[str]) -> re.Pattern[str]:
    """One token the scanner decides alone, with the whitespace and line comments before it.

    Each alternative is one capturing group, numbered in this order (``_WORD`` ...).  Left out:
    '/' (a regex literal or a slash, depending on the previous token), '(*' (a block comment),
    '-' before a digit, numbers other than plain digits that nothing numeric follows, strings
    with escapes, '$' or a third quote, words starting with a letter beyond ASCII
    (``str.isalpha`` decides those; '\\w' also admits numeric characters such as '²'), and
    anything else.  The whitespace and comments are matched possessively: never given back
    to find a token inside them.
    """
    pairs, singles = ascii_symbols(punctuation)
    return re.compile(
        r"(?:\s+|//[^\n]*)*+(?:"
        r"([A-Za-z_]\w*)"
        r"|("
        + "".join(re.escape(p) + "|" for p in pairs)
        + r"\((?!\*)|-(?![0-9])|["
        + "".join(re.escape(p) for p in singles if p not in CONTEXTUAL)
        + "])"
        r"|([0-9]+(?![0-9_eExXbB]|\.[0-9]))"
        r"|(\"(?!\"\")[^\"\\$\n]*\"))"
    )


_WORD, _PUNCT, _INT = 1, 2, 3


class CommonScanner:
    """Scans the common tokens of ARO source into 7-tuples ``(kind, value, text, pos, end,
    line, col)``; the token kinds, the reserved words and the punctuation are the lexer's."""

    def __init__(
        self,
        reserved: dict[str, object],
        punctuation: Iterable[str],
        word_kind: object,
        punct_kind: object,
        int_kind: object,
        string_kind: object,
    ) -> None:
        self._match = _common_token(punctuation).scanner
        self._reserved = reserved
        self._kinds = (word_kind, punct_kind, int_kind, string_kind)

    def scan(self, text: str, pos: int, stop: int, tokens: list, line_starts: list[int]) -> int:
        """Append the tokens of ``text[pos:stop]`` up to the first one that needs the lexer's
        scanners; returns where that one's leading whitespace starts (``stop`` when done).

        ``line_starts`` holds the offset of each line of ``text`` (0 first).  The line is
        found by a bisection only when a token starts past the end of the previous token's
        line.
        """
        append, reserved = tokens.append, self._reserved.get
        word_kind, punct_kind, int_kind, string_kind = self._kinds
        line = line_start = 0
        next_line_start = -1  # the first token looks its line up
        # Each match starts where the previous one ended; the first token the regex does not
        # cover ends the loop (None).
        for match in iter(self._match(text, pos, stop).match, None):
            group = match.lastindex
            start, pos = match.span(group)
            if start >= next_line_start:
                line = bisect_right(line_starts, start)
                line_start = line_starts[line - 1]
                next_line_start = line_starts[line] if line < len(line_starts) else stop + 1
            lexeme = text[start:pos]
            if group == _WORD:
                lowered = lexeme.lower()
                kind = reserved(lowered)
                if kind is None:
                    kind, lowered = word_kind, lexeme
                token = (kind, lowered, lexeme, start, pos, line, start - line_start + 1)
            elif group == _PUNCT:
                token = (punct_kind, lexeme, lexeme, start, pos, line, start - line_start + 1)
            elif group == _INT:
                token = (int_kind, int(lexeme), lexeme, start, pos, line, start - line_start + 1)
            else:
                value = lexeme[1:-1]
                token = (string_kind, value, lexeme, start, pos, line, start - line_start + 1)
            append(token)
        return pos
