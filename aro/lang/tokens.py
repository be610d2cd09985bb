"""Token kinds and the reserved-word tables of ARO (docs/semantics.md, Source text)."""

from __future__ import annotations

import enum
from typing import NamedTuple


class TokenKind(enum.Enum):
    IDENT = "identifier"
    KEYWORD = "keyword"
    ARTICLE = "article"
    PREPOSITION = "preposition"
    INT = "integer"
    FLOAT = "number"
    STRING = "string"
    TEMPLATE = "interpolated string"
    REGEX = "regex"
    PUNCT = "punctuation"
    ERROR = "invalid token"
    EOF = "end of file"


ARTICLES = frozenset({"a", "an", "the"})

PREPOSITIONS = frozenset({"from", "for", "against", "to", "into", "via", "with", "on", "at", "by"})

KEYWORDS = frozenset({
    "type", "in", "is", "not", "and", "or", "empty", "null", "nil", "none", "true", "false",
    "each", "where", "when", "match", "case", "otherwise", "if", "else", "while", "break",
    "parallel", "concurrency", "publish", "require", "import", "as", "error", "guard", "defer",
    "assert", "precondition", "exists", "defined", "contains", "matches", "then", "enum",
    "protocol",
})

# Reserved words that still work as words of feature-set names and activities.
NAME_KEYWORDS = frozenset({"error", "match", "case", "otherwise", "if", "else"})

# Reserved words that still work inside ``<...>`` (on top of NAME_KEYWORDS and the articles).
NOUN_KEYWORDS = NAME_KEYWORDS | {"when", "then", "exists"}

PUNCTUATION = (
    # Two-character operators first so that the longest match wins.
    "|>", "->", "=>", "::", "==", "!=", "<=", ">=", "++",
    "(", ")", "{", "}", "[", "]", "<", ">", ",", ";", "@", "?", ".", ":", "|", "=", "+", "-",
    "*", "/", "%",
)


# The lexer and the parser pass each token as a plain tuple in this layout, read by index:
# building a ``Token`` costs a second allocation and a copy per token, and an index read is
# cheaper than a NamedTuple field.  ``tokenize`` hands out ``Token``s (same fields, same order).
KIND, VALUE, TEXT, POS, END, LINE, COL = range(7)
LexedToken = tuple  # (kind, value, text, pos, end, line, col)


def describe(token: LexedToken) -> str:
    """How a diagnostic names ``token`` (``'Log'``, ``reserved word 'type'``, ...)."""
    kind, text = token[KIND], token[TEXT]
    if kind is TokenKind.EOF:
        return token[VALUE] or "end of file"
    if kind is TokenKind.KEYWORD:
        return f"reserved word '{text}'"
    if kind is TokenKind.ARTICLE or kind is TokenKind.PREPOSITION:
        return f"{kind.value} '{text}'"
    text = text.split("\n", 1)[0]
    if len(text) > 24:
        text = text[:24] + "…"
    return f"'{text}'"


class Token(NamedTuple):
    """One lexeme, as ``tokenize`` hands it out.

    ``value`` depends on the kind: the lower-cased word for keywords, articles and prepositions,
    the symbol for punctuation, the number for INT/FLOAT, the decoded text for STRING,
    ``(pattern, flags)`` for REGEX, and for TEMPLATE a tuple of parts, each a ``str`` or a list
    of tokens (the lexed ``${...}`` content, ending with EOF).  ``text`` is the source lexeme and
    ``pos``/``end`` its offsets, which the parser uses to detect adjacency (``${a-b}``).

    The fields are those of a ``LexedToken``, in the same order.
    """

    kind: TokenKind
    value: object
    text: str
    pos: int
    end: int
    line: int
    col: int

    def is_punct(self, symbol: str) -> bool:
        return self.kind is TokenKind.PUNCT and self.value == symbol

    def is_word(self, kind: TokenKind, word: str) -> bool:
        return self.kind is kind and self.value == word

    def describe(self) -> str:
        """How a diagnostic names this token (``'Log'``, ``reserved word 'type'``, ...)."""
        return describe(self)

    def __repr__(self) -> str:
        return f"Token({self.kind.name}, {self.value!r}, {self.line}:{self.col})"
