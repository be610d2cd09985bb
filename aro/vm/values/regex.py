"""User regular expressions: ``/pattern/flags`` literals, ``matches`` and Split patterns.

One compiler with one reading of the flags: ``i`` ignores case, ``s`` lets ``.`` match a
newline, ``m`` lets ``^``/``$`` match at line breaks, ``g`` (global) changes nothing because
every search and split already looks at the whole text; any other letter is ignored.
"""

from __future__ import annotations

import re
from functools import lru_cache

_FLAGS = {"i": re.IGNORECASE, "s": re.DOTALL, "m": re.MULTILINE, "g": 0}


@lru_cache(maxsize=512)
def compile_regex(pattern: str, flags: str = "") -> re.Pattern[str]:
    """The compiled pattern (cached); raises ``re.error`` when it is invalid, and each caller
    decides what that means (an error at link time, no match, an action error)."""
    options = 0
    for flag in flags:
        options |= _FLAGS.get(flag, 0)
    return re.compile(pattern, options)
