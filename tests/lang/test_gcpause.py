"""Compiling pauses the cyclic collector and leaves it as it found it, errors included."""

from __future__ import annotations

import gc

import pytest

from aro.lang.compiler import compile_source
from aro.lang.diagnostics import AroSyntaxError

VALID = '(Demo: Check) { Log "x" to the <console>. }'
BROKEN = "(Demo: Check) { Log"


@pytest.fixture
def restore_gc():
    enabled = gc.isenabled()
    yield
    if enabled:
        gc.enable()
    else:
        gc.disable()


@pytest.mark.usefixtures("restore_gc")
@pytest.mark.parametrize("enabled", [True, False])
def test_compile_leaves_the_collector_as_it_was(enabled: bool) -> None:
    gc.enable() if enabled else gc.disable()
    compile_source(VALID)
    assert gc.isenabled() is enabled
    with pytest.raises(AroSyntaxError):
        compile_source(BROKEN)
    assert gc.isenabled() is enabled
