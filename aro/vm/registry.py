"""The table of actions: verb → implementation.

An action is a plain function ``action(plan, frame) -> value`` (or an ``async def`` when it must
wait: Sleep, Emit, Store …).  ``plan`` is the linked statement (``aro.vm.plan.Plan``): its
result/object nouns, preposition and clause closures; ``frame`` gives variables and, through
``frame.services``, the application's services.  Failures raise ``ActionError``; the VM turns
them into the statement-shaped error message.

Modules in ``aro.actions`` register with ``@action(...)``; ``aro.actions`` imports them all.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str  # canonical verb, lower case
    func: Callable
    prepositions: frozenset[str] | None  # None: any
    is_async: bool


ACTIONS: dict[str, ActionSpec] = {}


def action(*verbs: str, prepositions: tuple[str, ...] | None = None) -> Callable:
    """Register ``func`` under every verb (case-insensitive); later registrations win."""

    def register(func: Callable) -> Callable:
        spec = ActionSpec(
            name=verbs[0].lower(),
            func=func,
            prepositions=frozenset(prepositions) if prepositions is not None else None,
            is_async=inspect.iscoroutinefunction(func),
        )
        for verb in verbs:
            ACTIONS[verb.lower()] = spec
        return func

    return register


def lookup(verb: str) -> ActionSpec | None:
    return ACTIONS.get(verb.lower())


# Binding rules of ARO-LANGUAGE.md §3.4 step 5.
RESPONSE_VERBS = frozenset(
    "return respond throw raise fail send dispatch emit output write store save persist log print "
    "debug notify alert signal broadcast render repaint patch include embed insert".split()
)
REBINDING_VERBS = frozenset(
    "accept update modify change set configure delete remove destroy clear show merge combine "
    "join concat".split()
)
REQUEST_VERBS = frozenset(
    "retrieve fetch load find extract parse get request probe receive read".split()
)

# Verbs that never take the expression fast path (§3.4 step 3).
NO_FAST_PATH_VERBS = frozenset(
    "then assert call invoke request probe fetch retrieve listen merge combine join concat write "
    "read store save persist log print send emit notify alert signal broadcast filter map reduce "
    "aggregate split group start stop restart keepalive schedule stream subscribe sleep delay "
    "pause update modify change set configure include embed insert close disconnect terminate"
    .split()
)
# These take the fast path only when the result has no specifier.
FAST_PATH_WITHOUT_SPECIFIERS = frozenset(
    "create make build construct compute calculate derive extract parse get".split()
)
# Response-role verbs still run on the fast path.
ALWAYS_RUN_VERBS = frozenset("return respond throw raise fail".split())
