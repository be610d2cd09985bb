"""Collections read lazily: ``for each`` pulls them in batches instead of holding them whole.

``Stream the <lines> from "./big.log"`` binds an ``ItemStream``; the loop asks it for the next
batch only when the previous one is used up, so a file of any size costs one batch of memory.
The runtime implements the sources (a file's lines today); the VM only knows this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class ItemStream(ABC):
    """A one-pass sequence of values, fetched a batch at a time."""

    @abstractmethod
    async def next_batch(self) -> list[Any]:
        """The next items in order; an empty list once the stream is exhausted."""

    async def collect(self) -> list[Any]:
        """Every remaining item (for consumers that need them all at once)."""
        items: list[Any] = []
        while batch := await self.next_batch():
            items.extend(batch)
        return items

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"
