"""Plans: statements linked for execution.

A ``Plan`` is a ``StatementInfo`` with its action looked up, its clause expressions turned into
closures and its binding rule and error headline decided, all once, when the code object is
first run.  Actions receive the plan and the frame.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from aro.lang.bytecode import NounInfo, StatementInfo
from aro.lang.names import is_repository
from aro.lang.verbs import FastPath, VerbRole, role_of
from aro.vm import registry
from aro.vm.errors import ActionError
from aro.vm.expressions import Evaluator, link, repositories_read
from aro.vm.frame import UNBOUND, Frame

# How the statement's value is bound to the result name (docs/semantics.md, Statements step 5).
BIND_NEVER, BIND_IF_NEW, BIND_ALWAYS = 0, 1, 2

# Objects that are only names: never looked up as variables.
NAME_ONLY_OBJECTS = frozenset(
    "console stderr template websocket ws socket-server http-server file directory url git "
    "system events application framework environment".split()
)


# The action that reads its object repository synchronously (``Repository.rows_now``).
READING_ACTION = "retrieve"


def _maybe(expr: tuple | None) -> Evaluator | None:
    return None if expr is None else link(expr)


class Plan:
    __slots__ = (
        "activity",
        "bad_preposition",
        "bind_mode",
        "by_fn",
        "default_fn",
        "ends",
        "fast_path",
        "feature",
        "func",
        "headline",
        "info",
        "is_async",
        "may_wait",
        "obj",
        "object_fn",
        "prep",
        "previous",
        "reads",
        "result",
        "sink_fn",
        "slot_index",
        "spec",
        "statement",
        "to_fn",
        "verb",
        "when_fn",
        "where_fn",
        "with_fn",
    )  # fmt: skip

    def __init__(
        self,
        info: StatementInfo,
        feature: str,
        activity: str,
        slot_index: Mapping[str, int] | None = None,
        previous: Plan | None = None,
    ) -> None:
        self.info = info
        # the statement that always runs right before this one, with nothing between (in a
        # code object without jumps), else None: what a link function may pair this one with
        self.previous = previous
        # the code object's slots by name: what a link function resolves a name to, once
        self.slot_index = slot_index or {}
        self.verb = info.verb.lower()
        self.spec = registry.lookup(info.verb, None if info.obj is None else info.obj.base)
        self.func = self.spec.func if self.spec else _unknown_action
        self.result: NounInfo = info.result
        self.obj: NounInfo | None = info.obj
        self.prep = info.preposition
        self.object_fn = _maybe(info.object_expr)
        self.sink_fn = _maybe(info.sink_expr)
        self.with_fn = _maybe(info.with_expr)
        self.to_fn = _maybe(info.to_expr)
        self.where_fn = None if info.where is None else link(info.where[2])
        self.by_fn = _maybe(info.by_expr)
        self.default_fn = _maybe(info.default_expr)
        self.when_fn = _maybe(info.when_expr)
        self.reads = self._repositories_read()
        role = role_of(self.verb)
        self.fast_path = self._takes_fast_path(role)
        self.bind_mode = self._bind_mode(role)
        self.ends = self.verb in ("return", "respond")
        self.headline, self.statement = self._texts()
        self.bad_preposition = self._rejects_preposition()
        self.feature = feature
        self.activity = activity
        if self.spec is not None and self.spec.link is not None:
            self.func = self.spec.link(self) or self.func
        # How the VM takes the action's value: awaited always (an ``async def``, linked or
        # general), awaited when it is a coroutine (a plain function of an action that may
        # wait), or as it is.
        self.is_async = inspect.iscoroutinefunction(self.func)
        self.may_wait = not self.is_async and self.spec is not None and self.spec.may_wait

    def _repositories_read(self) -> tuple[str, ...]:
        """The repositories this statement reads without waiting: ``<x-repository>`` in its
        clauses and a Retrieve's object.  The VM prefetches them when their backend waits."""
        info = self.info
        where = None if info.where is None else info.where[2]
        clauses = (info.object_expr, info.sink_expr, info.with_expr, info.to_expr, where)
        clauses += (info.by_expr, info.default_expr, info.when_expr)
        names = repositories_read(*clauses)
        if self._retrieves_from_repository() and self.obj.base not in names:
            names += (self.obj.base,)
        return names

    def _retrieves_from_repository(self) -> bool:
        reading = self.spec is not None and self.spec.name == READING_ACTION
        return reading and self.obj is not None and is_repository(self.obj.base)

    def _takes_fast_path(self, role: VerbRole) -> bool:
        """The fast path (docs/semantics.md, Statements step 3): an expression object binds the
        result without running the action."""
        if self.object_fn is None or role.fast_path is FastPath.RUN or "." in self.verb:
            return False
        return not (role.fast_path is FastPath.SPECIFIERS and self.result.specifiers)

    def _bind_mode(self, role: VerbRole) -> int:
        if not role.binds:
            return BIND_NEVER
        if self.info.in_mutable_scope or role.replaces:
            return BIND_ALWAYS
        return BIND_IF_NEW

    def _describe(self, verb: str, result: str, target: str) -> str:
        """``<verb> the <result> <prep> the <object>[ when <condition>].`` (docs/semantics.md)."""
        text = f"{verb} the {result}"
        if self.prep:
            text += f" {self.prep} the {target}"
        if self.info.when_expr is not None:
            text += " when <condition>"
        return text + "."

    def _texts(self) -> tuple[str, str]:
        result = self.result.full_name
        target = "_expression_" if self.obj is None else self.obj.full_name
        headline = self._describe(f"Cannot {self.verb}", result, target)
        statement = self._describe(f"<{self.info.verb}>", f"<{result}>", f"<{target}>")
        return headline, statement

    # -- helpers for actions ---------------------------------------------------------------

    def object_value(self, frame: Frame, default: Any = UNBOUND) -> Any:
        """The object's value: the evaluated expression, or the object noun's base variable.

        A missing variable raises ActionError unless a ``default`` is given.
        """
        if self.object_fn is not None:
            return self.object_fn(frame)
        if self.obj is None:
            return default if default is not UNBOUND else None
        value = frame.slots[self.obj.slot]  # bound in this frame: the usual case, no calls
        if value is UNBOUND:
            value = frame.load_or_unbound(self.obj.slot)
        if value is UNBOUND:
            if default is not UNBOUND:
                return default
            raise ActionError(f"Undefined variable: {self.obj.base}")
        return value

    def result_value(self, frame: Frame, default: Any = UNBOUND) -> Any:
        """The current value of the result name (Log's standard form, Compare, Merge …)."""
        value = frame.slots[self.result.slot]
        if value is UNBOUND:
            value = frame.load_or_unbound(self.result.slot)
        if value is UNBOUND:
            if default is not UNBOUND:
                return default
            raise ActionError(f"Undefined variable: {self.result.base}")
        return value

    def check_preposition(self) -> None:
        """Fail when the action does not take this preposition (decided once, at link time)."""
        if self.bad_preposition:
            raise ActionError(f"Invalid preposition '{self.prep}' for {self.info.verb}")

    def _rejects_preposition(self) -> bool:
        allowed = self.spec.prepositions if self.spec else None
        return allowed is not None and self.prep is not None and self.prep not in allowed


def _unknown_action(plan: Plan, frame: Frame) -> Any:
    raise ActionError(f"Unknown action: {plan.info.verb}")
