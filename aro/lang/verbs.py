"""Verb roles: what a statement's verb means for its result name and for an expression object.

The compiler (the immutability check, which scope a result lives in) and the VM (how a linked
statement binds its value, whether it runs its action) both read this one table, and every verb
registered with ``@action`` must have a row here, so the two can never disagree.

Rules
-----
Binding: what happens to the result name when the action answers a value.

* ``NONE``: never bound.  The result names a status, an event, a target or the value under
  test (``Return the <OK>``, ``Emit a <Saved: event>``, ``Log``, ``Then the <sum> with 22``).
* ``NEW``: bound.  Binding a name already bound in the feature set is a compile error
  ("Cannot rebind variable"); where that check does not reach (a loop body), the existing
  value wins at run time.
* ``REBIND``: bound, replacing any existing value (Update, Merge, Delete, Accept): the
  language's rebinding verbs, exempt from the immutability check.
* ``REQUEST``: an external read (Retrieve, Extract, Read): checked like ``NEW`` at compile
  time, but the fresh value replaces an existing one at run time.
* ``ALIAS``: the result is a publication name (Publish): bound only while it is free, and
  publishing under a name already bound is not an error.

Inside a ``while`` body (a mutable scope) every binding verb replaces the existing value.

Fast path: when the object is an expression (no article), e.g. ``Compute the <t> from <a> * 2``.

* ``EXPRESSION``: the expression's value is the statement's value; the action does not run.
* ``SPECIFIERS``: as ``EXPRESSION``, unless the result has specifiers (``<t: uppercase>``);
  then the action runs.
* ``RUN``: the action always runs.

A verb without a row (a ``Namespace.Verb`` user or plugin action, or a verb nobody implements)
is ``NEW`` / ``EXPRESSION``, except that a ``Namespace.Verb`` always runs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Binding(enum.Enum):
    NONE = "none"
    NEW = "new"
    REBIND = "rebind"
    REQUEST = "request"
    ALIAS = "alias"


class FastPath(enum.Enum):
    EXPRESSION = "expression"
    SPECIFIERS = "specifiers"
    RUN = "run"


@dataclass(frozen=True, slots=True)
class VerbRole:
    binding: Binding
    fast_path: FastPath

    @property
    def binds(self) -> bool:
        """The result name is bound to the statement's value."""
        return self.binding is not Binding.NONE

    @property
    def may_rebind(self) -> bool:
        """Binding a name that is already bound is not a compile error."""
        return self.binding in (Binding.REBIND, Binding.ALIAS)

    @property
    def replaces(self) -> bool:
        """At run time the value replaces an existing binding of the result name."""
        return self.binding in (Binding.REBIND, Binding.REQUEST)


NONE, NEW, REBIND, REQUEST, ALIAS = Binding
EXPRESSION, SPECIFIERS, RUN = FastPath


# One group of verbs per line: (binding, fast path, verbs in lower case); synonyms of one action
# stand together.
GROUPS: tuple[tuple[Binding, FastPath, str], ...] = (
    # Responses, outputs and effects: the result is a status, an event or a target.
    (NONE, RUN, "return respond throw raise fail"),
    (NONE, RUN, "send emit broadcast notify alert signal"),
    (NONE, RUN, "log print write store save persist include embed insert"),
    # File effects: the result names the source or the text, not a new value.
    (NONE, RUN, "copy move rename append"),
    # Given an expression object these take the fast path, which binds nothing: the statement
    # then does nothing at all (unlike Send and Log, whose synonyms they are or resemble).
    (NONE, EXPRESSION, "dispatch output debug render repaint patch"),
    # Tests: the result is the value under test.
    (NONE, RUN, "then assert"),
    # Tests: the result is the value set up or the feature set's answer.
    (NEW, RUN, "given when"),
    # Building values.
    (NEW, SPECIFIERS, "create build construct compute calculate derive"),
    # Make creates a directory (or touches a file) even when its path is an expression.
    (NEW, RUN, "make touch createdirectory mkdir"),
    (NEW, EXPRESSION, "validate verify check compare transform convert sort order arrange"),
    (NEW, RUN, "filter map reduce aggregate split group"),
    # Services, connections, time, calls.
    (NEW, RUN, "start stop restart keepalive schedule stream subscribe listen await"),
    (NEW, EXPRESSION, "wait block"),
    (NEW, RUN, "close disconnect terminate sleep delay pause call invoke"),
    (NEW, RUN, "connect execute exec run shell"),
    # The rebinding verbs.
    (REBIND, RUN, "update modify change set configure merge combine join concat"),
    (REBIND, EXPRESSION, "accept delete remove destroy clear show"),
    # External reads.
    (REQUEST, RUN, "retrieve fetch request http probe read"),
    (REQUEST, RUN, "list stat exists"),
    (REQUEST, SPECIFIERS, "extract parse get"),
    (REQUEST, EXPRESSION, "load find receive"),
    # Publication under an alias.
    (ALIAS, EXPRESSION, "publish export expose share"),
)


def _table(groups: tuple[tuple[Binding, FastPath, str], ...]) -> dict[str, VerbRole]:
    table: dict[str, VerbRole] = {}
    for binding, fast_path, verbs in groups:
        for verb in verbs.split():
            if verb in table:
                raise ValueError(f"verb {verb!r} is in two groups of the verb table")
            table[verb] = VerbRole(binding, fast_path)
    return table


VERBS: dict[str, VerbRole] = _table(GROUPS)
UNKNOWN_VERB = VerbRole(NEW, EXPRESSION)


def role_of(verb: str) -> VerbRole:
    """The row of ``verb`` (any case); a verb without a row binds ``NEW``."""
    return VERBS.get(verb.lower(), UNKNOWN_VERB)
