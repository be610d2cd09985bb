"""Parse: structured text into values.  ``link-header`` is the one kind the reference parses:
an RFC 8288 ``Link`` header into a map from each ``rel`` to its URL."""

from __future__ import annotations

from aro.vm import values
from aro.vm.errors import ActionError
from aro.vm.frame import Frame
from aro.vm.plan import Plan
from aro.vm.registry import action

PARSERS = ("link-header",)


@action("parse", prepositions=("from",))
def parse(plan: Plan, frame: Frame) -> dict[str, str]:
    """``Parse the <links: link-header> from the <header>``."""
    plan.check_preposition()
    kind = plan.result.specifiers[0] if plan.result.specifiers else ""
    if kind.lower() not in PARSERS:
        raise ActionError(
            f"Invalid value '{kind}' for parse type. Valid values: {', '.join(PARSERS)}"
        )
    source = plan.object_value(frame)
    if plan.obj is not None and plan.obj.specifiers and plan.object_fn is None:
        source = values.property_path(source, plan.obj.specifiers)
    return parse_link_header(source if isinstance(source, str) else values.describe(source))


def parse_link_header(header: str) -> dict[str, str]:
    """``<url>; rel="next", <url2>; rel=prev`` → ``{"next": url, "prev": url2}``.  Entries
    without angle brackets or without ``rel`` are skipped; a later entry wins a repeated rel."""
    links: dict[str, str] = {}
    for entry in _top_level_entries(header):
        target, *parameters = entry.split(";")
        target = target.strip()
        if not (target.startswith("<") and target.endswith(">")) or len(target) < 3:
            continue
        rel = _rel(parameters)
        if rel:
            links[rel] = target[1:-1]
    return links


def _top_level_entries(header: str) -> list[str]:
    """Split on the commas outside ``<…>`` (a URL may hold commas)."""
    entries, current, depth = [], [], 0
    for char in header:
        if char == "," and depth == 0:
            entries.append("".join(current))
            current = []
            continue
        depth += (char == "<") - (char == ">")
        current.append(char)
    if "".join(current).strip():
        entries.append("".join(current))
    return entries


def _rel(parameters: list[str]) -> str | None:
    for parameter in parameters:
        name, equals, value = parameter.strip().partition("=")
        if equals and name.strip().lower() == "rel":
            return value.strip().removeprefix('"').removesuffix('"') or None
    return None
