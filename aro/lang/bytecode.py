"""Code objects: what the compiler emits and the VM executes.

A feature set compiles to one ``CodeObject``: a flat list of ``(opcode, argument)`` instructions,
a table of statement descriptors (``StatementInfo``: every operand of an ARO statement resolved at
compile time), loop and match descriptors, and the slot table of its variables.

Expressions are kept as small resolved trees (``Expr`` tuples, below) in which every variable
reference already carries its slot number; the VM turns each tree into a Python closure once,
when it loads the program, so nothing is looked up by name while a statement runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from aro.lang.ast import Span
from aro.lang.printer import format_statement


class Op(IntEnum):
    STMT = 1  # arg: statement index; run it (its own `when` guard included)
    JUMP = 2  # arg: target
    JUMP_IF_NOT = 3  # arg: (expr index, target); truthiness test (while)
    FOR_INIT = 4  # arg: loop index; evaluate the collection, push an iterator
    FOR_NEXT = 5  # arg: (loop index, target); bind the next item or pop and jump to target
    PARALLEL_FOR = 6  # arg: loop index; run the body code object once per item, concurrently
    MATCH = 7  # arg: match index; jump to the chosen case (or past the match)
    PUBLISH = 8  # arg: (alias, slot)
    REQUIRE = 9  # arg: (name, source, slot)
    BREAK_OUTSIDE = 10  # arg: None; `break.` outside any while loop


# Expression trees.  Each node is a tuple whose first item names its kind:
#   ("const", value)
#   ("var", slot, name, specifiers)        <name: spec.spec> -> slot value, then property path
#   ("interp", parts)                      parts: str or Expr
#   ("list", items) / ("map", ((key, Expr), ...))
#   ("regex", pattern, flags)
#   ("binary", op, left, right)            and/or short-circuit
#   ("unary", op, operand)
#   ("is", operand, type_name, negated)
#   ("member", operand, name) / ("index", operand, index)
#   ("exists", slot, name)
Expr = tuple


@dataclass(slots=True)
class NounInfo:
    """A result or object noun: ``<base: specifiers>`` with its slot."""

    base: str
    specifiers: tuple[str, ...]
    slot: int
    article: str | None = None
    is_string_spec: bool = False
    qualifiers: tuple[str, ...] = ()

    @property
    def full_name(self) -> str:
        """``base`` or ``base: spec1.spec2``, as error messages print it."""
        if not self.specifiers:
            return self.base
        return f"{self.base}: {'.'.join(self.specifiers)}"


@dataclass(slots=True)
class StatementInfo:
    """One ARO statement with every operand resolved.

    ``object_expr`` is set when the object is an expression (no article); ``object_var`` then
    names the variable when that expression is a bare ``<var>``.  ``sink_expr`` holds the
    expression in the result position of sink verbs.  Clause expressions are ``Expr`` trees.
    """

    verb: str  # as written: Extract, Application.DoubleValue
    result: NounInfo
    preposition: str | None
    obj: NounInfo | None
    object_expr: Expr | None = None
    object_var: str | None = None
    time_unit: str | None = None
    sink_expr: Expr | None = None
    as_type: str | None = None
    with_expr: Expr | None = None
    aggregation: tuple[str, str | None] | None = None
    to_expr: Expr | None = None
    where: tuple[str, str, Expr] | None = None  # (field, op, value)
    by_expr: Expr | None = None
    default_expr: Expr | None = None
    when_expr: Expr | None = None
    in_mutable_scope: bool = False  # inside a while body: rebinding allowed
    span: Span | None = None
    # The parsed statement, printed into ``source`` the first time that is read: only the
    # disassembler reads it, and printing every statement eagerly was a fifth of compiling.
    syntax: object = field(default=None, repr=False, compare=False)
    printed: str | None = field(default=None, repr=False, compare=False)

    @property
    def source(self) -> str:
        """The statement's canonical text (``Log "x" to the <console>.``)."""
        if self.printed is None:
            self.printed = format_statement(self.syntax)
            self.syntax = None
        return self.printed

    def __getstate__(self) -> tuple[None, dict[str, object]]:
        """Pickled (the compile cache) with the printed text instead of the syntax tree."""
        state = {name: getattr(self, name) for name in self.__slots__ if name != "printed"}
        state["syntax"], state["printed"] = None, self.source
        return None, state


@dataclass(slots=True)
class LoopInfo:
    """A ``for each`` or range loop.

    Serial loops run inline: ``body_slots`` are cleared before every iteration so each one
    starts fresh, and after the loop so nothing leaks out.  Parallel loops run ``body`` (its own
    code object) in a child frame per item.
    """

    item_slot: int
    index_slot: int | None
    collection: Expr | None  # for each
    where: Expr | None
    body_slots: tuple[int, ...]
    range_bounds: tuple[Expr, Expr] | None = None  # for <i> from A to B
    parallel: bool = False
    concurrency: int | None = None
    body: CodeObject | None = None
    item_name: str = ""
    index_name: str | None = None
    span: Span | None = None


@dataclass(slots=True)
class MatchInfo:
    """``match``: cases are (kind, pattern, guard expr, target); kind in literal/var/any/regex."""

    subject: Expr
    cases: tuple[tuple[str, object, Expr | None, int], ...]
    otherwise_target: int
    end_target: int


@dataclass(slots=True)
class CodeObject:
    name: str
    activity: str
    filename: str
    instructions: list[tuple[Op, object]] = field(default_factory=list)
    statements: list[StatementInfo] = field(default_factory=list)
    loops: list[LoopInfo] = field(default_factory=list)
    matches: list[MatchInfo] = field(default_factory=list)
    exprs: list[Expr] = field(default_factory=list)
    slot_names: list[str] = field(default_factory=list)
    # fallback[i]: the enclosing-scope slot to read when slot i is unbound (shadowing), or -1
    fallback: list[int] = field(default_factory=list)
    # outermost slot of each name: what binding or reading a name by its text means
    slot_index: dict[str, int] = field(default_factory=dict)
    guard: Expr | None = None  # the feature set's `when` guard
    takes: tuple[tuple[str, str | None], ...] = ()
    span: Span | None = None
    linked: object = None  # the VM's executable form, built once on first run


@dataclass(slots=True)
class Program:
    """All feature sets of an application, compiled."""

    code_objects: list[CodeObject]
    files: list[str] = field(default_factory=list)

    def find(self, name: str) -> CodeObject | None:
        for code in self.code_objects:
            if code.name == name:
                return code
        return None
