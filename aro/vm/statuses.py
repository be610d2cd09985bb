"""HTTP status codes by the status names a Return uses (docs/decisions.md, decision 3).

In the VM layer so that a Response can carry its code from where it is made: a linked Return,
whose status name is constant, looks it up once, at link time.
"""

from __future__ import annotations

import re

# Status names (decision 3): the guide's Appendix C table, the reference runtime's aliases
# (Success, Invalid, Error, ServerError) and the names decision 3 adds (Gone, NotImplemented).

_STATUS_NAMES: dict[int, tuple[str, ...]] = {
    200: ("OK", "Success"),
    201: ("Created",),
    202: ("Accepted",),
    204: ("NoContent",),
    400: ("BadRequest", "Invalid"),
    401: ("Unauthorized",),
    403: ("Forbidden",),
    404: ("NotFound",),
    409: ("Conflict",),
    410: ("Gone",),
    422: ("UnprocessableEntity",),
    429: ("TooManyRequests",),
    500: ("Error", "ServerError", "InternalError", "InternalServerError"),
    501: ("NotImplemented",),
    503: ("ServiceUnavailable",),
}
_WORD_BREAK = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _status_table() -> dict[str, int]:
    """Lower-cased names, each also hyphenated at its word breaks (``not-found``)."""
    table: dict[str, int] = {}
    for code, names in _STATUS_NAMES.items():
        for name in names:
            table[name.lower()] = code
            table[_WORD_BREAK.sub("-", name).lower()] = code
    return table


#: Codes by lower-cased name
CODES = _status_table()
#: The names as the table spells them too, so that the usual spelling (``Created``) is found
#: without lower-casing it per response.
_SPELLED_CODES = CODES | {name: code for code, names in _STATUS_NAMES.items() for name in names}


def status_code(name: str) -> int:
    """The HTTP code of a Return status name (case-insensitive); an unknown name answers 200."""
    code = _SPELLED_CODES.get(name)
    return code if code is not None else CODES.get(name.lower(), 200)


def is_known_status(name: str) -> bool:
    """Whether a status name is in the table (any other name answers 200)."""
    return name.lower() in CODES
