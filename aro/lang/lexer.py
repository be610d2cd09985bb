"""The ARO lexer (docs/semantics.md, Source text).

Lexical errors are reported to a ``DiagnosticSink`` and lexing goes on, so that one run reports
every error of a file; a malformed string or comment becomes an ERROR token that the parser skips
quietly.  Interpolated strings become one TEMPLATE token whose ``${...}`` parts are lexed here,
with their real source positions, and parsed later as expressions.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from aro._speedups import CommonScanner
from aro.lang.diagnostics import DiagnosticSink
from aro.lang.tokens import (
    ARTICLES,
    KEYWORDS,
    KIND,
    PREPOSITIONS,
    PUNCTUATION,
    VALUE,
    LexedToken,
    Token,
    TokenKind,
)

_WHITESPACE = re.compile(r"\s+")
_IDENTIFIER = re.compile(r"\w+")
_DECIMAL = re.compile(r"-?[0-9][0-9_]*(\.[0-9][0-9_]*)?([eE][+-]?[0-9][0-9_]*)?")
_HEX = re.compile(r"0[xX][0-9a-fA-F][0-9a-fA-F_]*")
_BINARY = re.compile(r"0[bB][01][01_]*")
_STRING_CHUNK = re.compile(r"[^\"\\$\n]*")
_RAW_CHUNK = re.compile(r"[^'\\\n]*")
_REGEX_FLAGS = re.compile(r"[ismg]*")
_UNICODE_ESCAPE = re.compile(r"\\u\{([0-9a-fA-F]{1,8})\}")

_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "'": "'", "0": "\0", "$": "$"}
_TWO_CHAR_PUNCT = frozenset(p for p in PUNCTUATION if len(p) == 2)
_ONE_CHAR_PUNCT = frozenset(p for p in PUNCTUATION if len(p) == 1)

IDENT, PUNCT, INT, STRING = TokenKind.IDENT, TokenKind.PUNCT, TokenKind.INT, TokenKind.STRING
_RESERVED_WORDS = {
    **{word: TokenKind.PREPOSITION for word in PREPOSITIONS},
    **{word: TokenKind.ARTICLE for word in ARTICLES},
    **{word: TokenKind.KEYWORD for word in KEYWORDS},
}

# The common tokens (words, punctuation, plain integers and strings, with the whitespace and
# line comments before them) come from a kernel, compiled where it was built.
_COMMON_TOKENS = CommonScanner(_RESERVED_WORDS, PUNCTUATION, IDENT, PUNCT, INT, STRING)
_as_token = tuple.__new__


def is_identifier(text: str) -> bool:
    """Whether ``text`` lexes as one identifier-shaped word (reserved or not)."""
    return bool(text) and _starts_word(text[0]) and _IDENTIFIER.fullmatch(text) is not None


def tokenize(text: str, sink: DiagnosticSink) -> list[Token]:
    """Lex a whole source text; the list always ends with an EOF token."""
    return _as_tokens(lex(text, sink))


def lex(text: str, sink: DiagnosticSink) -> list[LexedToken]:
    """``tokenize`` for the parser: each token a plain tuple (``aro.lang.tokens.KIND`` ...)."""
    return Lexer(text, sink).tokenize()


def _as_tokens(lexed: list[LexedToken]) -> list[Token]:
    """The public form of lexed tokens, those inside interpolated strings included."""
    tokens = []
    for token in lexed:
        if token[KIND] is TokenKind.TEMPLATE:
            parts = tuple(p if isinstance(p, str) else _as_tokens(p) for p in token[VALUE])
            token = (token[KIND], parts, *token[VALUE + 1 :])
        tokens.append(_as_token(Token, token))
    return tokens


class Lexer:
    """Lexes ``text[start:stop]``; positions are always those of the whole text."""

    def __init__(
        self,
        text: str,
        sink: DiagnosticSink,
        start: int = 0,
        stop: int | None = None,
        line_starts: list[int] | None = None,
    ) -> None:
        self.text = text
        self.sink = sink
        self.pos = start
        self.stop = len(text) if stop is None else stop
        self.line_starts = line_starts if line_starts is not None else _line_starts(text)
        self.tokens: list[LexedToken] = []

    # -- driver -------------------------------------------------------------------------------

    def tokenize(self) -> list[LexedToken]:
        """The common-token kernel lexes up to the first token that needs context or decoding;
        the scanners below take that one, and the kernel goes on after it."""
        text, stop, tokens, line_starts = self.text, self.stop, self.tokens, self.line_starts
        scan = _COMMON_TOKENS.scan
        pos = self.pos
        while pos < stop:
            pos = scan(text, pos, stop, tokens, line_starts)
            if pos < stop:
                self.pos = pos
                if self._skip_trivia():
                    self._scan_token()
                pos = self.pos
        self.pos = pos
        # The end of a '${...}' is its closing brace, which is what diagnostics should name.
        end = None if self.stop == len(self.text) else "'}'"
        self._add(TokenKind.EOF, end, self.stop, self.stop)
        return self.tokens

    def _scan_token(self) -> None:
        text, pos = self.text, self.pos
        char = text[pos]
        following = text[pos + 1] if pos + 1 < self.stop else ""
        if _starts_word(char):
            self._scan_word()
        elif _is_digit(char) or (char == "-" and _is_digit(following)):
            self._scan_number()
        elif char == '"':
            if text.startswith('"""', pos):
                self._scan_multiline_string()
            else:
                self._scan_string()
        elif char == "'":
            self._scan_raw_string()
        elif char == "/" and self._regex_allowed(following):
            self._scan_regex_or_slash()
        elif char + following in _TWO_CHAR_PUNCT:
            self._add(TokenKind.PUNCT, char + following, pos, pos + 2)
        elif char in _ONE_CHAR_PUNCT:
            self._add(TokenKind.PUNCT, char, pos, pos + 1)
        else:
            expected = "'!='" if char == "!" else "a word, literal or operator"
            self._error(f"expected {expected}, found unexpected character '{char}'", pos)
            self.pos = pos + 1

    def _skip_trivia(self) -> bool:
        """Skip whitespace and comments; False at the end of the input."""
        text, stop = self.text, self.stop
        while self.pos < stop:
            match = _WHITESPACE.match(text, self.pos, stop)
            if match:
                self.pos = match.end()
            elif text.startswith("(*", self.pos):
                self._skip_block_comment()
            elif text.startswith("//", self.pos):
                newline = text.find("\n", self.pos, stop)
                self.pos = stop if newline < 0 else newline
            else:
                return True
        return False

    def _skip_block_comment(self) -> None:
        # Block comments do not nest: the first '*)' ends the comment.
        close = self.text.find("*)", self.pos + 2, self.stop)
        if close < 0:
            self._error("unterminated comment: expected '*)', found end of file", self.pos)
            self.pos = self.stop
        else:
            self.pos = close + 2

    # -- words and numbers --------------------------------------------------------------------

    def _scan_word(self) -> None:
        match = _IDENTIFIER.match(self.text, self.pos, self.stop)
        word = match.group()
        lowered = word.lower()
        if lowered in KEYWORDS:
            kind = TokenKind.KEYWORD
        elif lowered in ARTICLES:
            kind = TokenKind.ARTICLE
        elif lowered in PREPOSITIONS:
            kind = TokenKind.PREPOSITION
        else:
            kind, lowered = TokenKind.IDENT, word
        self._add(kind, lowered, self.pos, match.end())

    def _scan_number(self) -> None:
        text, pos, stop = self.text, self.pos, self.stop
        match = _HEX.match(text, pos, stop) or _BINARY.match(text, pos, stop)
        if match:
            digits = match.group()[2:].replace("_", "")
            value: int | float = int(digits, 16 if match.group()[1] in "xX" else 2)
            self._add(TokenKind.INT, value, pos, match.end())
            return
        match = _DECIMAL.match(text, pos, stop)
        literal = match.group().replace("_", "")
        if match.group(1) or match.group(2):
            self._add(TokenKind.FLOAT, float(literal), pos, match.end())
        else:
            self._add(TokenKind.INT, int(literal), pos, match.end())

    # -- strings ------------------------------------------------------------------------------

    def _scan_string(self) -> None:
        """A ``"..."`` string, possibly with ``${...}`` interpolations."""
        text, start, stop = self.text, self.pos, self.stop
        pos = start + 1
        parts: list[object] = []
        buffer: list[str] = []
        while True:
            chunk = _STRING_CHUNK.match(text, pos, stop)
            buffer.append(chunk.group())
            pos = chunk.end()
            if pos >= stop or text[pos] == "\n":
                self._unterminated_string(start, pos)
                return
            char = text[pos]
            if char == '"':
                pos += 1
                break
            if char == "\\":
                pos = self._decode_escape(pos, buffer)
            elif text.startswith("${", pos):
                content_end = self._interpolation_end(start, pos + 2)
                if content_end < 0:
                    return
                parts.append("".join(buffer))
                buffer = []
                parts.append(self._lex_interpolation(pos + 2, content_end))
                pos = content_end + 1
            else:
                buffer.append("$")
                pos += 1
        parts.append("".join(buffer))
        if len(parts) == 1:
            self._add(TokenKind.STRING, parts[0], start, pos)
        else:
            self._add(TokenKind.TEMPLATE, tuple(p for p in parts if p != ""), start, pos)

    def _decode_escape(self, pos: int, buffer: list[str]) -> int:
        """Decode the escape at ``text[pos] == '\\'``; returns the position after it."""
        escaped = self.text[pos + 1] if pos + 1 < self.stop else ""
        if escaped in _ESCAPES:
            buffer.append(_ESCAPES[escaped])
            return pos + 2
        if escaped == "u":
            return self._decode_unicode_escape(pos, buffer)
        if escaped in ("", "\n"):
            return pos + 1  # the caller reports the unterminated string
        self._error(
            f"expected an escape sequence (\\n \\r \\t \\\\ \\\" \\' \\0 \\$ \\u{{...}}), "
            f"found '\\{escaped}'",
            pos,
        )
        return pos + 2

    def _decode_unicode_escape(self, pos: int, buffer: list[str]) -> int:
        match = _UNICODE_ESCAPE.match(self.text, pos, self.stop)
        code = int(match.group(1), 16) if match else -1
        if not 0 <= code <= 0x10FFFF:
            self._error("expected a unicode escape '\\u{HEX}', found '\\u'", pos)
            return pos + 2
        buffer.append(chr(code))
        return match.end()

    def _interpolation_end(self, string_start: int, pos: int) -> int:
        """Offset of the '}' closing an interpolation whose content starts at ``pos``.

        Braces nest and ``'...'`` regions may hold any character but a newline; a '"' or a
        newline outside such a region means the interpolation was not closed (-1, reported).
        """
        text, stop = self.text, self.stop
        depth, in_quote = 1, False
        while pos < stop and text[pos] != "\n":
            char = text[pos]
            if in_quote:
                if char == "\\" and text[pos + 1 : pos + 2] not in ("", "\n"):
                    pos += 1
                elif char == "'":
                    in_quote = False
            elif char == "'":
                in_quote = True
            elif char == '"':
                break
            elif char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return pos
            pos += 1
        self._error(
            f"unterminated interpolation: expected '}}', found {_describe_char(text, pos, stop)}",
            pos,
        )
        self._skip_rest_of_string(string_start, pos)
        return -1

    def _lex_interpolation(self, start: int, stop: int) -> list[LexedToken]:
        return Lexer(self.text, self.sink, start, stop, self.line_starts).tokenize()

    def _scan_raw_string(self) -> None:
        """A ``'...'`` string: no escapes except ``\\'``, no interpolation."""
        text, start, stop = self.text, self.pos, self.stop
        pos = start + 1
        buffer: list[str] = []
        while True:
            chunk = _RAW_CHUNK.match(text, pos, stop)
            buffer.append(chunk.group())
            pos = chunk.end()
            if pos >= stop or text[pos] == "\n":
                self._unterminated_string(start, pos)
                return
            if text[pos] == "'":
                break
            if text.startswith("\\'", pos):
                buffer.append("'")
                pos += 2
            else:
                buffer.append("\\")
                pos += 1
        self._add(TokenKind.STRING, "".join(buffer), start, pos + 1)

    def _scan_multiline_string(self) -> None:
        """A ``\"\"\"`` block: escapes processed, no interpolation, closing indent stripped."""
        text, start, stop = self.text, self.pos, self.stop
        pos = start + 3
        while pos < stop and text[pos] in " \t\r":
            pos += 1
        if pos >= stop or text[pos] != "\n":
            self._error(
                "expected a newline after the opening '\"\"\"', "
                f"found {_describe_char(text, pos, stop)}",
                pos,
            )
            self._skip_rest_of_string(start, pos)
            return
        lines: list[str] = []
        buffer: list[str] = []
        line_start = pos = pos + 1
        while pos < stop:
            char = text[pos]
            if char == "\n":
                lines.append("".join(buffer).rstrip("\r"))
                buffer = []
                line_start = pos = pos + 1
            elif text.startswith('"""', pos):
                indent = text[line_start:pos]
                if indent.strip():
                    self._error(
                        "expected the closing '\"\"\"' on its own line, "
                        f"found '{indent.strip()[:24]}' before it",
                        pos,
                    )
                self._add(TokenKind.STRING, _dedent(lines, indent), start, pos + 3)
                return
            elif char == "\\":
                pos = self._decode_escape(pos, buffer)
            else:
                buffer.append(char)
                pos += 1
        self._error(
            "unterminated multiline string: expected '\"\"\"', found end of file", start
        )
        self._add(TokenKind.ERROR, None, start, stop)
        self.pos = stop

    def _unterminated_string(self, start: int, pos: int) -> None:
        quote = self.text[start]
        self._error(
            f"unterminated string: expected '{quote}', "
            f"found {_describe_char(self.text, pos, self.stop)}",
            start,
        )
        self._add(TokenKind.ERROR, None, start, pos)

    def _skip_rest_of_string(self, start: int, pos: int) -> None:
        end = self.text.find("\n", pos, self.stop)
        end = self.stop if end < 0 else end
        self._add(TokenKind.ERROR, None, start, end)

    # -- regex literals -----------------------------------------------------------------------

    def _regex_allowed(self, following: str) -> bool:
        """A '/' may open a regex unless it follows an identifier or '.' or precedes a space."""
        if following in ("", " ", "\t", "\n", "\r"):
            return False
        previous = self.tokens[-1] if self.tokens else None
        if previous is None:
            return True
        kind = previous[KIND]
        return kind is not TokenKind.IDENT and not (kind is PUNCT and previous[VALUE] == ".")

    def _scan_regex_or_slash(self) -> None:
        text, start, stop = self.text, self.pos, self.stop
        pos = start + 1
        while pos < stop and text[pos] != "\n":
            char = text[pos]
            if char == "\\" and pos + 1 < stop and text[pos + 1] != "\n":
                pos += 2
            elif char == "/":
                flags = _REGEX_FLAGS.match(text, pos + 1, stop)
                pattern = text[start + 1 : pos]
                self._add(TokenKind.REGEX, (pattern, flags.group()), start, flags.end())
                return
            else:
                pos += 1
        self._add(TokenKind.PUNCT, "/", start, start + 1)

    # -- helpers ------------------------------------------------------------------------------

    def _add(self, kind: TokenKind, value: object, start: int, end: int) -> None:
        line, col = self._line_col(start)
        self.tokens.append((kind, value, self.text[start:end], start, end, line, col))
        self.pos = end

    def _line_col(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1] + 1

    def _error(self, message: str, offset: int) -> None:
        line, col = self._line_col(offset)
        self.sink.error(message, line, col)


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _dedent(lines: list[str], indent: str) -> str:
    """Strip the closing delimiter's indentation from every line."""
    stripped = []
    for line in lines:
        if line.startswith(indent):
            stripped.append(line[len(indent) :])
        else:
            stripped.append("" if not line.strip() else line)
    if stripped and stripped[-1] == "":
        stripped.pop()
    return "\n".join(stripped)


def _starts_word(char: str) -> bool:
    return char.isalpha() or char == "_"


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _describe_char(text: str, pos: int, stop: int) -> str:
    if pos >= stop:
        return "end of file"
    if text[pos] == "\n":
        return "end of line"
    return f"'{text[pos]}'"
