"""The ids Create mints: unique in a process and across processes, fresh until claimed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from aro.vm import entity_ids

ROOT = Path(__file__).resolve().parents[2]


def process_of(entity_id: str) -> int:
    return int(entity_id[-9:], 16) >> 14


def test_ids_are_hex_time_then_the_process_id_and_a_counter_in_the_references_length():
    first, second = entity_ids.mint(), entity_ids.mint()
    assert re.fullmatch(r"[0-9a-f]{17,20}", first)  # as the reference's: 8 more bits, 1 digit
    assert process_of(first) == process_of(second) == os.getpid()
    assert (int(second[-9:], 16) - int(first[-9:], 16)) % (1 << 14) == 1


def test_an_id_is_fresh_once_and_only_if_minted_here():
    minted = entity_ids.mint()
    assert entity_ids.claim(minted) is True
    assert entity_ids.claim(minted) is False
    assert entity_ids.claim("18c0000000000000000000000001") is False
    assert entity_ids.claim(None) is False
    assert entity_ids.claim(["not", "hashable"]) is False


def test_only_the_latest_ids_are_remembered_as_fresh():
    oldest = entity_ids.mint()
    for _ in range(entity_ids.FRESH_LIMIT):
        entity_ids.mint()
    assert entity_ids.claim(oldest) is False
    assert len(entity_ids._fresh) <= entity_ids.FRESH_LIMIT
    newest = [entity_ids.mint() for _ in range(entity_ids.FRESH_LIMIT // 2)]
    assert all(entity_ids.claim(minted) for minted in newest)


def test_processes_mint_with_their_own_process_ids():
    program = "from aro.vm import entity_ids; print(entity_ids.mint())"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    ids = [
        subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env,
                       check=True, timeout=60).stdout.strip()
        for _ in range(2)
    ]  # fmt: skip
    assert process_of(ids[0]) != process_of(ids[1])


def test_a_forked_child_mints_with_its_own_process_id_and_none_of_the_parents_fresh_ids():
    minted = entity_ids.mint()
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(reading)
        answer = f"{process_of(entity_ids.mint())} {entity_ids.claim(minted)}"
        os.write(writing, answer.encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading) as pipe:
        process, claimed = pipe.read().split()
    os.waitpid(child, 0)
    assert int(process) == child and claimed == "False"
    assert entity_ids.claim(minted) is True
