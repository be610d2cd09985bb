"""Hostile sources cost time linear in their size (found probing the front end with the
hostile files of tests/fuzz/test_fuzz_aro.py): a long line of garbage gave one diagnostic per
character, each rendering the whole line (40 KB took 47 s), and the compiler re-split the file
for every feature set and parallel loop body."""

from __future__ import annotations

import pytest

from aro.lang import compiler
from aro.lang.ast import Span
from aro.lang.compiler import compile_source
from aro.lang.diagnostics import (
    MAX_SHOWN_DIAGNOSTICS,
    MAX_SHOWN_LINE,
    AroSyntaxError,
    Diagnostic,
)


def test_a_line_of_garbage_lists_a_bounded_number_of_short_diagnostics() -> None:
    with pytest.raises(AroSyntaxError) as raised:
        compile_source("(Application-Start: T) {\n" + "#" * 20_000 + "\n}\n")
    assert len(raised.value.diagnostics) == 20_000
    rendered = str(raised.value).splitlines()
    assert rendered[-1] == f"... and {20_000 - MAX_SHOWN_DIAGNOSTICS} more errors"
    assert max(len(line) for line in rendered) <= MAX_SHOWN_LINE + 80


@pytest.mark.parametrize("col", [1, 5_000, 9_999])
def test_a_long_line_is_shown_around_the_caret(col: int) -> None:
    line = "".join(chr(ord("a") + i % 26) for i in range(10_000))
    _, shown, caret = str(Diagnostic("error", "bad", Span("f.aro", 1, col), line)).splitlines()
    assert len(shown) <= MAX_SHOWN_LINE + 2
    assert shown[len(caret) - 1] == line[col - 1]
    assert shown.startswith("…") == (col > MAX_SHOWN_LINE)
    assert shown.endswith("…") == (col < 10_000 - MAX_SHOWN_LINE)


class CountingText(str):
    """Source text that counts how often the compiler splits it into lines."""

    splits = 0

    def splitlines(self, keepends: bool = False) -> list[str]:
        CountingText.splits += 1
        return super().splitlines(keepends)


def test_the_file_is_split_into_lines_once_for_all_its_feature_sets() -> None:
    source = "".join(f"(F{i}: Handler) {{\n    Log <i> to the <console>.\n}}\n" for i in range(50))
    compiler.compile_files([(compiler.parse_source(source), CountingText(source))])
    assert CountingText.splits == 1


def test_parallel_loop_bodies_share_the_file_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    original = compiler._Builder.__init__

    def recording_init(self, code, diagnostics, source_lines) -> None:
        seen.append(source_lines)
        original(self, code, diagnostics, source_lines)

    monkeypatch.setattr(compiler._Builder, "__init__", recording_init)
    loop = "parallel for each <i> in <list> {\n    Log <i> to the <console>.\n}\n"
    compile_source("(Application-Start: T) {\n" + loop * 20 + "}\n")
    assert len(seen) == 21 and all(lines is seen[0] for lines in seen)
