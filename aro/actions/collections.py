"""Collection actions: Sort, Filter, Map, Reduce, Group, Split, Join.

The collection is the object's value (its base name only, as in the reference); Split alone
walks the object's specifiers.
"""

from __future__ import annotations

import re
from typing import Any

from aro.actions.core import operation_name
from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

SORT_ORDERS = frozenset(("ascending", "descending"))
# Result specifiers of Map that name a type, not a field to project.
TYPE_SPECIFIERS = frozenset((
    "List", "Array", "Set", "Integer", "Int", "Float", "Double", "Number", "String", "Boolean",
    "Bool", "Object", "Dictionary", "Map",
))  # fmt: skip


@action("sort", "order", "arrange", prepositions=("for", "with"))
def sort(plan: Plan, frame: Frame) -> Any:
    """Sort a list of strings or of numbers; ``<x: descending>`` reverses.  Anything else is
    returned unchanged."""
    plan.check_preposition()
    collection = plan.object_value(frame)
    order = operation_name(plan, SORT_ORDERS, "ascending")
    if not isinstance(collection, list):
        return collection
    return values.sort_values(collection, order.lower() == "descending")


@action("filter", prepositions=("from",))
def filter_(plan: Plan, frame: Frame) -> Any:
    """Keep the dict items whose field passes ``where <field> op value``.  Without a where
    clause, three result specifiers ``<x: field.op.value>`` give the predicate; with neither,
    or when the object is not a list, the object is returned unchanged."""
    plan.check_preposition()
    source = plan.object_value(frame)
    if plan.info.where is not None:
        field, op, _ = plan.info.where
        expected = plan.where_fn(frame)
    elif len(plan.result.specifiers) >= 3:
        field, op, expected = plan.result.specifiers[:3]
    else:
        return source
    if not isinstance(source, list):
        return source
    return [item for item in source if values.where_match(item, field, op, expected)]


@action("map", prepositions=("from", "to"))
def map_(plan: Plan, frame: Frame) -> Any:
    """``<names: field>`` projects ``field`` from each dict item (items without it are
    dropped) or from a single dict; without a field the value passes through."""
    plan.check_preposition()
    source = plan.object_value(frame)
    field = next((s for s in plan.result.specifiers if s not in TYPE_SPECIFIERS), None)
    if field is None:
        return source
    if isinstance(source, list):
        return [item[field] for item in source if isinstance(item, dict) and field in item]
    if isinstance(source, dict):
        if field not in source:
            raise ActionError(f"Undefined variable: {field}")
        return source[field]
    return source


@action("reduce", "aggregate", prepositions=("from", "with"))
def reduce(plan: Plan, frame: Frame) -> Any:
    """``with sum(<f>)``, ``avg``, ``min``, ``max``, ``count()`` (also first/last).  Without an
    aggregation clause the result specifiers name it (``<total: sum.amount>``); the object's
    first specifier is the field when none is given."""
    plan.check_preposition()
    source = plan.object_value(frame)
    if plan.info.aggregation is not None:
        func, field = plan.info.aggregation
    else:
        specifiers = plan.result.specifiers
        func = specifiers[0] if specifiers else "count"
        field = specifiers[1] if len(specifiers) > 1 else None
    func = func.lower()
    if field is None and plan.obj is not None and plan.obj.specifiers:
        field = plan.obj.specifiers[0]
    if not isinstance(source, list):
        return 1 if func == "count" else source
    return values.reduce_values(source, func, field)


@action("group", prepositions=("from",))
def group(plan: Plan, frame: Frame) -> dict:
    """``by "field"`` (or the result specifier) → dict of field value (as text) → items."""
    plan.check_preposition()
    source = plan.object_value(frame)
    by = plan.info.by_expr
    if by is not None and by[0] == "const" and isinstance(by[1], str):
        field = by[1]
    elif plan.result.specifiers:
        field = plan.result.specifiers[0]
    else:
        raise ActionError("Group needs a 'by' clause with a field name")
    return values.group_by(source if isinstance(source, list) else [source], field)


@action("split", prepositions=("from",))
def split(plan: Plan, frame: Frame) -> list:
    """Split the object's text by the ``by`` regex (``by /re/``, ``by "re"`` or ``by <var>``);
    empty segments are kept and no match gives ``[text]``."""
    plan.check_preposition()
    text = plan.object_value(frame)
    if plan.obj is not None:
        for specifier in plan.obj.specifiers:
            if isinstance(text, dict) and specifier in text:
                text = text[specifier]
    if not isinstance(text, str):
        name = plan.obj.base if plan.obj is not None else "_expression_"
        raise ActionError(f"Cannot split {name}: not a string")
    pattern = plan.by_fn(frame) if plan.by_fn is not None else None
    if not isinstance(pattern, (str, re.Pattern)):
        raise ActionError("Split needs a 'by' clause with a pattern")
    return values.split_text(text, pattern)


@action("join", prepositions=("from",))
def join(plan: Plan, frame: Frame) -> str:
    """Join the items' descriptions with the ``with`` string (default no separator); a
    single value gives its description."""
    plan.check_preposition()
    collection = plan.object_value(frame)
    separator = plan.with_fn(frame) if plan.with_fn is not None else ""
    if not isinstance(separator, str):
        separator = ""
    if isinstance(collection, list):
        return values.join_values(collection, separator)
    return values.describe(collection)
