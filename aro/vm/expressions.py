"""Turn resolved expression trees (``aro.lang.bytecode.Expr``) into closures ``fn(frame)``.

Done once per code object when the VM links it; evaluating an expression afterwards is a chain
of direct calls with slots and constants already in the closures.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aro.lang.names import is_repository
from aro.vm import values
from aro.vm.errors import ActionError, EvaluationError
from aro.vm.frame import UNBOUND

Evaluator = Callable[[Any], Any]


def regex_literal(pattern: str, flags: str) -> re.Pattern:
    """A ``/pattern/flags`` literal, compiled once when the code is linked; invalid is an error."""
    try:
        return values.compile_regex(pattern, flags)
    except re.error as error:
        raise EvaluationError(f"Invalid regular expression /{pattern}/: {error}") from None


def link(expr: tuple) -> Evaluator:
    return _LINKERS[expr[0]](*expr[1:])


def _const(value: Any) -> Evaluator:
    return lambda frame: value


def _var(slot: int, name: str, specifiers: tuple[str, ...]) -> Evaluator:
    if name == "env" and specifiers:
        key = ".".join(specifiers)
        return lambda frame: _environment(frame, slot, key)
    if is_repository(name):
        return _repository(slot, name, specifiers)
    if name == "now" and not specifiers:
        return _now(slot)
    if not specifiers:

        def load_variable(frame: Any) -> Any:
            value = frame.slots[slot]  # bound in this frame: the usual case, no call
            return value if value is not UNBOUND else frame.load(slot)

        return load_variable

    def load_path(frame: Any) -> Any:
        try:
            return values.property_path(frame.load(slot), specifiers)
        except ActionError as error:
            raise EvaluationError(str(error)) from None

    return load_path


def _now(slot: int) -> Evaluator:
    """``<now>``: the current instant, read straight from the clock when nothing in reach
    binds ``now`` (no slot here or shadowed, no name, no parent), as the frame's own lookup
    would end up doing after three calls; otherwise that lookup."""

    def load_now(frame: Any) -> Any:
        value = frame.slots[slot]
        if value is not UNBOUND:
            return value
        named = frame.named
        unbound = frame.parent is None and (named is None or "now" not in named)
        if unbound and frame.code.fallback[slot] < 0:
            return values.now()
        return frame.load(slot)

    return load_now


def _environment(frame: Any, slot: int, key: str) -> Any:
    bound = frame.load_or_unbound(slot)
    if isinstance(bound, dict) and key in bound:
        return bound[key]
    return frame.services.environ.get(key, "")


def _repository(slot: int, name: str, specifiers: tuple[str, ...]) -> Evaluator:
    wants_count = specifiers == ("count",)

    def load_repository(frame: Any) -> Any:
        repository = frame.services.repositories.get(name)
        if wants_count:
            return repository.count_now()
        rows = repository.rows_now()
        return values.property_path(rows, specifiers) if specifiers else rows

    return load_repository


def repositories_read(*exprs: tuple | None) -> tuple[str, ...]:
    """The repositories that evaluating ``exprs`` reads (``<x-repository>``), each once."""
    names: dict[str, None] = {}
    pending = [expr for expr in exprs if expr is not None]
    while pending:
        expr = pending.pop()
        kind = expr[0]
        if kind == "var" and is_repository(expr[2]):
            names[expr[2]] = None
        else:
            pending.extend(_SUBEXPRESSIONS.get(kind, _leaf)(*expr[1:]))
    return tuple(names)


def _interp(parts: tuple) -> Evaluator:
    pieces = [part if isinstance(part, str) else link(part) for part in parts]

    def render(frame: Any) -> str:
        return "".join(p if isinstance(p, str) else values.describe(p(frame)) for p in pieces)

    return render


def _list(items: tuple) -> Evaluator:
    evaluators = [link(item) for item in items]
    return lambda frame: [evaluate(frame) for evaluate in evaluators]


def _map(entries: tuple) -> Evaluator:
    evaluators = [(key, link(value)) for key, value in entries]
    return lambda frame: {key: evaluate(frame) for key, evaluate in evaluators}


def _regex(pattern: str, flags: str) -> Evaluator:
    compiled = regex_literal(pattern, flags)
    return lambda frame: compiled


def _binary(op: str, left: tuple, right: tuple) -> Evaluator:
    lhs, rhs = link(left), link(right)
    if op == "and":
        return lambda frame: values.truthy(lhs(frame)) and values.truthy(rhs(frame))
    if op == "or":
        return lambda frame: values.truthy(lhs(frame)) or values.truthy(rhs(frame))
    if op in ("==", "="):
        return lambda frame: values.equals(lhs(frame), rhs(frame))
    if op == "!=":
        return lambda frame: not values.equals(lhs(frame), rhs(frame))
    if op in ("<", ">", "<=", ">="):
        return lambda frame: values.compare(op, lhs(frame), rhs(frame))
    if op == "contains":
        return lambda frame: values.contains(lhs(frame), rhs(frame))
    if op == "in":
        return lambda frame: values.contains(rhs(frame), lhs(frame))
    if op == "not in":
        return lambda frame: not values.contains(rhs(frame), lhs(frame))
    if op == "matches":
        return _matches(lhs, right, rhs)
    return lambda frame: values.binary(op, lhs(frame), rhs(frame))


def _matches(lhs: Evaluator, right: tuple, rhs: Evaluator) -> Evaluator:
    if right[0] == "regex":
        compiled = regex_literal(right[1], right[2])
        return lambda frame: compiled.search(values.describe(lhs(frame))) is not None

    def match_dynamic(frame: Any) -> bool:
        pattern = rhs(frame)
        if isinstance(pattern, re.Pattern):
            return pattern.search(values.describe(lhs(frame))) is not None
        return values.matches(lhs(frame), pattern)

    return match_dynamic


def _unary(op: str, operand: tuple) -> Evaluator:
    inner = link(operand)
    if op == "not":
        return lambda frame: not values.truthy(inner(frame))
    return lambda frame: values.binary("-", 0, inner(frame))


def _is(operand: tuple, type_name: str, negated: bool) -> Evaluator:
    inner = link(operand)
    return lambda frame: values.type_check(inner(frame), type_name) != negated


def _member(operand: tuple, name: str) -> Evaluator:
    inner = link(operand)
    return lambda frame: values.member(inner(frame), name)


def _index(operand: tuple, index: tuple) -> Evaluator:
    inner, key = link(operand), link(index)
    return lambda frame: values.index(inner(frame), key(frame))


def _exists(slot: int, name: str) -> Evaluator:
    return lambda frame: frame.is_bound(slot)


def _leaf(*_fields: Any) -> tuple:
    return ()


# The expressions inside each kind of expression (``const``, ``var``, ``regex`` and ``exists``
# have none).
_SUBEXPRESSIONS: dict[str, Callable[..., Any]] = {
    "interp": lambda parts: [part for part in parts if not isinstance(part, str)],
    "list": lambda items: items,
    "map": lambda entries: [value for _, value in entries],
    "binary": lambda op, left, right: (left, right),
    "unary": lambda op, operand: (operand,),
    "is": lambda operand, type_name, negated: (operand,),
    "member": lambda operand, name: (operand,),
    "index": lambda operand, index: (operand, index),
}

_LINKERS: dict[str, Callable[..., Evaluator]] = {
    "const": _const,
    "var": _var,
    "interp": _interp,
    "list": _list,
    "map": _map,
    "regex": _regex,
    "binary": _binary,
    "unary": _unary,
    "is": _is,
    "member": _member,
    "index": _index,
    "exists": _exists,
}
