"""ARO values and the pure functions over them, one module per concern.

Values are plain Python objects (the table is in ``model``).  What the functions do mirrors the
reference runtime: ``describe`` is Swift's ``String(describing:)``, ``format_log`` the human Log
format, ``to_json`` Foundation's ``JSONSerialization`` with ``.sortedKeys``.

``model``        the Python type of each ARO type, type names, number coercion
``dates``        ISO-8601 parsing, date properties, offsets, LDML formatting
``text``         ``describe``, the human Log format, user-perceived characters
``json``         JSON in Foundation's key order, and parsing
``regex``        the one compiler of user regular expressions and their flags
``markdown``     the built-in Markdown subset
``operators``    expression semantics: truthiness, ``==``, ordering, arithmetic, ``matches``…
``sets``         multiset intersect, difference and union
``compute``      the ``Compute`` operations
``transform``    the ``Transform`` conversions
``collections``  Filter, Sort, Reduce, Group, Split, Join, Merge
``paths``        Extract-style property paths

The names below are the functions themselves (not wrappers), so ``values.describe(x)`` costs
what it did when this was one module.
"""

from aro.vm.values.collections import (
    group_by,
    join_values,
    merge_values,
    reduce_values,
    sort_values,
    split_text,
    where_match,
)
from aro.vm.values.compute import compute, is_compute_op
from aro.vm.values.dates import format_date, iso, now, parse_date
from aro.vm.values.json import (
    JsonTooDeep,
    collation_key,
    foundation_order,
    from_json,
    json_leaf,
    to_json,
)
from aro.vm.values.markdown import markdown_to_html
from aro.vm.values.model import Value, as_number, type_label
from aro.vm.values.operators import (
    binary,
    compare,
    contains,
    equals,
    index,
    is_number,
    matches,
    member,
    negate,
    truthy,
    type_check,
)
from aro.vm.values.paths import property_path, select_element
from aro.vm.values.regex import compile_regex
from aro.vm.values.text import characters, describe, format_log, format_payload_lines
from aro.vm.values.transform import convert

__all__ = [
    "JsonTooDeep",
    "Value",
    "as_number",
    "binary",
    "characters",
    "collation_key",
    "compare",
    "compile_regex",
    "compute",
    "contains",
    "convert",
    "describe",
    "equals",
    "format_date",
    "format_log",
    "format_payload_lines",
    "foundation_order",
    "from_json",
    "group_by",
    "index",
    "is_compute_op",
    "is_number",
    "iso",
    "join_values",
    "json_leaf",
    "markdown_to_html",
    "matches",
    "member",
    "merge_values",
    "negate",
    "now",
    "parse_date",
    "property_path",
    "reduce_values",
    "select_element",
    "sort_values",
    "split_text",
    "to_json",
    "truthy",
    "type_check",
    "type_label",
    "where_match",
]
