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


class Token(NamedTuple):
    """One lexeme.

    ``value`` depends on the kind: the lower-cased word for keywords, articles and prepositions,
    the symbol for punctuation, the number for INT/FLOAT, the decoded text for STRING,
    ``(pattern, flags)`` for REGEX, and for TEMPLATE a tuple of parts, each a ``str`` or a list
    of tokens (the lexed ``${...}`` content, ending with EOF).  ``text`` is the source lexeme and
    ``pos``/``end`` its offsets, which the parser uses to detect adjacency (``${a-b}``).

    A tuple because a file has a token every few characters: the lexer builds each with one
    ``tuple.__new__`` call, about half what a slotted class's ``__init__`` costs.
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
        if self.kind is TokenKind.EOF:
            return self.value or "end of file"
        if self.kind is TokenKind.KEYWORD:
            return f"reserved word '{self.text}'"
        if self.kind in (TokenKind.ARTICLE, TokenKind.PREPOSITION):
            return f"{self.kind.value} '{self.text}'"
        text = self.text.split("\n", 1)[0]
        if len(text) > 24:
            text = text[:24] + "…"
        return f"'{text}'"

    def __repr__(self) -> str:
        return f"Token({self.kind.name}, {self.value!r}, {self.line}:{self.col})"
