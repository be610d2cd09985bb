"""Repository actions: Store, Retrieve, Delete, and Accept (the state machine).

A repository is any object named ``*-repository`` (docs/semantics.md, Repositories); the application
hands it out through ``frame.services.repositories.get(name)``.  The object may be a noun
(``into the <user-repository>``) or, after ``to``/``from`` without an article, a bare
expression (``from <user-repository>``); both name the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aro.lang.names import is_repository
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action
from aro.vm.services import Repository

# The event bus channel of Accept's transitions (``aro.runtime.events.STATE_TRANSITION``).
STATE_TRANSITION = "state.transition"
TRANSITION_SEPARATOR = "_to_"
DEFAULT_STATE_FIELD = "status"
NEW_ENTRY = "new-entry"
SYSTEM = "system"  # Retrieve the <stats> from the <system>: CPU, memory and disk
_MISSING: Any = object()


def _object_name(plan: Plan) -> str | None:
    if plan.obj is not None:
        return plan.obj.base
    return plan.info.object_var


def _repository(plan: Plan, frame: Frame) -> Repository | None:
    name = _object_name(plan)
    if name is None or not is_repository(name):
        return None
    return frame.services.repositories.get(name)


def _where(plan: Plan, frame: Frame) -> tuple[str, str, Any] | None:
    if plan.info.where is None:
        return None
    field, operator, _ = plan.info.where
    return field, operator, plan.where_fn(frame)


# -- Store -------------------------------------------------------------------------------------


def _link_store(plan: Plan) -> Callable[[Plan, Frame], Any] | None:
    """``Store the <x> into the <y-repository>``: the repository's name decided once; a plain
    call that stores at once when the repository can, else answers the coroutine that waits."""
    name = _object_name(plan)
    if plan.bad_preposition or plan.result.specifiers or name is None or not is_repository(name):
        return None

    def store_into_repository(plan: Plan, frame: Frame) -> Any:
        data = plan.result_value(frame)
        if type(data) is list and not data:
            return UNBOUND
        repository = frame.services.repositories.get(name)
        if not repository.stores_now:
            return _store_waiting(repository, data, frame)
        _, is_new = repository.store_now(data)
        frame.bind_name(NEW_ENTRY, 1 if is_new else 0)
        return UNBOUND

    return store_into_repository


async def _store_waiting(repository: Repository, data: Any, frame: Frame) -> Any:
    _, is_new = await repository.store(data)
    frame.bind_name(NEW_ENTRY, 1 if is_new else 0)
    return UNBOUND


@action("store", "save", "persist", prepositions=("into", "to"), link=_link_store)
async def store(plan: Plan, frame: Frame) -> Any:
    """Upsert into a repository and wait for its observers.

    ``Store the <user> into …`` stores ``user``; ``Store the <saved: user> into …`` stores
    ``user`` and binds the stored value (with its id) to ``saved``.  ``new-entry`` becomes 1
    when the (last) element made a new row, else 0.  A target that is not a repository stores
    nothing, as in the reference.
    """
    plan.check_preposition()
    result = plan.result
    if result.specifiers:
        data = frame.find(result.specifiers[0])
        if data is UNBOUND:
            raise ActionError(f"Undefined variable: '{result.specifiers[0]}'")
    else:
        data = plan.result_value(frame)
    repository = _repository(plan, frame)
    if repository is None or (type(data) is list and not data):
        return UNBOUND
    if repository.stores_now:  # nothing to wait for: this coroutine ends at its first step
        stored, is_new = repository.store_now(data)
    else:
        stored, is_new = await repository.store(data)
    frame.bind_name(NEW_ENTRY, 1 if is_new else 0)
    if result.specifiers:
        frame.bind(result.slot, stored[-1] if type(data) is list else stored)
    return UNBOUND


# -- Retrieve ----------------------------------------------------------------------------------


@action("retrieve", "fetch", "load", "find", prepositions=("from",))
def retrieve(plan: Plan, frame: Frame) -> Any:
    """Rows of a repository, the machine's load from ``<system>``, or the value of any other
    named variable.

    Order of the rules: an object specifier ``first``/``last`` (``""`` when empty) or a reverse
    index (out of range or unknown: every row); then a ``where`` matching exactly one row gives
    that row; then no rows give the ``default`` when there is one; else the list.
    """
    plan.check_preposition()
    if plan.obj is not None and plan.obj.base == SYSTEM:
        return frame.services.system.metrics()
    repository = _repository(plan, frame)
    if repository is None:
        value = plan.object_value(frame, _MISSING)
        if value is _MISSING:
            raise ActionError(f"Repository not found: '{_object_name(plan)}'")
        return value
    where = _where(plan, frame)
    rows = repository.rows_now(where)  # prefetched before this statement if its backend waits
    if plan.obj is not None and plan.obj.specifiers:
        return _select(rows, plan.obj.specifiers[0].lower())
    if where is not None and len(rows) == 1:
        return rows[0]
    if not rows and plan.default_fn is not None:
        return plan.default_fn(frame)
    return rows


def _select(rows: list[Any], specifier: str) -> Any:
    if specifier == "first":
        return rows[0] if rows else ""
    if specifier == "last":
        return rows[-1] if rows else ""
    if specifier.isascii() and specifier.isdigit() and int(specifier) < len(rows):
        return rows[-1 - int(specifier)]
    return rows


# -- Delete ------------------------------------------------------------------------------------


@action("delete", "remove", "destroy", prepositions=("from", "for"))
async def delete(plan: Plan, frame: Frame) -> Any:
    """Delete rows of a repository (``where``, else all of them), or take a key out of a dict
    or a reverse-indexed element out of a list.

    Deleting from a repository answers ``{target, success}`` (the reference rebinds the result
    to its DeleteResult; ``success`` says whether a ``where`` matched); its observers are
    notified without waiting.  (A write, so it may wait for a backend that suspends.)
    """
    plan.check_preposition()
    result = plan.result
    repository = _repository(plan, frame)
    if repository is not None:
        where = _where(plan, frame)
        deleted = repository.delete(where)
        if repository.suspends:
            deleted = await deleted
        return {"target": result.base, "success": where is None or bool(deleted)}
    source = plan.object_value(frame)
    key = result.specifiers[0] if result.specifiers else result.base
    if type(source) is dict:
        return {name: value for name, value in source.items() if name != key}
    if type(source) is list and key.isascii() and key.isdigit() and int(key) < len(source):
        position = len(source) - 1 - int(key)
        return source[:position] + source[position + 1 :]
    return {"target": result.base, "success": True}


# -- Accept ------------------------------------------------------------------------------------


@action("accept", prepositions=("on",))
async def accept(plan: Plan, frame: Frame) -> Any:
    """``Accept the <transition: draft_to_placed> on <order: status>``.

    Fails unless the field (default ``status``) holds the ``from`` state; then sets it to the
    ``to`` state, rebinds the object, and waits for the StateTransition handlers and
    StateObservers.  Answers the updated object.
    """
    plan.check_preposition()
    obj = plan.obj
    if obj is None:
        raise ActionError("Accept needs an object: on <object: field>")
    from_state, to_state = _transition(plan)
    field = obj.specifiers[0] if obj.specifiers else DEFAULT_STATE_FIELD
    target = frame.load_or_unbound(obj.slot)
    if target is UNBOUND:
        raise ActionError(f"Undefined variable: '{obj.base}'")
    if type(target) is not dict or type(target.get(field)) is not str:
        raise ActionError(f"Property '{field}' not found on type '{obj.base}'")
    if target[field] != from_state:
        raise ActionError(
            f"Cannot accept state {from_state}->{to_state} on {obj.base}: {field}. "
            f'Current state is "{target[field]}".'
        )
    updated = {**target, field: to_state}
    frame.bind(obj.slot, updated)
    transition = {
        "fieldName": field,
        "objectName": obj.base,
        "fromState": from_state,
        "toState": to_state,
        "entity": updated,
    }
    if "id" in updated:
        transition["entityId"] = values.describe(updated["id"])
    await frame.services.events.emit(STATE_TRANSITION, transition)
    return updated


def _transition(plan: Plan) -> tuple[str, str]:
    """``from_to_to`` from the first result specifier, else the base, else the specifiers
    joined by ``-`` (the reference's order of attempts)."""
    result = plan.result
    specifiers = result.specifiers
    if specifiers and TRANSITION_SEPARATOR in specifiers[0]:
        text = specifiers[0]
    elif TRANSITION_SEPARATOR in result.base:
        text = result.base
    else:
        text = "-".join(specifiers)
    parts = text.split(TRANSITION_SEPARATOR)
    if len(parts) != 2 or not all(parts):
        raise ActionError(f"Invalid state transition '{text}': expected <transition: from_to_to>")
    return parts[0], parts[1]
