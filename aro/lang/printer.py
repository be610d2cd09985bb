"""Canonical ARO source from the AST: bare verbs, 4-space indentation, minimal parentheses.

``parse_source(format_source(tree)) == tree`` for every tree the parser can produce.  Operands
are parenthesised where precedence, the ``or`` shorthand or the article-decides rule would
otherwise change the parse.  Inside ``${...}`` strings are written as raw ``'...'`` strings (the
only kind the lexer allows there); a value no raw string can hold raises ``ValueError``.
"""

from __future__ import annotations

import math
import re

from aro.lang.ast import (
    Aggregation,
    AroStatement,
    Binary,
    Break,
    Clauses,
    Exists,
    FeatureSet,
    ForEach,
    Index,
    Interpolation,
    ListLiteral,
    Literal,
    MapLiteral,
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
    WhileLoop,
)
from aro.lang.lexer import is_identifier
from aro.lang.parser import is_shorthand
from aro.lang.tokens import ARTICLES, KEYWORDS, PREPOSITIONS

INDENT = "    "

_BINARY_PRECEDENCE = {
    "or": 1, "and": 2,
    "==": 3, "!=": 3, "contains": 3, "matches": 3, "in": 3, "not in": 3,
    "<": 4, ">": 4, "<=": 4, ">=": 4,
    "+": 5, "-": 5, "++": 5,
    "*": 6, "/": 6, "%": 6,
}
_TYPE_CHECK_PRECEDENCE = 3
_UNARY_PRECEDENCE = 7
_POSTFIX_PRECEDENCE = 8
_PRIMARY_PRECEDENCE = 9
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
_RESERVED = KEYWORDS | ARTICLES | PREPOSITIONS
_OBJECT_PATTERN = re.compile(r"<[^\W\d]\w*:")


def format_source(source: SourceFile) -> str:
    """The canonical text of a whole source file."""
    blocks = [f"import {item.path}" for item in source.imports]
    blocks += ["\n".join(_feature_set_lines(fs)) for fs in source.feature_sets]
    return "\n\n".join(blocks) + "\n"


def format_expression(expr: object) -> str:
    """The canonical text of one expression."""
    return _Formatter(in_template=False).expression(expr)


def _feature_set_lines(feature_set: FeatureSet) -> list[str]:
    formatter = _Formatter(in_template=False)
    activity = feature_set.activity
    for field, type_name in feature_set.takes:
        activity += f" takes <{field}: {type_name}>" if type_name else f" takes <{field}>"
    header = f"({feature_set.name}: {activity})"
    if feature_set.guard is not None:
        header += " when " + formatter.expression(feature_set.guard)
    return [header + " {", *formatter.block(feature_set.body, 1), "}"]


class _Formatter:
    def __init__(self, in_template: bool) -> None:
        self.in_template = in_template

    # -- statements ---------------------------------------------------------------------------

    def block(self, statements: tuple[object, ...], depth: int) -> list[str]:
        lines: list[str] = []
        for statement in statements:
            lines += self.statement(statement, depth)
        return lines

    def statement(self, statement: object, depth: int) -> list[str]:
        pad = INDENT * depth
        if isinstance(statement, AroStatement):
            return [pad + self.aro_statement(statement) + "."]
        if isinstance(statement, Pipeline):
            return [pad + " |> ".join(self.aro_statement(s) for s in statement.stages) + "."]
        if isinstance(statement, Break):
            return [pad + "break."]
        if isinstance(statement, PublishStatement):
            return [pad + f"Publish as <{statement.alias}> <{statement.variable}>."]
        if isinstance(statement, RequireStatement):
            return [pad + f"Require the <{statement.name}> from the <{statement.source}>."]
        if isinstance(statement, MatchStatement):
            return self.match(statement, depth)
        return self.loop(statement, depth)

    def loop(self, statement: object, depth: int) -> list[str]:
        if isinstance(statement, ForEach):
            header = "parallel for each" if statement.parallel else "for each"
            header += f" <{statement.item}>"
            if statement.index is not None:
                header += f" at <{statement.index}>"
            header += f" in <{self.noun(statement.collection)}>"
            if statement.parallel and statement.concurrency is not None:
                header += f" with <concurrency: {statement.concurrency}>"
            if statement.where is not None:
                header += " where " + self.expression(statement.where)
        elif isinstance(statement, RangeLoop):
            header = (
                f"for <{statement.var}> from {self.expression(statement.start)}"
                f" to {self.expression(statement.end)}"
            )
        elif isinstance(statement, WhileLoop):
            header = "while " + self.expression(statement.condition)
        else:
            raise TypeError(f"not a statement: {statement!r}")
        return self.braced(header, statement.body, depth)

    def braced(self, header: str, body: tuple[object, ...], depth: int) -> list[str]:
        pad = INDENT * depth
        return [f"{pad}{header} {{", *self.block(body, depth + 1), pad + "}"]

    def match(self, statement: MatchStatement, depth: int) -> list[str]:
        pad = INDENT * depth
        lines = [f"{pad}match <{self.noun(statement.subject)}> {{"]
        for case in statement.cases:
            header = "case " + self.pattern(case.pattern)
            if case.guard is not None:
                header += " where " + self.expression(case.guard)
            lines += self.braced(header, case.body, depth + 1)
        if statement.otherwise is not None:
            lines += self.braced("otherwise", statement.otherwise, depth + 1)
        return [*lines, pad + "}"]

    def pattern(self, pattern: object) -> str:
        return "_" if pattern is None else self.expression(pattern)

    def aro_statement(self, statement: AroStatement) -> str:
        text = f"{statement.verb} {self.result(statement.result)}"
        if statement.preposition is not None:
            text += f" {statement.preposition} {self.object(statement.obj)}"
        return text + self.clauses(statement.clauses)

    def result(self, result: ResultNoun | SinkResult) -> str:
        if not isinstance(result, ResultNoun):
            return self.expression(result.expr)
        text = _with_article(result.article, f"<{self.noun(result.noun)}>")
        return text if result.as_type is None else f"{text} as {result.as_type}"

    def object(self, obj: ObjectNoun | ObjectExpr) -> str:
        if isinstance(obj, ObjectNoun):
            text = obj.noun.base if obj.bare else f"<{self.noun(obj.noun)}>"
            return _with_article(obj.article, text)
        text = self.expression(obj.expr)
        # Without the parentheses '<x: y>' would read as an object noun and '/re/' not at all.
        if text.startswith("/") or _OBJECT_PATTERN.match(text):
            text = f"({text})"
        return text if obj.time_unit is None else f"{text} {obj.time_unit}"

    def clauses(self, clauses: Clauses) -> str:
        text = ""
        if isinstance(clauses.with_, Aggregation):
            field = "" if clauses.with_.field is None else f"<{clauses.with_.field}>"
            text += f" with {clauses.with_.func}({field})"
        elif clauses.with_ is not None:
            text += " with " + self.regex_safe(clauses.with_)
        if clauses.to is not None:
            text += " to " + self.expression(clauses.to)
        if clauses.where is not None:
            where = clauses.where
            value = self.expression(where.value)
            if where.op == "is" and value.startswith("not "):
                value = f"({value})"  # else it would read as 'is not'
            text += f" where <{where.field}> {where.op} {value}"
        if clauses.by is not None:
            text += " by " + self.expression(clauses.by)
        if clauses.default is not None:
            text += " default " + self.regex_safe(clauses.default)
        if clauses.when is not None:
            text += " when " + self.expression(clauses.when)
        return text

    def regex_safe(self, expr: object) -> str:
        """``expr`` where a leading '/' would not lex as a regex (after 'with', 'default')."""
        text = self.expression(expr)
        return f"({text})" if text.startswith("/") else text

    # -- expressions --------------------------------------------------------------------------

    def expression(self, expr: object) -> str:
        if isinstance(expr, Binary):
            return self.binary(expr)
        if isinstance(expr, TypeCheck):
            operand = self.operand(expr.operand, _TYPE_CHECK_PRECEDENCE)
            negation = "not " if expr.negated else ""
            return f"{operand} is {negation}{expr.type_name}"
        if isinstance(expr, Unary):
            operand = self.operand(expr.operand, _UNARY_PRECEDENCE)
            if expr.op == "not":
                return "not " + operand
            # '-5' would lex as a negative literal, so keep the minus apart from digits.
            return f"- {operand}" if operand[0].isdigit() or operand[0] == "-" else "-" + operand
        if isinstance(expr, Member):
            return f"{self.operand(expr.operand, _POSTFIX_PRECEDENCE)}.{expr.name}"
        if isinstance(expr, Index):
            operand = self.operand(expr.operand, _POSTFIX_PRECEDENCE)
            return f"{operand}[{self.expression(expr.index)}]"
        if isinstance(expr, Exists):
            return self.operand(expr.operand, _POSTFIX_PRECEDENCE) + " exists"
        return self.primary(expr)

    def binary(self, expr: Binary) -> str:
        precedence = _BINARY_PRECEDENCE[expr.op]
        left = self.operand(expr.left, precedence)
        right = self.expression(expr.right)
        # Parenthesised, a plain right operand is not distributed by the or-shorthand.
        if _precedence(expr.right) <= precedence or (
            expr.op in ("or", "and") and is_shorthand(expr.left, expr.right)
        ):
            right = f"({right})"
        return f"{left} {expr.op} {right}"

    def operand(self, expr: object, min_precedence: int) -> str:
        """``expr`` as an operand that must bind at least as tightly as ``min_precedence``."""
        text = self.expression(expr)
        return f"({text})" if _precedence(expr) < min_precedence else text

    def primary(self, expr: object) -> str:
        if isinstance(expr, VarRef):
            return f"<{self.noun(expr.noun)}>"
        if isinstance(expr, Literal):
            return self.literal(expr.value)
        if isinstance(expr, Interpolation):
            return self.interpolation(expr)
        if isinstance(expr, RegexLiteral):
            if self.in_template and any(c in expr.pattern for c in "\"'{}"):
                raise ValueError(f"regex /{expr.pattern}/ cannot be written inside '${{}}'")
            return f"/{expr.pattern}/{expr.flags}"
        if isinstance(expr, ListLiteral):
            return "[" + ", ".join(self.expression(item) for item in expr.items) + "]"
        if isinstance(expr, MapLiteral):
            entries = (f"{self.map_key(k)}: {self.expression(v)}" for k, v in expr.entries)
            return "{" + ", ".join(entries) + "}"
        raise TypeError(f"not an expression: {expr!r}")

    def literal(self, value: object) -> str:
        if value is None:
            return "null"
        if value is True or value is False:
            return "true" if value else "false"
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, float):
            if not math.isfinite(value):
                raise ValueError(f"{value} has no ARO literal")
            return repr(value)
        return str(value)

    def string(self, value: str) -> str:
        if not self.in_template:
            return '"' + _escape(value) + '"'
        if any(c in value for c in "\\\n\r"):
            raise ValueError(f"{value!r} cannot be written inside '${{}}'")
        return "'" + value.replace("'", "\\'") + "'"

    def interpolation(self, expr: Interpolation) -> str:
        if self.in_template:
            raise ValueError("an interpolated string cannot be nested inside '${}'")
        inner = _Formatter(in_template=True)
        parts = []
        for part in expr.parts:
            if isinstance(part, str):
                parts.append(_escape(part))
            else:
                parts.append("${" + inner.expression(part) + "}")
        return '"' + "".join(parts) + '"'

    def map_key(self, key: str) -> str:
        words = key.split("-")
        if all(is_identifier(w) and w.lower() not in _RESERVED for w in words):
            return key
        return self.string(key)

    def noun(self, noun: Noun) -> str:
        if not noun.specifiers:
            return noun.base
        if noun.is_string_spec:
            return f"{noun.base}: {self.string(noun.specifiers[0])}"
        text = f"{noun.base}: {'.'.join(noun.specifiers)}"
        return "".join([text, *(f" | {q}" for q in noun.qualifiers)])


def _precedence(expr: object) -> int:
    if isinstance(expr, Binary):
        return _BINARY_PRECEDENCE[expr.op]
    if isinstance(expr, TypeCheck):
        return _TYPE_CHECK_PRECEDENCE
    if isinstance(expr, (Unary, Exists)):
        return _UNARY_PRECEDENCE
    if isinstance(expr, (Member, Index)):
        return _POSTFIX_PRECEDENCE
    return _PRIMARY_PRECEDENCE


def _escape(text: str) -> str:
    """Body of a double-quoted string; '${' is escaped so it does not start an interpolation."""
    escaped = "".join(
        _ESCAPES.get(c) or (c if c.isprintable() else f"\\u{{{ord(c):x}}}") for c in text
    )
    return escaped.replace("${", "\\${")


def _with_article(article: str | None, text: str) -> str:
    return text if article is None else f"{article} {text}"


def format_statement(statement: AroStatement | Pipeline) -> str:
    """The canonical text of one ARO statement or pipeline, with its final dot."""
    return _Formatter(in_template=False).statement(statement, 0)[0]
