"""The table of actions: verb → implementation.

An action is a plain function ``action(plan, frame) -> value`` (or an ``async def`` when it must
wait: Sleep, Emit, Delete …).  An action that waits only sometimes may be a plain function
registered with ``may_wait=True``: it answers its value at once, or a coroutine (of type
``types.CoroutineType``) that the VM awaits for the value, so a run that never waits makes no
coroutine.  ``plan`` is the linked statement (``aro.vm.plan.Plan``): its
result/object nouns, preposition and clause closures; ``frame`` gives variables and, through
``frame.services``, the application's services.  Failures raise ``ActionError``; the VM turns
them into the statement-shaped error message.

Modules in ``aro.actions`` register with ``@action(...)``; ``aro.actions`` imports them all.
An action may also give a ``link(plan)`` function: when a statement is linked it may answer a
function specialized for that statement (what the general one would decide on every run,
decided once; ``async``, or plain and answering a coroutine only when it must wait, when the
action may wait), or None to keep the general one.
Every registered verb must have a row in the verb table (``aro.lang.verbs``), which says how
its statements bind their result and whether they take the expression fast path.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

from aro.lang.verbs import VERBS


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str  # canonical verb, lower case
    func: Callable
    prepositions: frozenset[str] | None  # None: any
    is_async: bool
    link: Callable | None = None  # plan -> a function specialized for it, or None
    #: it may wait: an ``async def``, or a plain function that answers a coroutine to await
    #: when it must (``action(..., may_wait=True)``)
    may_wait: bool = False


ACTIONS: dict[str, ActionSpec] = {}
#: The action behind every ``Namespace.Verb`` verb (user-defined and plugin actions).
NAMESPACED: list[ActionSpec] = []


def action(
    *verbs: str,
    prepositions: tuple[str, ...] | None = None,
    link: Callable | None = None,
    may_wait: bool = False,
) -> Callable:
    """Register ``func`` under every verb (case-insensitive); later registrations win.
    ``may_wait``: a plain ``func`` may answer a coroutine, which the VM awaits for its value.

    A verb without a row in the verb table raises here, at import time of its module.
    """
    unknown = [verb for verb in verbs if verb.lower() not in VERBS]
    if unknown:
        raise ValueError(
            f"@action: no row in the verb table (aro.lang.verbs) for {', '.join(unknown)}; add "
            "one saying how its result binds and whether it takes the expression fast path"
        )

    def register(func: Callable) -> Callable:
        is_async = inspect.iscoroutinefunction(func)
        spec = ActionSpec(
            name=verbs[0].lower(),
            func=func,
            prepositions=frozenset(prepositions) if prepositions is not None else None,
            is_async=is_async,
            link=link,
            may_wait=may_wait or is_async,
        )
        for verb in verbs:
            ACTIONS[verb.lower()] = spec
        return func

    return register


def namespaced_action(func: Callable) -> Callable:
    """Register ``func`` as the action of every ``Namespace.Verb`` that no built-in verb
    matches; the verb is then the namespace's business (the application resolves it)."""
    is_async = inspect.iscoroutinefunction(func)
    spec = ActionSpec("namespace.verb", func, None, is_async, may_wait=is_async)
    NAMESPACED[:] = [spec]
    return func


#: Actions for one object name only, by (verb, object base): ``Retrieve the <log> from the
#: <git>`` runs git's Retrieve, which waits, while Retrieve from a repository stays a plain call.
#: Chosen when a statement is linked, so the choice costs nothing per run.
OBJECT_ACTIONS: dict[tuple[str, str], ActionSpec] = {}


def object_action(
    obj: str, *verbs: str, prepositions: tuple[str, ...] | None = None
) -> Callable:
    """Register ``func`` for statements of ``verbs`` whose object is ``<obj>``."""

    def register(func: Callable) -> Callable:
        general = {verb.lower(): ACTIONS.get(verb.lower()) for verb in verbs}
        action(*verbs, prepositions=prepositions)(func)  # checks the verb table, builds the spec
        for verb, previous in general.items():
            OBJECT_ACTIONS[verb, obj] = ACTIONS.pop(verb)
            if previous is not None:
                ACTIONS[verb] = previous
        return func

    return register


def lookup(verb: str, obj: str | None = None) -> ActionSpec | None:
    """The action of ``verb`` for a statement whose object base is ``obj``."""
    if obj is not None:
        spec = OBJECT_ACTIONS.get((verb.lower(), obj))
        if spec is not None:
            return spec
    spec = ACTIONS.get(verb.lower())
    if spec is None and "." in verb and NAMESPACED:
        return NAMESPACED[0]
    return spec
