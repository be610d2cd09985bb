"""Print/parse round trips: random valid ASTs survive ``format_source`` → ``parse_source``."""

from __future__ import annotations

import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aro.lang import format_expression, format_source, parse_expression, parse_source
from aro.lang.ast import (
    Aggregation,
    AroStatement,
    Binary,
    Break,
    Clauses,
    Exists,
    FeatureSet,
    ForEach,
    Import,
    Index,
    Interpolation,
    ListLiteral,
    Literal,
    MapLiteral,
    MatchCase,
    MatchStatement,
    Member,
    Noun,
    ObjectExpr,
    ObjectNoun,
    Pipeline,
    PublishStatement,
    RangeLoop,
    RegexLiteral,
    RequireStatement,
    ResultNoun,
    SinkResult,
    SourceFile,
    TypeCheck,
    Unary,
    VarRef,
    WhereClause,
    WhileLoop,
)
from aro.lang.tokens import ARTICLES, KEYWORDS, PREPOSITIONS

RESERVED = KEYWORDS | ARTICLES | PREPOSITIONS
SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# -- names --------------------------------------------------------------------------------------


def _word(first: str, rest: str) -> st.SearchStrategy[str]:
    word = st.tuples(st.sampled_from(first), st.text(rest, max_size=5)).map("".join)
    return word.filter(lambda w: w.lower() not in RESERVED)


lower_words = _word(string.ascii_lowercase, string.ascii_lowercase + string.digits)
capital_words = _word(string.ascii_uppercase, string.ascii_letters + string.digits)
plain_words = st.one_of(lower_words, capital_words)
compounds = st.lists(plain_words, min_size=1, max_size=3).map("-".join)
noun_words = st.one_of(plain_words, st.sampled_from(["error", "the", "when", "exists", "case"]))
noun_bases = st.one_of(
    compounds, st.lists(noun_words, min_size=1, max_size=3).map("-".join)
)
verbs = st.one_of(
    capital_words,
    st.sampled_from(["Extract", "Compute", "Return", "Application.DoubleValue", "Markdown.ToHTML"]),
)
SINK_VERBS = ["Log", "Print", "Output", "Debug", "Write", "Send", "Dispatch"]
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
# Inside '${...}' only raw strings exist, which cannot hold a backslash or a line break.
raw_texts = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\\\n\r"), max_size=8
)

# -- nouns --------------------------------------------------------------------------------------

numeric_specs = st.one_of(
    st.integers(0, 99).map(str),
    st.tuples(st.integers(0, 9), st.integers(1, 99)).map(lambda p: f"{p[0]}-{p[1]}"),
    st.lists(st.integers(0, 99), min_size=2, max_size=4).map(lambda xs: ",".join(map(str, xs))),
)
date_offsets = st.tuples(
    st.sampled_from("+-"), st.integers(1, 99), st.sampled_from(["s", "h", "d", "w", "M", "days"])
).map(lambda t: f"{t[0]}{t[1]}{t[2]}")
generics = st.one_of(
    capital_words.map(lambda t: f"List<{t}>"),
    st.tuples(capital_words, capital_words).map(lambda t: f"Map<{t[0]}, {t[1]}>"),
)


def _nouns(string_texts: st.SearchStrategy[str]) -> st.SearchStrategy[Noun]:
    dotted = st.lists(plain_words, min_size=1, max_size=3).map(tuple)
    path = st.tuples(compounds, lower_words, lower_words).map(lambda t: (f"{t[0]}/{t[1]}", t[2]))
    single = st.one_of(numeric_specs, date_offsets, generics).map(lambda s: (s,))
    qualifier = st.lists(plain_words, min_size=1, max_size=2).map(".".join)
    return st.one_of(
        st.builds(Noun, noun_bases),
        st.builds(Noun, noun_bases, st.one_of(dotted, path, single)),
        st.builds(Noun, noun_bases, string_texts.map(lambda s: (s,)), st.just(True)),
        st.builds(
            Noun,
            noun_bases,
            qualifier.map(lambda q: (q,)),
            st.just(False),
            st.lists(qualifier, min_size=1, max_size=2).map(tuple),
        ),
    )


nouns = _nouns(texts)
simple_nouns = st.builds(Noun, compounds)

# -- expressions --------------------------------------------------------------------------------

BINARY_OPS = [
    "or", "and", "==", "!=", "<", ">", "<=", ">=", "+", "-", "++", "*", "/", "%",
    "contains", "matches", "in", "not in",
]
regex_patterns = st.lists(
    st.sampled_from(["a", "b", "1", ".", "+", "*", "?", "[a-z]", "\\d", "\\/", "(x)", "|", "^"]),
    min_size=1,
    max_size=5,
).map("".join)
regexes = st.builds(RegexLiteral, regex_patterns, st.sampled_from(["", "i", "gi", "ms"]))
scalar_literals = st.one_of(
    st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
    st.booleans(),
    st.none(),
).map(Literal)
type_names = st.one_of(capital_words, st.sampled_from(["true", "false", "null"]))

# What may appear inside '${...}': no double-quoted strings, regexes or nested templates.
template_safe = st.recursive(
    st.one_of(
        st.builds(VarRef, _nouns(raw_texts)),
        st.integers(-1000, 1000).map(Literal),
        raw_texts.map(Literal),
    ),
    lambda inner: st.one_of(
        st.builds(Binary, st.sampled_from(["+", "-", "*", "++", "=="]), inner, inner),
        st.builds(Member, inner, lower_words),
    ),
    max_leaves=4,
)


def _interpolation_parts(draw_parts: list[object]) -> tuple[object, ...]:
    """Canonical parts: no empty or adjacent strings, at least one expression."""
    parts: list[object] = []
    for part in draw_parts:
        if isinstance(part, str):
            if not part:
                continue
            if parts and isinstance(parts[-1], str):
                parts[-1] += part
                continue
        parts.append(part)
    return tuple(parts)


interpolations = (
    st.lists(st.one_of(texts, template_safe), min_size=1, max_size=4)
    .map(_interpolation_parts)
    .filter(lambda parts: any(not isinstance(p, str) for p in parts))
    .map(Interpolation)
)

leaves = st.one_of(scalar_literals, st.builds(VarRef, nouns), regexes, interpolations)


def _extend(inner: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(
        st.builds(Binary, st.sampled_from(BINARY_OPS), inner, inner),
        st.builds(Unary, st.sampled_from(["-", "not"]), inner),
        st.builds(TypeCheck, inner, type_names, st.booleans()),
        st.builds(Member, inner, lower_words),
        st.builds(Index, inner, inner),
        st.builds(Exists, inner),
        st.lists(inner, max_size=3).map(lambda xs: ListLiteral(tuple(xs))),
        st.lists(st.tuples(texts, inner), max_size=3).map(lambda es: MapLiteral(tuple(es))),
    )


expressions = st.recursive(leaves, _extend, max_leaves=5)


def _starts_sink_expression(expr: object) -> bool:
    text = format_expression(expr)
    return text[0] in "\"'<[{0123456789" or re.match(r"-\d", text) is not None


sink_expressions = expressions.filter(_starts_sink_expression)

# -- statements ---------------------------------------------------------------------------------

articles = st.sampled_from([None, "the", "a", "an"])
as_types = st.one_of(st.none(), capital_words, generics)
aggregations = st.builds(
    Aggregation, st.sampled_from(["sum", "count", "avg", "min", "max"]), st.none() | compounds
)
WHERE_OPS = [
    "is", "is not", "=", "==", "!=", "<", "<=", ">", ">=", "contains", "matches", "in",
    "not in", "starts-with", "ends-with",
]
by_values = st.one_of(regexes, texts.map(Literal), st.builds(VarRef, simple_nouns))
optional = st.none().__or__
clauses = st.builds(
    Clauses,
    optional(st.one_of(aggregations, expressions)),
    optional(expressions),
    optional(st.builds(WhereClause, compounds, st.sampled_from(WHERE_OPS), expressions)),
    optional(by_values),
    optional(expressions),
    optional(expressions),
)


@st.composite
def objects(draw: st.DrawFn, preposition: str) -> ObjectNoun | ObjectExpr:
    """An object that the article-decides rule reads back the same way."""
    expression_allowed = preposition in ("to", "from", "with", "for")
    choice = draw(st.integers(0, 2 if expression_allowed else 1))
    if choice == 0:
        return ObjectNoun(Noun(draw(compounds)), draw(articles), bare=True)
    if choice == 1:
        article = draw(articles)
        noun = draw(nouns)
        if article is None and expression_allowed:
            # Without an article only the '<ident: spec>' form is an object noun.
            noun = Noun(draw(plain_words), draw(st.lists(lower_words, min_size=1).map(tuple)))
        return ObjectNoun(noun, article)
    unit = None
    if preposition in ("with", "for"):
        unit = draw(st.sampled_from([None, "seconds", "ms", "minutes", "h", "second"]))
    return ObjectExpr(draw(expressions), unit)


@st.composite
def aro_statements(draw: st.DrawFn) -> AroStatement:
    if draw(st.booleans()):
        verb = draw(st.sampled_from(SINK_VERBS))
        if draw(st.booleans()):
            result = SinkResult(draw(sink_expressions))
        else:
            # A sink verb reads '<x>' without an article as an expression.
            result = ResultNoun(draw(nouns), draw(st.sampled_from(["the", "a"])), draw(as_types))
    else:
        verb = draw(verbs.filter(lambda v: v.lower() not in {s.lower() for s in SINK_VERBS}))
        result = ResultNoun(draw(nouns), draw(articles), draw(as_types))
    preposition = draw(st.sampled_from(sorted(PREPOSITIONS)))
    obj = draw(objects(preposition))
    return AroStatement(verb, result, preposition, obj, draw(clauses), draw(st.booleans()))


def _statements(depth: int) -> st.SearchStrategy[object]:
    simple = st.one_of(
        aro_statements(),
        st.lists(aro_statements(), min_size=2, max_size=3).map(lambda s: Pipeline(tuple(s))),
        st.just(Break()),
        st.builds(PublishStatement, compounds, compounds),
        st.builds(RequireStatement, compounds, compounds),
    )
    if depth == 0:
        return simple
    body = st.lists(_statements(depth - 1), max_size=2).map(tuple)
    patterns = st.one_of(st.none(), scalar_literals, regexes, st.builds(VarRef, nouns))
    cases = st.builds(MatchCase, patterns, body, optional(expressions))
    return st.one_of(
        simple,
        st.builds(
            MatchStatement, nouns, st.lists(cases, max_size=3).map(tuple), optional(body)
        ),
        st.builds(
            lambda item, coll, b, index, parallel, limit, where: ForEach(
                item, coll, b, index, parallel, limit if parallel else None, where
            ),
            compounds, nouns, body, optional(compounds), st.booleans(),
            optional(st.integers(1, 64)), optional(expressions),
        ),
        st.builds(RangeLoop, compounds, expressions, expressions, body),
        st.builds(WhileLoop, expressions, body),
    )


statements = _statements(1)

suffixes = st.one_of(
    lower_words.map(lambda w: f"<{w}>"),
    st.tuples(lower_words, st.lists(lower_words, min_size=1, max_size=3)).map(
        lambda t: f"<{t[0]}:{','.join(t[1])}>"
    ),
)
name_words = st.one_of(
    st.tuples(compounds, st.one_of(st.just(""), suffixes)).map("".join),
    st.sampled_from(["Error", "match", "Else"]),
)
header_names = st.lists(name_words, min_size=1, max_size=3).map(" ".join).filter(
    lambda name: not name.startswith("Action takes<")
)
takes = st.one_of(
    st.just(()),
    st.tuples(compounds, optional(capital_words)).map(lambda pair: (pair,)),
)


@st.composite
def feature_sets(draw: st.DrawFn) -> FeatureSet:
    field_types = draw(takes)
    activity = "Action" if field_types else draw(header_names)
    return FeatureSet(
        draw(header_names),
        activity,
        draw(st.lists(statements, max_size=3).map(tuple)),
        draw(optional(expressions)),
        field_types,
    )


imports = st.tuples(
    st.sampled_from(["./", "../", "../../"]), st.lists(compounds, min_size=1, max_size=2)
).map(lambda t: Import(t[0] + "/".join(t[1])))

source_files = st.builds(
    SourceFile,
    st.just("<string>"),
    st.lists(feature_sets(), max_size=2).map(tuple),
    st.lists(imports, max_size=2).map(tuple),
)

# -- properties ---------------------------------------------------------------------------------


@SETTINGS
@given(expressions)
def test_expressions_round_trip(expr: object) -> None:
    assert parse_expression(format_expression(expr)) == expr


@SETTINGS
@given(source_files)
def test_source_files_round_trip(source: SourceFile) -> None:
    text = format_source(source)
    parsed = parse_source(text)
    assert parsed == source, text
    assert format_source(parsed) == text
