"""Lexer tests (docs/semantics.md, Source text)."""

from __future__ import annotations

import pytest

from aro.lang import lexer
from aro.lang.diagnostics import AroSyntaxError, DiagnosticSink
from aro.lang.lexer import is_identifier, tokenize
from aro.lang.tokens import Token, TokenKind


def lex(text: str) -> list[Token]:
    sink = DiagnosticSink(text, "t.aro")
    tokens = tokenize(text, sink)
    sink.raise_if_any()
    return tokens[:-1]


def kinds_values(text: str) -> list[tuple[str, object]]:
    return [(t.kind.name, t.value) for t in lex(text)]


def values(text: str) -> list[object]:
    return [t.value for t in lex(text)]


def lex_errors(text: str) -> list[str]:
    sink = DiagnosticSink(text, "t.aro")
    tokenize(text, sink)
    return [f"{d.span.line}:{d.span.col}: {d.message}" for d in sink.diagnostics]


# -- comments and whitespace --------------------------------------------------------------------


def test_block_comments_do_not_nest() -> None:
    assert values("a (* one (* two *) b *) c") == ["a", "b", "*", ")", "c"]


def test_line_comments_run_to_the_end_of_the_line() -> None:
    assert values("a // comment <x>\nb") == ["a", "b"]


def test_comment_markers_inside_strings_are_text() -> None:
    assert values('"(* not *) // kept"') == ["(* not *) // kept"]


def test_unterminated_block_comment_is_an_error() -> None:
    assert lex_errors("a (* open") == [
        "1:3: unterminated comment: expected '*)', found end of file"
    ]


def test_empty_input_gives_only_eof() -> None:
    sink = DiagnosticSink("", "t")
    tokens = tokenize("  \n\t ", sink)
    assert [t.kind for t in tokens] == [TokenKind.EOF]


# -- punctuation --------------------------------------------------------------------------------


def test_every_punctuation_token() -> None:
    text = "( ) { } [ ] < > , ; @ ? . : :: | |> -> => = == != <= >= + ++ - * / %"
    assert values(text) == text.split()
    assert {t.kind for t in lex(text)} == {TokenKind.PUNCT}


def test_longest_punctuation_wins_without_spaces() -> None:
    assert values("a|>b->c::d++e") == ["a", "|>", "b", "->", "c", "::", "d", "++", "e"]


def test_lone_bang_is_an_error() -> None:
    assert lex_errors("a ! b") == ["1:3: expected '!=', found unexpected character '!'"]


def test_unknown_character_is_reported_and_skipped() -> None:
    assert lex_errors("a # b $ c") == [
        "1:3: expected a word, literal or operator, found unexpected character '#'",
        "1:7: expected a word, literal or operator, found unexpected character '$'",
    ]


# -- identifiers and reserved words -------------------------------------------------------------


def test_identifiers_include_unicode_letters_and_underscores() -> None:
    assert kinds_values("_x user2 Größe") == [
        ("IDENT", "_x"), ("IDENT", "user2"), ("IDENT", "Größe"),
    ]


def test_hyphenated_names_are_separate_tokens() -> None:
    assert values("user-repository") == ["user", "-", "repository"]


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("the", "ARTICLE"), ("An", "ARTICLE"), ("A", "ARTICLE"),
        ("from", "PREPOSITION"), ("FOR", "PREPOSITION"), ("at", "PREPOSITION"),
        ("via", "PREPOSITION"), ("against", "PREPOSITION"),
        ("type", "KEYWORD"), ("Match", "KEYWORD"), ("WHILE", "KEYWORD"), ("none", "KEYWORD"),
        ("exists", "KEYWORD"), ("protocol", "KEYWORD"), ("Publish", "KEYWORD"),
        ("Extract", "IDENT"), ("default", "IDENT"), ("sum", "IDENT"),
    ],
)
def test_reserved_words_are_case_insensitive(word: str, kind: str) -> None:
    token = lex(word)[0]
    assert token.kind.name == kind
    assert token.text == word
    if kind != "IDENT":
        assert token.value == word.lower()


def test_is_identifier() -> None:
    assert is_identifier("abc_1") and is_identifier("Größe")
    assert not is_identifier("1a") and not is_identifier("¼") and not is_identifier("a-b")


# -- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("42", ("INT", 42)),
        ("1_000_000", ("INT", 1000000)),
        ("0xFF", ("INT", 255)),
        ("0x1_0", ("INT", 16)),
        ("0b1010", ("INT", 10)),
        ("3.14", ("FLOAT", 3.14)),
        ("1e3", ("FLOAT", 1000.0)),
        ("2.5E-3", ("FLOAT", 0.0025)),
        ("1_0.5_0", ("FLOAT", 10.5)),
        ("-7", ("INT", -7)),
        ("-2.5", ("FLOAT", -2.5)),
    ],
)
def test_number_literals(text: str, expected: tuple[str, object]) -> None:
    assert kinds_values(text) == [expected]


def test_floats_need_digits_on_both_sides_of_the_dot() -> None:
    assert kinds_values(".5") == [("PUNCT", "."), ("INT", 5)]
    assert kinds_values("5.") == [("INT", 5), ("PUNCT", ".")]


def test_minus_before_a_digit_is_part_of_the_number() -> None:
    assert values("5-3") == [5, -3]
    assert values("5 - 3") == [5, "-", 3]
    assert values("item-2") == ["item", -2]
    assert values("a -b") == ["a", "-", "b"]


def test_date_offset_lexes_as_number_then_unit() -> None:
    assert kinds_values("+7d") == [("PUNCT", "+"), ("INT", 7), ("IDENT", "d")]


# -- strings ------------------------------------------------------------------------------------


def test_string_escapes() -> None:
    assert values(r'"a\nb\rc\td\\e\"f\'g\0h\$i\u{1F600}"') == [
        "a\nb\rc\td\\e\"f'g\0h$i\U0001f600"
    ]


def test_invalid_escape_is_an_error() -> None:
    assert lex_errors(r'x "a\qb"') == [
        "1:5: expected an escape sequence (\\n \\r \\t \\\\ \\\" \\' \\0 \\$ \\u{...}), "
        "found '\\q'"
    ]


def test_invalid_unicode_escape_is_an_error() -> None:
    assert lex_errors(r'"\u{zz}"') == ["1:2: expected a unicode escape '\\u{HEX}', found '\\u'"]


def test_unterminated_string_is_an_error() -> None:
    assert lex_errors('Log "abc\nx') == [
        "1:5: unterminated string: expected '\"', found end of line"
    ]
    assert [t.kind for t in tokenize('"abc', DiagnosticSink('"abc', "t"))] == [
        TokenKind.ERROR, TokenKind.EOF,
    ]


def test_interpolation_parts_are_lexed_with_real_positions() -> None:
    (token,) = lex('  "Hi ${<name>}!"')
    assert token.kind is TokenKind.TEMPLATE
    text, inner, tail = token.value
    assert (text, tail) == ("Hi ", "!")
    assert [(t.value, t.col) for t in inner] == [("<", 9), ("name", 10), (">", 14), ("'}'", 15)]


def test_interpolation_braces_nest_and_raw_strings_may_hold_braces_and_quotes() -> None:
    (token,) = lex("\"${ {a: '}\"'} }\"")
    (inner,) = token.value
    assert [t.value for t in inner] == ["{", "a", ":", '}"', "}", "'}'"]


def test_dollar_without_brace_and_escaped_dollar_are_text() -> None:
    assert values(r'"$5 \${x}"') == ["$5 ${x}"]


def test_unterminated_interpolation_is_an_error() -> None:
    assert lex_errors('"${<a>" x') == ["1:7: unterminated interpolation: expected '}', found '\"'"]


def test_raw_strings_keep_backslashes() -> None:
    assert values(r"'C:\Users\n' 'it\'s'") == ["C:\\Users\\n", "it's"]
    assert lex("'${x}'")[0].kind is TokenKind.STRING


def test_multiline_string_strips_the_closing_indentation() -> None:
    text = 'x """\n        Hello,\n          World\t\\t\n\n        ${x}\n        """ y'
    assert values(text) == ["x", "Hello,\n  World\t\t\n\n${x}", "y"]


def test_multiline_string_drops_a_trailing_blank_line() -> None:
    assert values('"""\n  a\n\n  """') == ["a"]


def test_multiline_string_must_start_with_a_newline() -> None:
    assert lex_errors('"""abc"""') == [
        "1:4: expected a newline after the opening '\"\"\"', found 'a'"
    ]


def test_multiline_string_must_be_closed() -> None:
    assert lex_errors('x """\n abc') == [
        "1:3: unterminated multiline string: expected '\"\"\"', found end of file"
    ]


def test_multiline_closing_delimiter_on_its_own_line() -> None:
    assert lex_errors('"""\n  abc"""') == [
        "2:6: expected the closing '\"\"\"' on its own line, found 'abc' before it"
    ]


# -- regex literals -----------------------------------------------------------------------------


def test_regex_after_keyword_or_preposition() -> None:
    assert kinds_values(r"by /[;,\s]+/gi") == [
        ("PREPOSITION", "by"), ("REGEX", (r"[;,\s]+", "gi")),
    ]
    assert values(r"matches /a\/b/") == ["matches", ("a\\/b", "")]


def test_slash_after_identifier_or_dot_is_division_or_path() -> None:
    assert values("x /b/ c") == ["x", "/", "b", "/", "c"]
    assert values("the /b/ c") == ["the", ("b", ""), "c"]
    assert values("../x/y") == [".", ".", "/", "x", "/", "y"]


def test_slash_before_space_or_without_closing_slash_is_division() -> None:
    assert values("5 / 2") == [5, "/", 2]
    assert values("(/x\n/)") == ["(", "/", "x", "/", ")"]


def test_double_slash_is_always_a_comment() -> None:
    assert values("by //x/") == ["by"]


# -- positions and errors -----------------------------------------------------------------------


def test_token_positions_are_one_based_lines_and_columns() -> None:
    tokens = lex("(A-B: C) {\n\tLog <x>.\n}")
    assert [(t.text, t.line, t.col) for t in tokens][8:11] == [
        ("Log", 2, 2), ("<", 2, 6), ("x", 2, 7),
    ]


def test_all_lexical_errors_are_reported_together() -> None:
    with pytest.raises(AroSyntaxError) as info:
        lex('"a\\q" ! (* x')
    assert [d.span.col for d in info.value.diagnostics] == [3, 7, 9]


def test_tokenize_hands_out_the_parser_s_plain_tuples_as_tokens() -> None:
    text = 'Log "a ${<b> + 1} c" to the <console>.'
    plain = lexer.lex(text, DiagnosticSink(text, "t"))
    tokens = tokenize(text, DiagnosticSink(text, "t"))
    assert all(type(t) is Token for t in tokens) and all(type(t) is tuple for t in plain)
    assert tokens == plain  # the same fields in the same order, template parts included
    template = tokens[1]
    assert template.kind is TokenKind.TEMPLATE
    inner = template.value[1]
    assert all(type(t) is Token for t in inner)
    assert [t.describe() for t in inner[:2]] == ["'<'", "'b'"]
