"""Frames: the variables of one running feature set.

Variables live in a slot array sized by the code object.  A slot that is not bound falls back
first to the enclosing scope's slot for the same name (a loop body that shadows a name), then,
by name, to the parent frame (event handlers see Application-Start's variables), then to the
values bound by name only (context values the code never mentions), and finally to the magic
names of docs/semantics.md, Variables and scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aro.lang.bytecode import CodeObject
from aro.vm import values
from aro.vm.errors import EvaluationError
from aro.vm.services import Services


class _Unbound:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNBOUND"


UNBOUND: Any = _Unbound()


class Response:
    """What ``Return`` produces: status name, reason, payload dict.  A feature set without a
    Return answers ``OK`` with the reason ``success``, as the reference does.  ``code`` is the
    status's HTTP code when a Return looked it up at link time, else 0 (looked up only by
    what answers HTTP: most event handlers' Responses are never encoded).  ``json`` is
    ``to_json(payload)`` when it was already written (by a Broadcast of the payload just
    before the Return), else None."""

    __slots__ = ("code", "json", "payload", "reason", "status")

    def __init__(
        self,
        status: str = "OK",
        reason: str = "success",
        payload: dict | None = None,
        json: bytes | None = None,
        code: int = 0,
    ) -> None:
        self.status = status
        self.reason = reason
        self.payload = payload if payload is not None else {}
        self.json = json
        self.code = code

    def __repr__(self) -> str:
        return f"Response({self.status!r}, {self.reason!r}, {self.payload!r})"


#: What a run that ends without a Return answers: one shared instance (a handler's run makes
#: none), so nobody may change it.
NO_RETURN = Response()


class Frame:
    __slots__ = ("code", "loop_state", "named", "parent", "response", "services", "slots")

    def __init__(
        self,
        code: CodeObject,
        services: Services,
        parent: Frame | None = None,
        bindings: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.slots: list[Any] = [UNBOUND] * len(code.slot_names)
        self.parent = parent
        self.services = services
        # made on first use: most handler runs bind nothing by name and run no loop
        self.named: dict[str, Any] | None = None
        self.response: Response | None = None
        self.loop_state: list[Any] | None = None
        # `Publish as` makes a value visible to later runs of the same business activity.
        published = services.events.published.get(code.activity)
        if published:
            self._bind_names(published)
        if bindings:
            self._bind_names(bindings)

    # -- reading ---------------------------------------------------------------------------

    def load(self, slot: int) -> Any:
        """The value of a slot, following shadowing and parents; EvaluationError if unbound."""
        value = self.slots[slot]
        if value is not UNBOUND:
            return value
        fallback = self.code.fallback
        outer = fallback[slot]
        while outer >= 0:
            value = self.slots[outer]
            if value is not UNBOUND:
                return value
            outer = fallback[outer]
        return self.lookup(self.code.slot_names[slot], skip_slots=True)

    def lookup(self, name: str, skip_slots: bool = False) -> Any:
        """The value of ``name`` by its text (templates, interpolation, guards, parents)."""
        value = self.find(name, skip_slots)
        if value is UNBOUND:
            raise EvaluationError(f"Undefined variable: {name}")
        return value

    def find(self, name: str, skip_slots: bool = False) -> Any:
        """Like ``lookup`` but returns UNBOUND instead of raising."""
        if not skip_slots:
            slot = self.code.slot_index.get(name)
            if slot is not None and self.slots[slot] is not UNBOUND:
                return self.slots[slot]
        named = self.named
        if named is not None:
            value = named.get(name, UNBOUND)
            if value is not UNBOUND:
                return value
        if self.parent is not None:
            return self.parent.find(name)
        return self._magic(name)

    def is_bound(self, slot: int) -> bool:
        """Whether ``<x> exists``: bound here, in a parent, or by name."""
        return self.load_or_unbound(slot) is not UNBOUND

    def load_or_unbound(self, slot: int) -> Any:
        try:
            return self.load(slot)
        except EvaluationError:
            return UNBOUND

    def _magic(self, name: str) -> Any:
        if name == "now":
            return values.now()
        if name == "application":
            return {"type": "application"}
        if name == "env":
            return dict(self.services.environ)
        try:
            return self.services.magic(name, ())
        except KeyError:
            return UNBOUND

    # -- writing ---------------------------------------------------------------------------

    def bind(self, slot: int, value: Any) -> None:
        self.slots[slot] = value

    def bind_name(self, name: str, value: Any) -> None:
        """Bind by text: into the name's outermost slot when the code has one."""
        slot = self.code.slot_index.get(name)
        if slot is not None:
            self.slots[slot] = value
        elif self.named is None:
            self.named = {name: value}
        else:
            self.named[name] = value

    def _bind_names(self, bindings: Mapping[str, Any]) -> None:
        """``bind_name`` for each, in one loop (a frame per event binds its event this way)."""
        slot_index, slots = self.code.slot_index, self.slots
        for name, value in bindings.items():
            slot = slot_index.get(name)
            if slot is not None:
                slots[slot] = value
            elif self.named is None:
                self.named = {name: value}
            else:
                self.named[name] = value

    def adopt_names(self, bindings: dict[str, Any], slotted: Sequence[tuple[int, str]]) -> None:
        """``bind_name`` for each of a fresh dict that nobody else holds, without copying it:
        the dict becomes the frame's by-name table, and each ``(slot, name)`` of ``slotted``
        (those of its names the code has a slot for, decided once per code object) is bound
        in its slot too, where it is found first."""
        if self.named is None:
            self.named = bindings
        else:  # published values: the bindings override them
            self.named.update(bindings)
        slots = self.slots
        for slot, name in slotted:
            value = bindings.get(name, UNBOUND)
            if value is not UNBOUND:
                slots[slot] = value

    def visible_names(self) -> dict[str, Any]:
        """Every variable this frame can see, outermost first (for templates and traces)."""
        seen = self.parent.visible_names() if self.parent is not None else {}
        if self.named:
            seen.update(self.named)
        for slot, name in enumerate(self.code.slot_names):
            value = self.slots[slot]
            if value is not UNBOUND:
                seen[name] = value
        return seen
