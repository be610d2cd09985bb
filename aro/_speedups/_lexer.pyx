# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The lexer's common-token loop compiled: a character loop over the source ``str``.

``_pure_lexer.py`` is its behavioural twin (its regex is the specification this loop follows,
character class by character class) and the home of what the two share: the split of the
punctuation and the characters that need context.  tests/lang/test_common_scanner.py holds the
two to the same tokens and the same stopping offset.
"""

from cpython.unicode cimport (
    Py_UNICODE_ISALNUM,
    Py_UNICODE_ISSPACE,
    PyUnicode_DATA,
    PyUnicode_KIND,
    PyUnicode_READ,
)
from libc.string cimport memset

from aro._speedups._pure_lexer import CONTEXTUAL, __all__, ascii_symbols

LEXER_IMPLEMENTATION = "compiled"

# A run of more digits than this may not fit a C long long: int() converts it (and refuses
# what int() refuses).
cdef enum:
    MAX_C_DIGITS = 18


cdef inline bint is_digit(Py_UCS4 char):
    return "0" <= char <= "9"


cdef inline bint starts_word(Py_UCS4 char):
    """``[A-Za-z_]``"""
    return "a" <= char <= "z" or "A" <= char <= "Z" or char == "_"


cdef inline bint continues_word(Py_UCS4 char):
    """``\\w``: what ``str.isalnum`` accepts, and '_'."""
    if char < 128:
        return starts_word(char) or is_digit(char)
    return Py_UNICODE_ISALNUM(char)


cdef inline bint ends_plain_int(Py_UCS4 char):
    """Whether an integer's digits may stop before ``char`` (not ``[0-9_eExXbB]``)."""
    return not (is_digit(char) or char == "_" or char in "eExXbB")


cdef class CommonScanner:
    """Scans the common tokens of ARO source into 7-tuples ``(kind, value, text, pos, end,
    line, col)``; the token kinds, the reserved words and the punctuation are the lexer's."""

    cdef dict reserved
    cdef Py_ssize_t longest_reserved
    cdef object word_kind, punct_kind, int_kind, string_kind
    # Symbol strings by character code (None where there is none); a pair's entry is its
    # index in ``pairs`` plus one.
    cdef tuple singles
    cdef tuple pairs
    cdef unsigned char pair_index[128][128]

    def __init__(
        self, dict reserved, punctuation, word_kind, punct_kind, int_kind, string_kind
    ):
        two, one = ascii_symbols(punctuation)
        if len(two) > 255:
            raise ValueError("at most 255 two-character punctuation symbols")
        self.reserved = reserved
        self.longest_reserved = max(map(len, reserved), default=0)
        self.word_kind, self.punct_kind = word_kind, punct_kind
        self.int_kind, self.string_kind = int_kind, string_kind
        singles = [None] * 128
        for symbol in one:
            if symbol not in CONTEXTUAL:
                singles[ord(symbol)] = symbol
        self.singles = tuple(singles)
        self.pairs = tuple(two)
        memset(self.pair_index, 0, sizeof(self.pair_index))
        for index, symbol in enumerate(two):
            if not self.pair_index[ord(symbol[0])][ord(symbol[1])]:  # the first one wins
                self.pair_index[ord(symbol[0])][ord(symbol[1])] = index + 1

    def scan(self, str text, Py_ssize_t pos, Py_ssize_t stop, list tokens, list line_starts):
        """Append the tokens of ``text[pos:stop]`` up to the first one that needs the lexer's
        scanners; returns where that one's leading whitespace starts (``stop`` when done).

        ``line_starts`` holds the offset of each line of ``text`` (0 first): looked up once,
        then every newline of the whitespace counts a line.
        """
        cdef int kind = PyUnicode_KIND(text)
        cdef void *data = PyUnicode_DATA(text)
        cdef Py_ssize_t i, start, line, line_start
        cdef Py_UCS4 char, following
        cdef unsigned char pair
        cdef bint lower_case, only_ascii
        cdef long long number
        cdef object line_number
        stop = min(stop, len(text))
        line = line_after(line_starts, pos)
        line_start = line_starts[line - 1]
        line_number = line  # one int object for every token of a line
        while True:
            i = pos
            while i < stop:  # whitespace and '//' comments, possessively
                char = PyUnicode_READ(kind, data, i)
                if char == "\n":
                    i += 1
                    line += 1
                    line_number = line
                    line_start = i
                elif char == "/" and i + 1 < stop and PyUnicode_READ(kind, data, i + 1) == "/":
                    i += 2
                    while i < stop and PyUnicode_READ(kind, data, i) != "\n":
                        i += 1
                elif Py_UNICODE_ISSPACE(char):
                    i += 1
                else:
                    break
            if i >= stop:
                return pos
            start = i
            char = PyUnicode_READ(kind, data, i)
            following = PyUnicode_READ(kind, data, i + 1) if i + 1 < stop else 0
            if starts_word(char):
                lower_case = not ("A" <= char <= "Z")
                only_ascii = True
                i += 1
                while i < stop:
                    char = PyUnicode_READ(kind, data, i)
                    if not continues_word(char):
                        break
                    if "A" <= char <= "Z":
                        lower_case = False
                    elif char >= 128:
                        only_ascii = False
                    i += 1
                lexeme = text[start:i]
                reserved_kind = None
                lowered = lexeme
                if i - start <= self.longest_reserved or not only_ascii:
                    if not (lower_case and only_ascii):
                        lowered = lexeme.lower()
                    reserved_kind = self.reserved.get(lowered)
                if reserved_kind is None:
                    token = (self.word_kind, lexeme, lexeme, start, i, line_number, start - line_start + 1)
                else:
                    token = (reserved_kind, lowered, lexeme, start, i, line_number, start - line_start + 1)
            elif is_digit(char):
                number = 0
                while i < stop:
                    char = PyUnicode_READ(kind, data, i)
                    if not is_digit(char):
                        break
                    number = number * 10 + (<long long>char - 48)  # 48: the code of "0"
                    i += 1
                if i < stop:
                    char = PyUnicode_READ(kind, data, i)
                    if not ends_plain_int(char):
                        return pos
                    if (char == "." and i + 1 < stop
                            and is_digit(PyUnicode_READ(kind, data, i + 1))):
                        return pos
                lexeme = text[start:i]
                value = number if i - start <= MAX_C_DIGITS else int(lexeme)
                token = (self.int_kind, value, lexeme, start, i, line_number, start - line_start + 1)
            elif char == '"':
                if following == '"' and i + 2 < stop and PyUnicode_READ(kind, data, i + 2) == '"':
                    return pos  # a multiline string
                i += 1
                while i < stop:
                    char = PyUnicode_READ(kind, data, i)
                    if char == '"' or char == "\\" or char == "$" or char == "\n":
                        break
                    i += 1
                if i >= stop or char != '"':
                    return pos  # an escape, an interpolation or no closing quote
                i += 1
                lexeme = text[start:i]
                value = text[start + 1 : i - 1]
                token = (self.string_kind, value, lexeme, start, i, line_number, start - line_start + 1)
            elif char < 128:
                pair = self.pair_index[char][following] if following < 128 else 0
                if pair:
                    symbol = self.pairs[pair - 1]
                    i += 2
                elif char == "(" and following != "*" or char == "-" and not is_digit(following):
                    symbol = text[start : i + 1]
                    i += 1
                else:
                    symbol = self.singles[<Py_ssize_t>char]
                    if symbol is None:
                        return pos  # '/', '(*', '-' before a digit, or not a symbol
                    i += 1
                token = (self.punct_kind, symbol, symbol, start, i, line_number, start - line_start + 1)
            else:
                return pos
            tokens.append(token)
            pos = i


cdef Py_ssize_t line_after(list line_starts, Py_ssize_t offset) except -1:
    """``bisect_right(line_starts, offset)``: the 1-based line holding ``offset``."""
    cdef Py_ssize_t low = 0, high = len(line_starts), middle
    while low < high:
        middle = (low + high) // 2
        if offset < <Py_ssize_t>line_starts[middle]:
            high = middle
        else:
            low = middle + 1
    return low
