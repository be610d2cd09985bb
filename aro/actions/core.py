"""Core data actions: Extract, Create, Compute, Validate, Compare, Transform, Update, Merge.

As in the reference, these actions read the *object* as the value of its base name only
(``from the <user: name>`` reads all of ``user``); Extract, Update and Split are the ones that
walk object specifiers.  ``statement_expression`` is the reference's ``_expression_``: the
object expression, or the ``with`` value when the object is a noun.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aro.actions.templates import template_path
from aro.lang.names import is_repository
from aro.vm import entity_ids, values
from aro.vm.errors import ActionError
from aro.vm.frame import UNBOUND, Frame
from aro.vm.plan import Plan
from aro.vm.registry import action
from aro.vm.values.dates import required_date
from aro.vm.values.periods import PERIODS, DateRange, Recurrence, recurrence

VALIDATION_RULES = frozenset(("required", "exists", "nonempty", "email", "numeric"))
TRANSFORM_TYPES = frozenset(
    ("string", "int", "integer", "double", "float", "bool", "boolean", "json", "identity")
)
# Result specifiers of Extract that are never a schema name.
ELEMENT_SPECIFIERS = frozenset((
    "first", "last", "length", "count", "days", "year", "month", "day", "hour", "minute",
    "second", "weekday", "timezone", "start", "end", "pattern", "next", "all", "years", "months",
    "hours", "minutes", "seconds",
))  # fmt: skip
_MISSING: Any = object()  # a default that tells "unbound" apart from a bound value


def statement_expression(plan: Plan, frame: Frame) -> Any:
    """The object expression's value, else the ``with`` value, else UNBOUND."""
    if plan.object_fn is not None:
        return plan.object_fn(frame)
    if plan.with_fn is not None:
        return plan.with_fn(frame)
    return UNBOUND


def operation_name(plan: Plan, known: frozenset[str] | None, fallback: str) -> str:
    """The operation of Compute/Validate/Transform/Sort: the result specifiers joined, else the
    result base when it names a known operation (``<length>``), else ``fallback``."""
    if plan.result.specifiers:
        return ".".join(plan.result.specifiers)
    base = plan.result.base
    is_known = values.is_compute_op(base) if known is None else base.lower() in known
    return base if is_known else fallback


# -- Extract -----------------------------------------------------------------------------------


def _link_extract(plan: Plan) -> Callable[[Plan, Frame], Any] | None:
    """The handlers' usual first statements, decided at link time: ``Extract the <x> from
    the <obj: a.b>`` (a property path of a variable, no result specifier) and ``Extract the
    <x: key> from the <obj>`` (a key of a variable's map)."""
    obj = plan.obj
    if plan.bad_preposition or plan.object_fn is not None or obj is None:
        return None
    if obj.base in ("env", "parameter"):
        return None
    if not obj.specifiers:
        return _link_extract_key(plan)
    if plan.result.specifiers:
        return None
    path = obj.specifiers
    property_path = values.property_path
    slot = obj.slot
    key = path[0] if len(path) == 1 else None  # <event: message>: one key of a map

    def extract_property(plan: Plan, frame: Frame) -> Any:
        value = frame.slots[slot]  # bound in this frame: the usual case, no calls
        if value is UNBOUND:
            value = plan.object_value(frame)
        if key is not None and type(value) is dict:
            found = value.get(key, UNBOUND)
            if found is not UNBOUND:
                return found
        return property_path(value, path)

    return extract_property


def _link_extract_key(plan: Plan) -> Callable[[Plan, Frame], Any] | None:
    """``Extract the <x: key> from the <obj>``, ``key`` no schema name: a map's value of
    ``key`` (the map itself without one) as ``extract`` answers it; any other value takes
    ``extract``."""
    specifiers = plan.result.specifiers
    if not specifiers or _is_schema_name(specifiers[0]):
        return None
    key, slot = specifiers[0], plan.obj.slot

    def extract_key(plan: Plan, frame: Frame) -> Any:
        source = frame.slots[slot]
        if type(source) is dict:
            return source.get(key, source)
        return extract(plan, frame)

    return extract_key


@action("extract", "get", prepositions=("from", "via"), link=_link_extract)
def extract(plan: Plan, frame: Frame) -> Any:
    """Resolve the object, walk its specifiers as a property path, then apply the result
    specifier: first/last/index/range/pick on lists, a key on dicts or key-value text.

    A PascalCase result specifier names an OpenAPI schema; schemas are not loaded yet, so
    typed extraction only checks that the value is an object.
    """
    plan.check_preposition()
    obj = plan.obj
    if obj is not None and obj.base == "env" and obj.specifiers:
        return frame.services.environ.get(obj.specifiers[0], "")
    if obj is not None and obj.base == "parameter":
        parameters = frame.services.parameters
        if not obj.specifiers:
            return dict(parameters)
        if obj.specifiers[0] not in parameters:
            raise ActionError(f"Undefined variable: parameter:{obj.specifiers[0]}")
        return parameters[obj.specifiers[0]]
    source = plan.object_value(frame)
    if obj is not None and obj.specifiers:
        source = values.property_path(source, obj.specifiers)
    elif isinstance(source, str):
        source = _parse_json_text(source)
    if not plan.result.specifiers:
        return source
    key = plan.result.specifiers[0]
    if _is_schema_name(key):
        if not isinstance(source, dict):
            raise ActionError(f"Value does not match schema {key}")
        return source
    if isinstance(source, list):
        return values.select_element(source, key)
    if type(source) in PERIODS:
        return values.property_path(source, (key,))
    if isinstance(source, dict):
        return source.get(key, source)
    if isinstance(source, str):
        try:
            return values.property_path(source, (key,))
        except ActionError:
            return source
    return source


def _parse_json_text(text: str) -> Any:
    if not text.strip().startswith(("{", "[")):
        return text
    try:
        return values.from_json(text)
    except ValueError:
        return text


def _is_schema_name(specifier: str) -> bool:
    if specifier.lower() in ELEMENT_SPECIFIERS:
        return False
    return specifier[:1].isupper() and specifier.isalnum()


# -- Create ------------------------------------------------------------------------------------


def _link_create(plan: Plan) -> Callable[[Plan, Frame], Any] | None:
    """``Create the <x: Type> with { … }`` without an ``id`` field: the map literal (the
    object expression, else the ``with`` clause, as ``statement_expression`` takes them) is
    a new dict on every run, so its id goes in place, not into a copy."""
    specifiers = plan.result.specifiers
    if plan.object_fn is not None:
        literal, build = plan.info.object_expr, plan.object_fn
    else:
        literal, build = plan.info.with_expr, plan.with_fn
    if plan.bad_preposition or not specifiers:
        return None
    if specifiers[0].lower() in PERIOD_BUILDERS or literal is None or literal[0] != "map":
        return None
    if any(key == "id" for key, _ in literal[1]):
        return None
    mint = entity_ids.mint

    def create_entity(plan: Plan, frame: Frame) -> dict[str, Any]:
        entity = build(frame)
        entity["id"] = mint()
        return entity

    return create_entity


@action(
    "create", "build", "construct", prepositions=("with", "from", "for", "to"), link=_link_create
)
def create(plan: Plan, frame: Frame) -> Any:
    """The ``with``/expression value, else the object's value, else ``""``.  A result with a
    type specifier (``<order: Order>``) gets an ``id`` when the value is a dict without one;
    ``date-range`` and ``recurrence`` build those values."""
    plan.check_preposition()
    specifiers = plan.result.specifiers
    period = PERIOD_BUILDERS.get(specifiers[0].lower()) if specifiers else None
    if period is not None:
        return period(plan, frame)
    value = statement_expression(plan, frame)
    if value is UNBOUND:
        value = plan.object_value(frame, default="")
    if specifiers and isinstance(value, dict) and "id" not in value:
        value = {**value, "id": entity_ids.mint()}
    return value


def _date_range(plan: Plan, frame: Frame) -> DateRange:
    """``Create the <r: date-range> from <start> to <end>``."""
    if plan.to_fn is None:
        raise ActionError("'Create date-range' requires a 'to' clause")
    start = required_date(plan.object_value(frame))
    return DateRange(start, required_date(plan.to_fn(frame)))


def _recurrence(plan: Plan, frame: Frame) -> Recurrence:
    """``Create the <r: recurrence> with "every monday"``; with both a ``with`` pattern and a
    ``from`` object, the object is the start date (``from <kickoff> with "every 2 weeks"``)."""
    if plan.with_fn is not None and plan.prep == "from":
        pattern, start = plan.with_fn(frame), required_date(plan.object_value(frame))
    else:
        pattern, start = statement_expression(plan, frame), None
        if pattern is UNBOUND:
            pattern = plan.object_value(frame, default=plan.obj.base if plan.obj else "")
    if not isinstance(pattern, str):
        raise ActionError(f"Invalid recurrence pattern: '{values.describe(pattern)}'")
    return recurrence(pattern, start)


PERIOD_BUILDERS = {"date-range": _date_range, "daterange": _date_range, "recurrence": _recurrence}


# -- Compute -----------------------------------------------------------------------------------


@action("compute", "calculate", "derive", prepositions=("from", "for", "with"))
def compute(plan: Plan, frame: Frame) -> Any:
    """Apply the operation named by the result (``<len: length>``, ``<length>``) to the object's
    value; the ``with`` value (or ``to`` for ``distance``) is the operation's argument."""
    plan.check_preposition()
    value = plan.object_value(frame)
    op = operation_name(plan, None, "identity")
    argument = None
    if plan.with_fn is not None:
        argument = plan.with_fn(frame)
    elif plan.to_fn is not None:
        argument = plan.to_fn(frame)
    if "." in op:  # `<x: handler.name>`: a plugin's qualifier, when one provides it
        qualifier = frame.services.qualifiers.qualifier(op)
        if qualifier is not None:
            return qualifier(value, argument)
    return values.compute(op, value, argument)


# -- Validate / Compare ------------------------------------------------------------------------


@action("validate", "verify", "check", prepositions=("for", "against", "with"))
def validate(plan: Plan, frame: Frame) -> dict:
    """``{isValid, rule}``; rules required/exists/nonempty/email/numeric (default required,
    unknown rules pass).  Never fails on an invalid value."""
    plan.check_preposition()
    value = plan.object_value(frame)
    rule = operation_name(plan, VALIDATION_RULES, "required")
    return {"isValid": _check_rule(rule.lower(), value), "rule": rule}


def _check_rule(rule: str, value: Any) -> bool:
    if rule in ("required", "exists"):
        return not (value is None or value == "" or value == [])
    if rule == "nonempty":
        return not (isinstance(value, (str, list)) and not value)
    if rule == "email":
        return isinstance(value, str) and "@" in value and "." in value
    if rule == "numeric":
        return values.as_number(value) is not None
    return True


@action("compare", prepositions=("against", "with", "to"))
def compare(plan: Plan, frame: Frame) -> dict:
    """Compare the result variable with the object: ``{matches, result}`` where result is
    equal, notEqual, less or greater.  Never fails on a mismatch."""
    plan.check_preposition()
    outcome = _compare(plan.result_value(frame), plan.object_value(frame))
    return {"matches": outcome == "equal", "result": outcome}


def _compare(lhs: Any, rhs: Any) -> str:
    if isinstance(lhs, str) and isinstance(rhs, str):
        return "equal" if lhs == rhs else "less" if lhs < rhs else "greater"
    left, right = values.as_number(lhs), values.as_number(rhs)
    if left is not None and right is not None:
        return "equal" if left == right else "less" if left < right else "greater"
    if isinstance(lhs, bool) and isinstance(rhs, bool):
        return "equal" if lhs == rhs else "notEqual"
    return "equal" if values.describe(lhs) == values.describe(rhs) else "notEqual"


# -- Transform ---------------------------------------------------------------------------------


@action("transform", "convert", prepositions=("from", "into", "to"))
async def transform(plan: Plan, frame: Frame) -> Any:
    """Convert the object's value to the type named by the result (string, int, double, bool,
    json, identity), or render a ``<template: …>`` object.  Asynchronous because a
    template's statements may wait."""
    plan.check_preposition()
    if plan.obj is not None and plan.obj.base.lower() == "template":
        path = template_path(plan.obj, frame)
        return await frame.services.templates.render(path, frame, None)
    value = plan.object_value(frame)
    return values.convert(operation_name(plan, TRANSFORM_TYPES, "identity"), value)


# -- Update ------------------------------------------------------------------------------------


@action(
    "update", "modify", "change", "set", "configure", prepositions=("with", "to", "for", "from")
)
def update(plan: Plan, frame: Frame) -> Any:
    """``<obj: field>`` sets one field of ``obj`` (an unbound ``obj`` starts as ``{}``);
    ``<obj>`` shallow-merges a dict value into ``obj``; otherwise the value replaces it.
    ``Configure the <x-repository: maxSize|ttl> with N`` configures that repository."""
    plan.check_preposition()
    result = plan.result
    new_value = _update_value(plan, frame)
    entity = plan.result_value(frame, default={})
    if is_repository(result.base) and result.specifiers:
        _configure_repository(frame, result.base, result.specifiers[0], new_value)
    if result.specifiers:
        fields = dict(entity) if isinstance(entity, dict) else {}
        fields[result.specifiers[0]] = new_value
        return fields
    if isinstance(entity, dict) and isinstance(new_value, dict):
        return {**entity, **new_value}
    return new_value


def _update_value(plan: Plan, frame: Frame) -> Any:
    """The expression's value, or the object noun's value along its specifiers; an unbound
    object noun is taken literally (``to the <active>`` → ``"active"``)."""
    if plan.object_fn is not None or plan.obj is None:
        return plan.object_value(frame)
    value = plan.object_value(frame, default=_MISSING)
    if value is _MISSING:
        return plan.obj.base
    if plan.obj.specifiers:
        if not isinstance(value, dict):
            raise ActionError(f"Property '{plan.obj.specifiers[0]}' not found on {plan.obj.base}")
        return values.property_path(value, plan.obj.specifiers)
    return value


def _configure_repository(frame: Frame, name: str, option: str, value: Any) -> None:
    if option not in ("maxSize", "ttl") or not values.is_number(value):
        return
    repository = frame.services.repositories.get(name)
    repository.configure(option, int(value) if option == "maxSize" else value)


# -- Merge -------------------------------------------------------------------------------------


@action("merge", "combine", prepositions=("with", "from"))
def merge(plan: Plan, frame: Frame) -> Any:
    """``Merge the <new: base> with <src>``: ``base`` merged with the object into ``new``;
    ``Merge the <t> with/from <src>``: the existing ``t`` merged with the object.  Dicts merge
    shallowly (the object wins), lists and strings concatenate, other pairs keep the base."""
    plan.check_preposition()
    result = plan.result
    if result.specifiers:
        base = frame.find(result.specifiers[0])
        if base is UNBOUND:
            raise ActionError(f"Undefined variable: {result.specifiers[0]}")
    else:
        base = plan.result_value(frame, default=_MISSING)
        if base is _MISSING:
            raise ActionError(f"Merge needs a base value: {result.base} is not bound")
    return values.merge_values(base, plan.object_value(frame))
