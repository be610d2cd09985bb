"""User regular expressions: the patterns of ``matches``, Filter's ``where … matches`` and Split."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=512)
def compile_regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    """The compiled pattern (cached); raises ``re.error`` when it is invalid."""
    options = 0
    if "i" in flags:
        options |= re.IGNORECASE
    if "s" in flags:
        options |= re.DOTALL
    if "m" in flags:
        options |= re.MULTILINE
    return re.compile(pattern, options)
