"""The VM's error model.

Two kinds of failure exist in ARO (docs/semantics.md, Statements step 6 and Errors):

* ``ActionError``: an action could not do its job.  The VM wraps it into a ``StatementError``
  whose message is the statement read back in words ("Cannot extract the x from the y.").
* ``EvaluationError``: evaluating an expression or a guard failed ("Undefined variable: x",
  a type error in arithmetic).  These are *not* wrapped; their text is shown as is.
"""

from __future__ import annotations


class AroError(Exception):
    """Base of every error a user's ARO program can cause."""


class EvaluationError(AroError):
    """An expression could not be evaluated; the message is shown raw."""


class ActionError(AroError):
    """Raised by an action; the VM turns it into a StatementError naming the statement."""


class AssertionFailed(ActionError):
    """A test's Then or Assert found another value: the test fails rather than errs."""


class BreakSignal(AroError):
    """``break.`` outside of a while loop propagates as this error."""

    def __init__(self) -> None:
        super().__init__("break outside of a while loop")


class StatementError(AroError):
    """A failed statement, with the context lines of docs/semantics.md, Errors.

    ``headline`` is ``Cannot <verb> the <result> <prep> the <object>.``; ``str()`` gives the full
    multi-line report.
    """

    def __init__(
        self,
        headline: str,
        feature: str,
        activity: str,
        statement: str,
        cause: BaseException | None = None,
        trace: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.headline = headline
        self.feature = feature
        self.activity = activity
        self.statement = statement
        self.cause = cause
        self.trace = trace
        super().__init__(headline)

    def __str__(self) -> str:
        lines = [
            f"Runtime Error: {self.headline}",
            f"  Feature: {self.feature}",
            f"  Business Activity: {self.activity}",
            f"  Statement: {self.statement}",
        ]
        if self.trace:
            lines.append("          Trace:")
            lines.extend(f"            {name} = {value}" for name, value in self.trace)
        return "\n".join(lines)


class ThrownError(StatementError):
    """Raised by ``Throw``; ``status_name`` (``NotFound``) lets HTTP map it to a status."""

    def __init__(self, status_name: str, *args: object, **kwargs: object) -> None:
        self.status_name = status_name
        super().__init__(*args, **kwargs)
