"""Autobahn|Testsuite conformance of the WebSocket server (docs/decisions.md, decision 13).

The kosoku fuzzing client (a pip-installable port of Autobahn's ``wstest -m fuzzingclient``)
drives every case of 1.* to 13.* against tests/apps/Echo, in chunks that pytest-xdist can
spread over the cores: the compression cases (12.*, 13.*) are most of the time, so each of
their subgroups is a test of its own.  A case passes when
its behaviour is OK, NON-STRICT or INFORMATIONAL and its close behaviour OK or INFORMATIONAL,
which is how Autobahn's own report colours a case green.  The reference wstest runs on demand
through scripts/wstest-chroot.sh.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sysconfig
import time
from pathlib import Path

import pytest

from tests.support.live import ROOT, launch

APP = ROOT / "tests" / "apps" / "Echo"
# Autobahn has no 8 or 11; 12.1-12.5 compress five kinds of payload, 13.1-13.7 use seven
# permessage-deflate parameter sets.
# The compression chunks carry the ``autobahn_compression`` mark: what they add to the other
# groups is zlib work, the same code in both builds, so CI runs them with the compiled codec only.
COMPRESSION = pytest.mark.autobahn_compression
CHUNKS = (
    ("1", "2", "3", "4", "5", "6", "7"),
    ("9",),
    ("10",),
    *(pytest.param((f"12.{subgroup}",), marks=COMPRESSION) for subgroup in range(1, 6)),
    *(pytest.param((f"13.{subgroup}",), marks=COMPRESSION) for subgroup in range(1, 8)),
)
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}
PASSING_CLOSE = {"OK", "INFORMATIONAL"}
SUITE_TIMEOUT = 900  # seconds for one chunk; the whole suite takes 5 to 8 minutes on two cores
# A case is a ping-pong between client and server, so one at a time leaves a core idle while
# the other runs zlib (most of the time goes to 12.* and 13.*).  The server is one event loop,
# so more than a few at a time buys nothing.
PARALLELISM = 4

SERVER_ARGS = (
    "--port", "0",
    # 9.* echoes messages of up to 16 MiB.
    "--ws-max-message", str(16 << 20),
    # No server pings: a case expects exactly the frames it provokes.
    "--ws-ping-interval", "0",
    # kosoku 0.1.0 hands a 12.*/13.* case an uncompressed echo as str, which the case then
    # fails to hash ("Strings must be encoded before hashing"); uncompressed messages are legal
    # under permessage-deflate and the reference wstest takes them, so compress every message.
    "--ws-compress-min", "0",
)  # fmt: skip


def kosoku_command() -> str | None:
    """kosoku's console script beside this interpreter, else on PATH.  CI runs pytest as
    ``.venv/bin/python -m pytest`` without activating the venv, so PATH alone would miss it."""
    beside = Path(sysconfig.get_path("scripts")) / "kosoku"
    return str(beside) if beside.exists() else shutil.which("kosoku")


KOSOKU = kosoku_command()


def run_kosoku(url: str, outdir: Path, groups: tuple[str, ...]) -> subprocess.CompletedProcess:
    """The cases of ``groups`` against ``url``; the report (index.json plus one JSON per case)
    goes to ``outdir``.  kosoku exits 1 when a case fails, so its status is left to the report."""
    command = [KOSOKU, "-m", "fuzzingclient", "-p", str(PARALLELISM), "-o", str(outdir)]
    for group in groups:
        command += ["-i", f"{group}.*"]
    return subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=SUITE_TIMEOUT, check=False
    )


def load_results(outdir: Path) -> dict[str, dict]:
    """The index's entries by case id (one agent: our server)."""
    index = json.loads((outdir / "index.json").read_text())
    assert len(index) == 1, f"expected one agent in the report, found {sorted(index)}"
    return next(iter(index.values()))


def is_failure(entry: dict) -> bool:
    return entry["behavior"] not in PASSING or entry["behaviorClose"] not in PASSING_CLOSE


def describe(outdir: Path, case_id: str, entry: dict) -> str:
    """One failing case as the report tells it: what it sends, what it expects, what happened."""
    case = json.loads((outdir / entry["reportfile"]).read_text())
    return (
        f"{case_id}: behavior={entry['behavior']} behaviorClose={entry['behaviorClose']}"
        f" remoteClose={case['remoteCloseCode']} {case['remoteCloseReason']!r}\n"
        f"    case: {' '.join(case['description'].split())}\n"
        f"    expected: {' '.join(case['expectation'].split())}\n"
        f"    result: {case['result']} | close: {case['resultClose']}"
    )


def case_key(case_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in case_id.split("."))


def belongs(case_id: str, group: str) -> bool:
    return case_id.startswith(f"{group}.")


@pytest.mark.skipif(KOSOKU is None, reason="kosoku is not installed (pip install kosoku)")
@pytest.mark.parametrize("groups", CHUNKS, ids=lambda groups: "-".join(groups))
def test_autobahn_fuzzingclient(tmp_path: Path, groups: tuple[str, ...]) -> None:
    outdir = tmp_path / "reports"
    with launch(APP, *SERVER_ARGS) as app:
        url = f"ws://127.0.0.1:{app.port()}/ws"
        started = time.monotonic()
        kosoku = run_kosoku(url, outdir, groups)
        print(f"kosoku ran for {time.monotonic() - started:.1f} s")
    assert (outdir / "index.json").exists(), f"kosoku wrote no report:\n{kosoku.stderr[-4000:]}"
    results = load_results(outdir)
    missing = [g for g in groups if not any(belongs(c, g) for c in results)]
    assert not missing, f"no cases ran for groups {missing}"
    failing = sorted((c for c, e in results.items() if is_failure(e)), key=case_key)
    report = "\n".join(describe(outdir, c, results[c]) for c in failing)
    assert not failing, f"{len(failing)} of {len(results)} Autobahn cases failed:\n{report}"
