"""ARO abstract syntax tree.

The parser produces these nodes and the compiler consumes them; the printer turns them back into
source.  Nodes are dataclasses compared by value so that two parses of equivalent programs
compare equal (the bracketed and bare verb spellings, print/parse round trips).  Positions live
in ``Span`` and are excluded from equality.

Nodes are never changed after the parser builds them (``dataclasses.replace`` makes a changed
copy), but they are not ``frozen``: a frozen dataclass sets each field through
``object.__setattr__``, which made building the tree about a third of compiling a program.
They stay hashable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# Every node: slots, compared and hashed by value.
node = dataclass(slots=True, unsafe_hash=True)


class Span(NamedTuple):
    """A source position: 1-based line and column.  A tuple: the parser makes one per node,
    with one ``tuple.__new__`` call."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_SPAN = Span("<unknown>", 0, 0)


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------------------------------------
# Qualified nouns: <base: spec1.spec2 | q1 | q2>


@node
class Noun:
    """``<base: specifiers>``.

    ``base`` is the compound identifier (``user-repository``).  ``specifiers`` is the specifier
    text split on ``.`` (kept whole for paths, URLs and string specifiers).  ``is_string_spec``
    records that the specifier was written as a string literal (``<file: "./a.json">``).
    ``qualifiers`` holds a ``|`` chain of plugin qualifiers after the first specifier.
    """

    base: str
    specifiers: tuple[str, ...] = ()
    is_string_spec: bool = False
    qualifiers: tuple[str, ...] = ()
    span: Span = _span()


# ---------------------------------------------------------------------------------------------
# Expressions


@node
class Literal:
    """str, int, float, bool or None (null/nil/none)."""

    value: object
    span: Span = _span()


@node
class Interpolation:
    """A ``"…${expr}…"`` string: parts are str or expression nodes."""

    parts: tuple[object, ...]
    span: Span = _span()


@node
class RegexLiteral:
    pattern: str
    flags: str = ""
    span: Span = _span()


@node
class ListLiteral:
    items: tuple[object, ...]
    span: Span = _span()


@node
class MapLiteral:
    """Keys are plain strings (identifier, hyphenated identifier or string literal)."""

    entries: tuple[tuple[str, object], ...]
    span: Span = _span()


@node
class VarRef:
    """A ``<noun>`` in expression position (or a bare identifier inside ``${}``)."""

    noun: Noun
    span: Span = _span()


@node
class Binary:
    """op is one of: or and == != < > <= >= + - ++ * / % contains matches in "not in"."""

    op: str
    left: object
    right: object
    span: Span = _span()


@node
class Unary:
    """op is ``-`` or ``not``."""

    op: str
    operand: object
    span: Span = _span()


@node
class TypeCheck:
    """``expr is [not] TypeName`` (String, Number, …) or ``is [not] true/false/null``."""

    operand: object
    type_name: str
    negated: bool = False
    span: Span = _span()


@node
class Member:
    """Postfix ``.name`` (only lower-case members)."""

    operand: object
    name: str
    span: Span = _span()


@node
class Index:
    operand: object
    index: object
    span: Span = _span()


@node
class Exists:
    """Postfix ``exists``: whether the operand (a variable) is bound."""

    operand: object
    span: Span = _span()


# ---------------------------------------------------------------------------------------------
# Parts of an ARO statement


@node
class ResultNoun:
    """The result position: ``[article] <noun> [as Type]``."""

    noun: Noun
    article: str | None = None
    as_type: str | None = None
    span: Span = _span()


@node
class SinkResult:
    """Result position of a sink verb holding an expression: ``Log "x" ++ <n> to …``."""

    expr: object
    span: Span = _span()


@node
class ObjectNoun:
    """``[article] <noun>`` or a bare compound identifier (``to console``)."""

    noun: Noun
    article: str | None = None
    bare: bool = False
    span: Span = _span()


@node
class ObjectExpr:
    """An expression object (no article), with an optional time unit (``for 30 seconds``)."""

    expr: object
    time_unit: str | None = None
    span: Span = _span()


@node
class Aggregation:
    """``with sum(<field>)`` etc.  ``field`` is None for ``count()``."""

    func: str
    field: str | None = None
    span: Span = _span()


@node
class WhereClause:
    """``where <field> op value``; op is one of is, "is not", =, ==, !=, <, <=, >, >=,
    contains, matches, in, "not in", starts-with, ends-with."""

    field: str
    op: str
    value: object
    span: Span = _span()


@node
class Clauses:
    with_: object | None = None  # expression or Aggregation
    to: object | None = None
    where: WhereClause | None = None
    by: object | None = None  # RegexLiteral, Literal(str) or VarRef
    default: object | None = None
    when: object | None = None


NO_CLAUSES = Clauses()


# ---------------------------------------------------------------------------------------------
# Statements


@node
class AroStatement:
    """``Verb result preposition object clauses.``  ``verb`` keeps its source capitalisation
    (``Extract``, ``Application.DoubleValue``); ``bracketed`` records ``<Extract>`` spelling and
    does not take part in equality."""

    verb: str
    result: ResultNoun | SinkResult
    preposition: str | None
    obj: ObjectNoun | ObjectExpr | None
    clauses: Clauses = NO_CLAUSES
    bracketed: bool = field(default=False, compare=False)
    span: Span = _span()


@node
class Pipeline:
    """``s1 |> s2 |> s3.``: sequential statements."""

    stages: tuple[AroStatement, ...]
    span: Span = _span()


@node
class MatchCase:
    """pattern: a Literal, RegexLiteral, VarRef, or None for ``_``."""

    pattern: object
    body: tuple[object, ...]
    guard: object | None = None
    span: Span = _span()


@node
class MatchStatement:
    subject: Noun
    cases: tuple[MatchCase, ...]
    otherwise: tuple[object, ...] | None = None
    span: Span = _span()


@node
class ForEach:
    item: str
    collection: Noun
    body: tuple[object, ...]
    index: str | None = None
    parallel: bool = False
    concurrency: int | None = None
    where: object | None = None
    span: Span = _span()


@node
class RangeLoop:
    """``for <var> from start to end { }``; end is exclusive."""

    var: str
    start: object
    end: object
    body: tuple[object, ...]
    span: Span = _span()


@node
class WhileLoop:
    condition: object
    body: tuple[object, ...]
    span: Span = _span()


@node
class Break:
    span: Span = _span()


@node
class PublishStatement:
    """``Publish as <alias> <variable>.``"""

    alias: str
    variable: str
    span: Span = _span()


@node
class RequireStatement:
    """``Require the <name> from the <source>.``"""

    name: str
    source: str
    span: Span = _span()


# ---------------------------------------------------------------------------------------------
# Program structure


@node
class FeatureSet:
    """``(name: activity) [when guard] { body }``.

    ``takes`` lists the input fields of a user-defined action header
    ``(Name: Action takes <field[: Type]>)`` as (field, type-or-None) pairs.
    """

    name: str
    activity: str
    body: tuple[object, ...]
    guard: object | None = None
    takes: tuple[tuple[str, str | None], ...] = ()
    span: Span = _span()


@node
class Import:
    path: str
    span: Span = _span()


@node
class SourceFile:
    path: str
    feature_sets: tuple[FeatureSet, ...]
    imports: tuple[Import, ...] = ()
