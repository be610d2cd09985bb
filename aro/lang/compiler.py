"""Compile ASTs to code objects (one per feature set) and check the whole program.

Variables are resolved to slots here.  Scopes follow the language: a ``for each`` body is a
fresh child scope per iteration (its slots are cleared by the VM), a ``while`` body shares its
feature set's scope but may rebind, match cases share the enclosing scope.  A name bound inside
a loop body that also exists outside gets its own slot whose *fallback* is the outer slot, so
reads before the inner binding still see the outer value and nothing leaks out of the loop.
Whether a statement binds its result, and may rebind a name, comes from the verb table
(``aro.lang.verbs``), which the VM reads too.
"""

from __future__ import annotations

from collections.abc import Iterable

from aro.lang import ast
from aro.lang.bytecode import (
    CodeObject,
    LoopInfo,
    MatchInfo,
    NounInfo,
    Op,
    Program,
    StatementInfo,
)
from aro.lang.diagnostics import AroSyntaxError, Diagnostic
from aro.lang.gcpause import paused_gc
from aro.lang.names import REPOSITORY_SUFFIX
from aro.lang.parser import parse_source
from aro.lang.verbs import role_of

_STMT = Op.STMT
# (binds, may_rebind) per verb as written: the verb table's answer, looked up once per spelling.
_BINDING_BY_VERB: dict[str, tuple[bool, bool]] = {}


def _binding_of(verb: str) -> tuple[bool, bool]:
    binding = _BINDING_BY_VERB.get(verb)
    if binding is None:
        role = role_of(verb)
        binding = _BINDING_BY_VERB[verb] = (role.binds, role.may_rebind)
    return binding


class _Scope:
    __slots__ = ("names", "parent", "slots")

    def __init__(self, parent: _Scope | None) -> None:
        self.names: dict[str, int] = {}
        self.parent = parent
        self.slots: list[int] = []  # every slot allocated in this scope


class _Builder:
    """Compiles one feature set (or a parallel loop body) into a CodeObject."""

    def __init__(
        self, code: CodeObject, diagnostics: list[Diagnostic], source_lines: list[str]
    ) -> None:
        self.code = code
        self.diagnostics = diagnostics
        # The file's lines, split once per file and shared: never re-split per feature set
        # or loop body, which made compiling many of them quadratic in the file's size.
        self.source_lines = source_lines
        self.root = _Scope(None)
        self.scope = self.root
        self.bound: set[str] = set()
        self.mutable_depth = 0
        self.loop_depth = 0
        self.break_patches: list[list[int]] = []

    # -- slots -----------------------------------------------------------------------------

    def _new_slot(self, name: str, fallback: int) -> int:
        slot = len(self.code.slot_names)
        self.code.slot_names.append(name)
        self.code.fallback.append(fallback)
        self.scope.names[name] = slot
        self.scope.slots.append(slot)
        if fallback < 0 and self.scope is self.root:
            self.code.slot_index.setdefault(name, slot)
        return slot

    def _find(self, name: str) -> int:
        scope: _Scope | None = self.scope
        while scope is not None:
            slot = scope.names.get(name)
            if slot is not None:
                return slot
            scope = scope.parent
        return -1

    def read_slot(self, name: str) -> int:
        """The slot a reference to ``name`` reads (allocated unbound in the root if new)."""
        slot = self._find(name)
        if slot >= 0:
            return slot
        saved, self.scope = self.scope, self.root
        try:
            return self._new_slot(name, -1)
        finally:
            self.scope = saved

    def write_slot(self, name: str) -> int:
        """The slot a binding of ``name`` writes: always one of the current scope."""
        slot = self.scope.names.get(name)
        if slot is not None:
            return slot
        if self.scope is self.root:
            return self._new_slot(name, -1)
        return self._new_slot(name, self._find(name))

    # -- emitting --------------------------------------------------------------------------

    def emit(self, op: Op, arg: object = None) -> int:
        self.code.instructions.append((op, arg))
        return len(self.code.instructions) - 1

    def patch(self, index: int, arg: object) -> None:
        op, _ = self.code.instructions[index]
        self.code.instructions[index] = (op, arg)

    @property
    def here(self) -> int:
        return len(self.code.instructions)

    def error(self, span: ast.Span, message: str, hints: Iterable[str] = ()) -> None:
        line = self.source_lines[span.line - 1] if 0 < span.line <= len(self.source_lines) else ""
        self.diagnostics.append(Diagnostic("error", message, span, line, tuple(hints)))

    # -- statements ------------------------------------------------------------------------

    def block(self, statements: Iterable[object]) -> None:
        aro_statement = ast.AroStatement
        for statement in statements:
            if statement.__class__ is aro_statement:  # most statements: no dispatch
                self.aro_statement(statement)
            else:
                self.statement(statement)

    def statement(self, node: object) -> None:
        if isinstance(node, ast.AroStatement):
            self.aro_statement(node)
        elif isinstance(node, ast.Pipeline):
            for stage in node.stages:
                self.aro_statement(stage)
        elif isinstance(node, ast.MatchStatement):
            self.match(node)
        elif isinstance(node, ast.ForEach):
            self.for_each(node)
        elif isinstance(node, ast.RangeLoop):
            self.range_loop(node)
        elif isinstance(node, ast.WhileLoop):
            self.while_loop(node)
        elif isinstance(node, ast.Break):
            if self.break_patches:
                self.break_patches[-1].append(self.emit(Op.JUMP))
            else:
                self.emit(Op.BREAK_OUTSIDE)
        elif isinstance(node, ast.PublishStatement):
            self.emit(Op.PUBLISH, (node.alias, self.read_slot(node.variable)))
        elif isinstance(node, ast.RequireStatement):
            self.emit(Op.REQUIRE, (node.name, node.source, self.write_slot(node.name)))
        else:  # pragma: no cover - the parser produces nothing else
            raise TypeError(f"unknown statement node {type(node).__name__}")

    def aro_statement(self, node: ast.AroStatement) -> None:
        """One ``StatementInfo``, built by one positional call (keywords and attribute sets
        after it cost a fifth of compiling a statement).  The operands are resolved in source
        order (result, object, clauses, sink expression): that order numbers the slots.  The
        common shapes (a result noun, an object noun) are resolved inline: they are most of a
        program's statements, and a helper call each was a tenth of compiling one."""
        binds, may_rebind = _binding_of(node.verb)
        result = node.result
        if result.__class__ is ast.ResultNoun:
            noun = result.noun
            name = noun.base
            if binds:
                if not may_rebind and name[:1] != "_":
                    self._check_rebinding(name, noun.span)
                slot = self.write_slot(name)
            else:
                slot = self.read_slot(name)
            result_info = NounInfo(
                name, noun.specifiers, slot, result.article, noun.is_string_spec,
                noun.qualifiers,
            )  # fmt: skip
        else:
            result_info = NounInfo(
                "_result_expression_", (), self.read_slot("_result_expression_")
            )
        obj = node.obj
        if obj.__class__ is ast.ObjectNoun:
            noun = obj.noun
            object_expr = object_var = time_unit = None
            obj = NounInfo(
                noun.base, noun.specifiers, self.read_slot(noun.base), obj.article,
                noun.is_string_spec, noun.qualifiers,
            )  # fmt: skip
        else:
            obj, object_expr, object_var, time_unit = self._object_expression(obj)
        clauses = node.clauses
        if clauses is ast.NO_CLAUSES:
            with_expr = aggregation = to_expr = where = by_expr = default_expr = when_expr = None
        else:
            with_expr, aggregation, to_expr, where, by_expr, default_expr, when_expr = (
                self._clauses(clauses)
            )
        if result.__class__ is ast.ResultNoun:
            as_type, sink_expr = result.as_type, None
        else:
            as_type, sink_expr = None, self.expr(result.expr)
        statements = self.code.statements
        statements.append(StatementInfo(
            node.verb, result_info, node.preposition, obj, object_expr, object_var, time_unit,
            sink_expr, as_type, with_expr, aggregation, to_expr, where, by_expr, default_expr,
            when_expr, self.mutable_depth > 0, node.span, node,
        ))
        self.code.instructions.append((_STMT, len(statements) - 1))

    def _check_rebinding(self, name: str, span: ast.Span) -> None:
        """A statement binding ``name`` (a verb that may not rebind, a name without ``_``)."""
        if self.mutable_depth == 0 and self.loop_depth == 0 and name in self.bound:
            self.error(
                span,
                f"Cannot rebind variable '{name}' - variables are immutable",
                (
                    f"Variable '{name}' was already defined earlier in this feature set",
                    "Create a new variable with a different name instead",
                ),
            )
        if self.loop_depth == 0:
            self.bound.add(name)

    def _object_expression(
        self, obj: object
    ) -> tuple[None, tuple | None, str | None, str | None]:
        """``(obj, object_expr, object_var, time_unit)`` of a statement without object noun."""
        if isinstance(obj, ast.ObjectExpr):
            expr = obj.expr
            var = expr.noun.base if isinstance(expr, ast.VarRef) else None
            return None, self.expr(expr), var, obj.time_unit
        return None, None, None, None

    def _clauses(self, clauses: ast.Clauses) -> tuple:
        """``(with_expr, aggregation, to_expr, where, by_expr, default_expr, when_expr)``."""
        with_ = clauses.with_
        if isinstance(with_, ast.Aggregation):
            with_expr, aggregation = None, (with_.func, with_.field)
        else:
            with_expr, aggregation = self.maybe_expr(with_), None
        to_expr = self.maybe_expr(clauses.to)
        where = clauses.where
        if where is not None:
            where = (where.field, where.op, self.expr(where.value))
        return (
            with_expr, aggregation, to_expr, where, self.maybe_expr(clauses.by),
            self.maybe_expr(clauses.default), self.maybe_expr(clauses.when),
        )

    def match(self, node: ast.MatchStatement) -> None:
        subject = self.expr(ast.VarRef(node.subject, node.span))
        info = MatchInfo(subject, (), -1, -1)
        self.code.matches.append(info)
        self.emit(Op.MATCH, len(self.code.matches) - 1)
        cases = []
        end_jumps = []
        bound_before = set(self.bound)
        bound_after = set(self.bound)
        for case in node.cases:
            kind, pattern = self._pattern(case.pattern)
            guard = self.maybe_expr(case.guard)
            cases.append((kind, pattern, guard, self.here))
            self.bound = set(bound_before)
            self.block(case.body)
            bound_after |= self.bound
            end_jumps.append(self.emit(Op.JUMP))
        info.otherwise_target = self.here
        if node.otherwise is not None:
            self.bound = set(bound_before)
            self.block(node.otherwise)
            bound_after |= self.bound
        self.bound = bound_after
        info.cases = tuple(cases)
        info.end_target = self.here
        for jump in end_jumps:
            self.patch(jump, self.here)

    def _pattern(self, pattern: object) -> tuple[str, object]:
        if pattern is None:
            return "any", None
        if isinstance(pattern, ast.Literal):
            return "literal", pattern.value
        if isinstance(pattern, ast.RegexLiteral):
            return "regex", (pattern.pattern, pattern.flags)
        return "var", self.expr(pattern)

    def _enter_loop(self) -> _Scope:
        outer = self.scope
        self.scope = _Scope(outer)
        self.loop_depth += 1
        return outer

    def _leave_loop(self, outer: _Scope) -> tuple[int, ...]:
        body_slots = tuple(self.scope.slots)
        self.scope = outer
        self.loop_depth -= 1
        return body_slots

    def for_each(self, node: ast.ForEach) -> None:
        collection = self.expr(ast.VarRef(node.collection, node.span))
        if node.parallel:
            self._parallel_for(node, collection)
            return
        outer = self._enter_loop()
        item_slot = self.write_slot(node.item)
        index_slot = self.write_slot(node.index) if node.index else None
        where = self.maybe_expr(node.where)
        info = LoopInfo(item_slot, index_slot, collection, where, (), span=node.span)
        self._loop_body(info, node.body, outer)

    def range_loop(self, node: ast.RangeLoop) -> None:
        bounds = (self.expr(node.start), self.expr(node.end))
        outer = self._enter_loop()
        item_slot = self.write_slot(node.var)
        info = LoopInfo(item_slot, None, None, None, (), range_bounds=bounds, span=node.span)
        self._loop_body(info, node.body, outer)

    def _loop_body(self, info: LoopInfo, body: tuple, outer: _Scope) -> None:
        self.code.loops.append(info)
        index = len(self.code.loops) - 1
        self.emit(Op.FOR_INIT, index)
        top = self.emit(Op.FOR_NEXT)
        breaks, self.break_patches = self.break_patches, []
        self.block(body)
        self.break_patches = breaks
        self.emit(Op.JUMP, top)
        self.patch(top, (index, self.here))
        slots = self._leave_loop(outer)
        info.body_slots = tuple(s for s in slots if s not in (info.item_slot, info.index_slot))

    def _parallel_for(self, node: ast.ForEach, collection: tuple) -> None:
        body = CodeObject(self.code.name, self.code.activity, self.code.filename, span=node.span)
        child = _Builder(body, self.diagnostics, self.source_lines)
        item_slot = child.write_slot(node.item)
        index_slot = child.write_slot(node.index) if node.index else None
        child.loop_depth = 1
        child.block(node.body)
        where = child.maybe_expr(node.where)
        info = LoopInfo(
            item_slot, index_slot, collection, where, (), parallel=True,
            concurrency=node.concurrency, body=body, item_name=node.item,
            index_name=node.index, span=node.span,
        )  # fmt: skip
        self.code.loops.append(info)
        self.emit(Op.PARALLEL_FOR, len(self.code.loops) - 1)

    def while_loop(self, node: ast.WhileLoop) -> None:
        self.code.exprs.append(self.expr(node.condition))
        condition = len(self.code.exprs) - 1
        top = self.emit(Op.JUMP_IF_NOT)
        self.mutable_depth += 1
        self.break_patches.append([])
        self.block(node.body)
        breaks = self.break_patches.pop()
        self.mutable_depth -= 1
        self.emit(Op.JUMP, top)
        self.patch(top, (condition, self.here))
        for jump in breaks:
            self.patch(jump, self.here)

    # -- expressions -----------------------------------------------------------------------

    def maybe_expr(self, node: object | None) -> tuple | None:
        return None if node is None else self.expr(node)

    def expr(self, node: object) -> tuple:
        if isinstance(node, ast.Literal):
            return ("const", node.value)
        if isinstance(node, ast.VarRef):
            noun = node.noun
            return ("var", self.read_slot(noun.base), noun.base, noun.specifiers)
        if isinstance(node, ast.Binary):
            return ("binary", node.op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.Interpolation):
            parts = tuple(p if isinstance(p, str) else self.expr(p) for p in node.parts)
            return ("interp", parts)
        if isinstance(node, ast.ListLiteral):
            return ("list", tuple(self.expr(item) for item in node.items))
        if isinstance(node, ast.MapLiteral):
            return ("map", tuple((key, self.expr(value)) for key, value in node.entries))
        if isinstance(node, ast.RegexLiteral):
            return ("regex", node.pattern, node.flags)
        if isinstance(node, ast.Unary):
            return ("unary", node.op, self.expr(node.operand))
        if isinstance(node, ast.TypeCheck):
            return ("is", self.expr(node.operand), node.type_name, node.negated)
        if isinstance(node, ast.Member):
            return ("member", self.expr(node.operand), node.name)
        if isinstance(node, ast.Index):
            return ("index", self.expr(node.operand), self.expr(node.index))
        if isinstance(node, ast.Exists):
            operand = node.operand
            if isinstance(operand, ast.VarRef):
                return ("exists", self.read_slot(operand.noun.base), operand.noun.base)
            return ("const", True)
        raise TypeError(f"unknown expression node {type(node).__name__}")


def compile_feature_set(
    feature_set: ast.FeatureSet,
    filename: str,
    source_lines: list[str],
    diagnostics: list[Diagnostic],
) -> CodeObject:
    code = CodeObject(
        feature_set.name, feature_set.activity, filename, takes=feature_set.takes,
        span=feature_set.span,
    )  # fmt: skip
    builder = _Builder(code, diagnostics, source_lines)
    for field_name, _ in feature_set.takes:
        builder.write_slot(field_name)
    builder.block(feature_set.body)
    code.guard = builder.maybe_expr(feature_set.guard)
    return code


def compile_files(sources: list[tuple[ast.SourceFile, str]]) -> Program:
    """Compile parsed files (with their text) into one Program, or raise AroSyntaxError."""
    diagnostics: list[Diagnostic] = []
    codes: list[CodeObject] = []
    with paused_gc():
        for source_file, text in sources:
            codes.extend(_compile_file(source_file, text, diagnostics))
    diagnostics.extend(_event_cycles(codes))
    errors = [d for d in diagnostics if d.severity == "error"]
    if errors:
        raise AroSyntaxError(errors)
    return Program(codes, [source_file.path for source_file, _ in sources])


def _compile_file(
    source_file: ast.SourceFile, text: str, diagnostics: list[Diagnostic]
) -> list[CodeObject]:
    seen: set[tuple[str, str]] = set()
    lines = text.splitlines()
    codes = []
    for feature_set in source_file.feature_sets:
        key = _duplicate_key(feature_set)
        if key in seen:
            span = feature_set.span
            line = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
            diagnostics.append(
                Diagnostic("error", f"Duplicate feature set name '{feature_set.name}'", span, line)
            )
        seen.add(key)
        codes.append(compile_feature_set(feature_set, source_file.path, lines, diagnostics))
    return codes


def _duplicate_key(feature_set: ast.FeatureSet) -> tuple[str, str]:
    """What makes two feature sets of one file the same: the name, except that Application-End
    has one handler per activity (``Success`` and ``Error`` may both be declared)."""
    if feature_set.name == "Application-End":
        return feature_set.name, feature_set.activity
    return feature_set.name, ""


def compile_source(text: str, filename: str = "<string>") -> Program:
    return compile_files([(parse_source(text, filename), text)])


def _emitted_events(code: CodeObject) -> set[str]:
    events = {s.result.base for s in code.statements if s.verb.lower() == "emit"}
    for loop in code.loops:
        if loop.body is not None:
            events |= _emitted_events(loop.body)
    return events


def _event_cycles(codes: list[CodeObject]) -> list[Diagnostic]:
    """Circular event chains (A's handler emits B, B's handler emits A) are compile errors."""
    graph: dict[str, set[str]] = {}
    spans: dict[str, ast.Span | None] = {}
    for code in codes:
        activity = code.activity
        if not activity.endswith(" Handler") or REPOSITORY_SUFFIX in activity:
            continue
        event = activity[: -len(" Handler")].split("<")[0].strip()
        graph.setdefault(event, set()).update(_emitted_events(code))
        spans.setdefault(event, code.span)
    cycles = []
    reported: set[frozenset[str]] = set()
    for start in graph:
        path = _find_cycle(graph, start, [start])
        if path and frozenset(path) not in reported:
            reported.add(frozenset(path))
            span = spans[start] or ast.NO_SPAN
            cycles.append(
                Diagnostic("error", f"Circular event chain detected: {' -> '.join(path)}", span)
            )
    return cycles


def _find_cycle(graph: dict[str, set[str]], node: str, path: list[str]) -> list[str] | None:
    for successor in sorted(graph.get(node, ())):
        if successor == path[0]:
            return [*path, successor]
        if successor not in path and successor in graph:
            found = _find_cycle(graph, successor, [*path, successor])
            if found:
                return found
    return None
