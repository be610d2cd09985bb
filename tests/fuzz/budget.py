"""The fuzzers' shared hypothesis budget: small and deterministic in CI, as long as asked on demand.

By default each fuzz test runs its own ``ci`` number of examples, derandomized and without the
example database, so a CI run always explores the same inputs in a few seconds. Setting
``ARO_FUZZ_EXAMPLES`` (e.g. ``ARO_FUZZ_EXAMPLES=100000 pytest tests/fuzz``) runs that many
examples per test with fresh randomness, for a long hunt on demand.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
from collections.abc import Iterator

from hypothesis import HealthCheck, settings

ON_DEMAND = os.environ.get("ARO_FUZZ_EXAMPLES")


def fuzz_settings(ci: int) -> settings:
    """Settings for a fuzz test worth ``ci`` examples in CI."""
    return settings(
        max_examples=int(ON_DEMAND) if ON_DEMAND else ci,
        derandomize=not ON_DEMAND,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        print_blob=True,
    )


@contextlib.contextmanager
def no_hang(seconds: float = 30.0) -> Iterator[None]:
    """Fail loudly if the body runs longer than ``seconds``: the process exits with every
    thread's traceback (this catches a loop stuck in compiled code too, where no Python-level
    timeout would ever run)."""
    faulthandler.dump_traceback_later(seconds, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
