"""The instruction loop.

``advance(frame)`` runs the frame's code object as plain calls until it ends or has something to
await (an action registered as ``async def``, the coroutine answered by a plain action that may
wait, a prefetch of a waiting repository, a stream's next batch, ``parallel for each``);
``execute(frame)`` is the coroutine that awaits those and
goes on, so a run that never waits makes no coroutine at all.  The first ``Return`` ends the
run; falling off the end answers ``OK``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from types import CoroutineType
from typing import Any, NoReturn

from aro.lang.bytecode import CodeObject, LoopInfo, MatchInfo, Op
from aro.vm import values
from aro.vm.errors import ActionError, AroError, BreakSignal, StatementError
from aro.vm.expressions import link, regex_literal, repositories_read
from aro.vm.frame import NO_RETURN, UNBOUND, Frame, Response
from aro.vm.plan import BIND_ALWAYS, BIND_IF_NEW, Plan
from aro.vm.streams import ItemStream

STMT, JUMP, JUMP_IF_NOT, FOR_INIT, FOR_NEXT = (
    int(Op.STMT), int(Op.JUMP), int(Op.JUMP_IF_NOT), int(Op.FOR_INIT), int(Op.FOR_NEXT)
)  # fmt: skip
PARALLEL_FOR, MATCH, PUBLISH, REQUIRE = (
    int(Op.PARALLEL_FOR),
    int(Op.MATCH),
    int(Op.PUBLISH),
    int(Op.REQUIRE),
)
BREAK_OUTSIDE = int(Op.BREAK_OUTSIDE)
DEFAULT_PARALLELISM = 8
REFILL = object()  # _next_item: the batch in hand is used up, ask the loop's stream for more


class LinkedLoop:
    __slots__ = ("collection", "end", "info", "reads", "start", "where")

    def __init__(self, info: LoopInfo) -> None:
        self.info = info
        self.collection = None if info.collection is None else link(info.collection)
        self.where = None if info.where is None else link(info.where)
        bounds = info.range_bounds or ()
        self.start = None if not bounds else link(bounds[0])
        self.end = None if not bounds else link(bounds[1])
        # What the items and the filter read synchronously (prefetched when the backend waits).
        self.reads = repositories_read(info.collection, info.where, *bounds)

    def items(self, frame: Frame) -> list[Any] | ItemStream:
        if self.collection is None:
            start, end = self.start(frame), self.end(frame)
            return list(range(int(start), int(end)))
        collection = self.collection(frame)
        if isinstance(collection, (list, ItemStream)):
            return collection
        return [collection]

    async def all_items(self, frame: Frame) -> list[Any]:
        items = self.items(frame)
        return await items.collect() if isinstance(items, ItemStream) else items


class LinkedMatch:
    __slots__ = ("cases", "end", "otherwise", "reads", "subject")

    def __init__(self, info: MatchInfo) -> None:
        self.subject = link(info.subject)
        patterns = (pattern for kind, pattern, _, _ in info.cases if kind == "var")
        guards = (guard for _, _, guard, _ in info.cases)
        self.reads = repositories_read(info.subject, *patterns, *guards)
        self.cases = [
            (kind, _link_pattern(kind, pattern), None if guard is None else link(guard), target)
            for kind, pattern, guard, target in info.cases
        ]
        self.otherwise = info.otherwise_target
        self.end = info.end_target

    def choose(self, frame: Frame) -> int:
        subject = self.subject(frame)
        for kind, pattern, guard, target in self.cases:
            if _pattern_matches(kind, pattern, subject, frame) and (
                guard is None or guard(frame) is True
            ):
                return target
        return self.otherwise


def _link_pattern(kind: str, pattern: Any) -> Any:
    if kind == "var":
        return link(pattern)
    if kind == "regex":
        return regex_literal(*pattern)
    return pattern


def _pattern_matches(kind: str, pattern: Any, subject: Any, frame: Frame) -> bool:
    if kind == "any":
        return True
    if kind == "literal":
        return pattern is not None and type(pattern) is type(subject) and pattern == subject
    if kind == "regex":
        return isinstance(subject, str) and pattern.search(subject) is not None
    return values.equals(subject, pattern(frame))


class LinkedCode:
    """A code object ready to run: plans, loops, matches and conditions linked once."""

    __slots__ = (
        "conditions", "guard", "guard_reads", "instructions", "loops", "matches", "plans",
        "reads_at",
    )  # fmt: skip

    def __init__(self, code: CodeObject) -> None:
        self.instructions = [(int(op), arg) for op, arg in code.instructions]
        self.plans = self._plans(code)
        self.loops = [LinkedLoop(info) for info in code.loops]
        self.matches = [LinkedMatch(info) for info in code.matches]
        self.conditions = [link(expr) for expr in code.exprs]
        condition_reads = [repositories_read(expr) for expr in code.exprs]
        self.reads_at = [self._reads(op, arg, condition_reads) for op, arg in self.instructions]
        self.guard = None if code.guard is None else link(code.guard)
        self.guard_reads = repositories_read(code.guard)

    def _plans(self, code: CodeObject) -> list[Plan]:
        """Each statement's plan; in code without jumps (every instruction a statement, in
        order) a plan also knows the one run right before it, unless that one has a ``when``
        (it may be skipped)."""
        straight = self.instructions == [(STMT, index) for index in range(len(code.statements))]
        plans: list[Plan] = []
        previous = None
        for info in code.statements:
            plan = Plan(info, code.name, code.activity, code.slot_index, previous)
            plans.append(plan)
            previous = plan if straight and plan.when_fn is None else None
        return plans

    def _reads(self, op: int, arg: Any, condition_reads: list) -> tuple[str, ...]:
        """The repositories the instruction reads synchronously, prefetched just before it
        runs on a backend that waits (a loop's next item re-reads only when filtered: the
        body may have stored)."""
        if op == STMT:
            return self.plans[arg].reads
        if op == JUMP_IF_NOT:
            return condition_reads[arg[0]]
        if op in (FOR_INIT, PARALLEL_FOR):
            return self.loops[arg].reads
        if op == FOR_NEXT:
            loop = self.loops[arg[0]]
            return loop.reads if loop.where is not None else ()
        if op == MATCH:
            return self.matches[arg].reads
        return ()


def linked(code: CodeObject) -> LinkedCode:
    if code.linked is None:
        code.linked = LinkedCode(code)
    return code.linked  # type: ignore[return-value]


#: Where ``advance`` stopped: ``(pc, awaitable, plan, prefetched)``, a plain tuple (made per
#: wait, so no constructor call).  Await ``awaitable``, then go on at ``pc``.  ``plan`` is the
#: statement whose value the awaitable gives (an asynchronous action), else None;
#: ``prefetched`` is ``pc`` when the instruction there runs again with its reads now prefetched
#: (or its loop refilled), else -1.
Wait = tuple[int, Awaitable[Any], "Plan | None", int]


def advance(
    frame: Frame, pc: int = 0, done: Plan | None = None, value: Any = UNBOUND, prefetched: int = -1
) -> Response | Wait:
    """Run the frame's instructions from ``pc`` until the end, a Return, or something to wait
    for: the Response, or a ``Wait``.  A handler whose statements are all plain calls
    runs to its end in one call, with no coroutine; ``execute`` drives the others.

    ``done`` is a statement whose ``value`` is still to be bound (an awaited action's);
    ``prefetched`` the instruction whose repository reads were just prefetched.
    """
    code = frame.code.linked or linked(frame.code)
    instructions = code.instructions
    reads_at = code.reads_at
    plans = code.plans
    slots = frame.slots
    truthy = values.truthy
    repositories = frame.services.repositories
    # Conditions, loops and matches read repositories synchronously: on a backend that
    # waits, what each reads is prefetched just before it is evaluated.
    waits = repositories.suspends
    plan = done
    end = len(instructions)
    while True:
        if plan is not None:  # the statement just run: end the run, or bind its value
            if plan.ends:
                return frame.response or NO_RETURN
            mode = plan.bind_mode
            if mode and value is not UNBOUND:
                slot = plan.result.slot
                if mode == BIND_ALWAYS or (mode == BIND_IF_NEW and slots[slot] is UNBOUND):
                    slots[slot] = value
            plan = None
        if pc >= end:
            return frame.response or NO_RETURN
        if waits and reads_at[pc]:
            if pc != prefetched:
                return (pc, repositories.prefetch(reads_at[pc]), None, pc)
            prefetched = -1  # done for this run of it; a loop may come back to it
        op, arg = instructions[pc]
        pc += 1
        if op == STMT:
            statement = plans[arg]
            when = statement.when_fn
            if when is not None and not truthy(when(frame)):
                continue
            if statement.fast_path:
                value = statement.object_fn(frame)
            else:
                try:
                    value = statement.func(statement, frame)
                except Exception as error:
                    fail(statement, error)
                if statement.is_async:
                    return (pc, value, statement, -1)
                if statement.may_wait and type(value) is CoroutineType:
                    return (pc, value, statement, -1)  # a plain action that must wait
            plan = statement
        elif op == JUMP:
            pc = arg
        elif op == JUMP_IF_NOT:
            condition, target = arg
            if not truthy(code.conditions[condition](frame)):
                pc = target
        elif op == FOR_INIT:
            loop = code.loops[arg]
            items = loop.items(frame)
            # A stream's loop state keeps the stream after the batch in hand.
            state = [items, 0] if type(items) is list else [[], 0, items]
            if frame.loop_state is None:
                frame.loop_state = [state]
            else:
                frame.loop_state.append(state)
        elif op == FOR_NEXT:
            loop = code.loops[arg[0]]
            advanced = _next_item(frame, loop)
            if advanced is REFILL:
                # advance again, from the new batch
                return (pc - 1, _refill(frame.loop_state[-1]), None, pc - 1)
            if not advanced:
                pc = arg[1]
        elif op == MATCH:
            pc = code.matches[arg].choose(frame)
        elif op == PARALLEL_FOR:
            loop = code.loops[arg]
            return (pc, _parallel_for(frame, loop), None, -1)
        elif op == PUBLISH:
            alias, slot = arg
            frame.services.events.publish(alias, frame.load(slot), frame.code.activity)
        elif op == REQUIRE:
            _require(frame, *arg)
        elif op == BREAK_OUTSIDE:
            raise BreakSignal()


async def execute(frame: Frame, outcome: Response | Wait | None = None) -> Response:
    """Run the frame's code object to its end or its first Return, waiting where it waits;
    ``outcome`` is what ``advance`` already answered for this frame, to go on from."""
    if outcome is None:
        outcome = advance(frame)
    while type(outcome) is tuple:
        pc, awaitable, plan, prefetched = outcome
        if plan is None:  # a prefetch done, or a loop refilled or run: go on at pc
            await awaitable
            outcome = advance(frame, pc, prefetched=prefetched)
            continue
        try:
            value = await awaitable
        except Exception as error:
            fail(plan, error)
        outcome = advance(frame, pc, plan, value)
    return outcome


def fail(plan: Plan, error: Exception) -> NoReturn:
    """A statement failed: an ARO error goes on as it is (a nested statement's, a break),
    anything else as this statement's error (a defect in an action still reads as ARO's)."""
    if isinstance(error, AroError) and not isinstance(error, ActionError):
        raise error
    raise statement_error(plan, error) from error


def statement_error(plan: Plan, cause: BaseException) -> StatementError:
    return StatementError(plan.headline, plan.feature, plan.activity, plan.statement, cause=cause)


def _next_item(frame: Frame, loop: LinkedLoop) -> bool | object:
    """Advance the innermost loop: bind the next item passing ``where``, or finish the loop;
    ``REFILL`` when its batch is used up and a stream may have more."""
    state = frame.loop_state[-1]
    items, position = state[0], state[1]
    info = loop.info
    slots = frame.slots
    while position < len(items):
        for slot in info.body_slots:
            slots[slot] = UNBOUND
        slots[info.item_slot] = items[position]
        if info.index_slot is not None:
            slots[info.index_slot] = position
        position += 1
        if loop.where is None or loop.where(frame) is True:
            state[1] = position
            return True
    if len(state) > 2:
        return REFILL
    for slot in info.body_slots:
        slots[slot] = UNBOUND
    slots[info.item_slot] = UNBOUND
    if info.index_slot is not None:
        slots[info.index_slot] = UNBOUND
    frame.loop_state.pop()
    return False


async def _refill(state: list) -> None:
    """Replace a stream loop's used-up batch with the next one; an empty batch ends the
    stream, and the state then finishes like a list's."""
    batch = await state[2].next_batch()
    state[0], state[1] = batch, 0
    if not batch:
        del state[2]


async def _parallel_for(frame: Frame, loop: LinkedLoop) -> None:
    """``parallel for each``: one child frame per item, at most ``concurrency`` at a time."""
    info = loop.info
    body = info.body
    limit = asyncio.Semaphore(info.concurrency or DEFAULT_PARALLELISM)

    async def run_one(position: int, item: Any) -> None:
        bindings = {info.item_name: item}
        if info.index_name is not None:
            bindings[info.index_name] = position
        child = Frame(body, frame.services, parent=frame, bindings=bindings)
        if loop.where is not None and loop.where(child) is not True:
            return
        async with limit:
            await execute(child)

    items = await loop.all_items(frame)
    await asyncio.gather(*(run_one(i, item) for i, item in enumerate(items)))


def _require(frame: Frame, name: str, source: str, slot: int) -> None:
    if source == "framework":
        return
    if source == "environment":
        frame.bind(slot, frame.services.environ.get(name, ""))
        return
    value = (frame.services.events.published.get(source) or {}).get(name, UNBOUND)
    if value is UNBOUND:
        value = frame.find(name)
    if value is UNBOUND:
        raise ActionError(f"Cannot require the {name} from the {source}.")
    frame.bind(slot, value)
