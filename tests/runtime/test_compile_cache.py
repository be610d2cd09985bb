"""The on-disk cache of compiled programs: served only for the very sources it was made from."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from aro.lang.diagnostics import AroSyntaxError
from aro.lang.disasm import disassemble_program
from aro.runtime import compile_cache, loader
from aro.runtime.compile_cache import ENTRY_SUFFIX, MIN_CACHED_SOURCE, directory_for
from aro.runtime.loader import load_program


def write_app(root: Path, greeting: str = "hello", statements: int = 400) -> Path:
    """An app whose source is above the caching threshold."""
    lines = [f'Create the <value{i}> with "{greeting} {i}".' for i in range(statements)]
    root.mkdir(parents=True, exist_ok=True)
    lines.append("Return an <OK: status> for the <startup>.")
    (root / "main.aro").write_text(
        "(Application-Start: Cached) {\n    " + "\n    ".join(lines) + "\n}\n"
    )
    assert (root / "main.aro").stat().st_size >= MIN_CACHED_SOURCE
    return root


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts real compilations."""
    calls: list[int] = []
    real = loader.compile_files

    def counting(parsed):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real(parsed)

    monkeypatch.setattr(loader, "compile_files", counting)
    return calls


def entries(cache: Path) -> list[Path]:
    return sorted(cache.glob("*" + ENTRY_SUFFIX))


def test_second_load_comes_from_the_cache_and_equals_a_fresh_compile(
    tmp_path: Path, compiles: list[int]
) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    first = load_program(app, cache)
    second = load_program(app, cache)
    assert len(compiles) == 1
    assert len(entries(cache)) == 1
    assert disassemble_program(second) == disassemble_program(first)
    assert disassemble_program(second) == disassemble_program(load_program(app, None))


def test_an_edited_source_is_recompiled_never_served_stale(
    tmp_path: Path, compiles: list[int]
) -> None:
    app, cache = write_app(tmp_path / "app", "hello"), tmp_path / "cache"
    load_program(app, cache)
    mtime = (app / "main.aro").stat().st_mtime_ns
    write_app(app, "howdy")  # same size, and the same mtime below: only the content differs
    os.utime(app / "main.aro", ns=(mtime, mtime))
    edited = load_program(app, cache)
    assert len(compiles) == 2
    assert "howdy 7" in disassemble_program(edited)
    assert len(entries(cache)) == 1  # the app's entry was replaced, not added to


def test_a_changed_compiler_is_a_miss(
    tmp_path: Path, compiles: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    load_program(app, cache)
    monkeypatch.setattr(compile_cache, "_compiler_fingerprint", lambda: "another compiler")
    load_program(app, cache)
    assert len(compiles) == 2


def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path: Path, compiles: list[int]) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    expected = disassemble_program(load_program(app, cache))
    (entry,) = entries(cache)
    data = entry.read_bytes()
    for damaged in (data[: len(data) // 2], b"not a pickle", b""):
        entry.write_bytes(damaged)
        assert disassemble_program(load_program(app, cache)) == expected
    assert len(compiles) == 4
    load_program(app, cache)
    assert len(compiles) == 4  # rewritten whole
    assert not list(cache.glob(".tmp-*"))


def test_errors_are_reported_as_without_a_cache_and_nothing_is_stored(tmp_path: Path) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    source = (app / "main.aro").read_text().replace('"hello 3".', '"hello 3"')
    (app / "main.aro").write_text(source)
    with pytest.raises(AroSyntaxError) as uncached:
        load_program(app, None)
    with pytest.raises(AroSyntaxError) as cached:
        load_program(app, cache)
    assert str(cached.value) == str(uncached.value)
    assert "main.aro:6:" in str(cached.value)
    assert not entries(cache)


def test_an_app_that_imports_another_is_not_cached(tmp_path: Path, compiles: list[int]) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    other = tmp_path / "Other"
    other.mkdir()
    (other / "main.aro").write_text(
        '(Greet: Other) {\n    Return an <OK: status> for the <greeting>.\n}\n'
    )
    main = app / "main.aro"
    main.write_text("import ../Other\n" + main.read_text())
    load_program(app, cache)
    load_program(app, cache)
    assert len(compiles) == 2  # the imported files are inputs the key does not cover
    assert not entries(cache)


def test_small_programs_are_not_cached(tmp_path: Path) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    (app / "main.aro").write_text(
        '(Application-Start: Small) {\n    Return an <OK: status> for the <startup>.\n}\n'
    )
    load_program(app, cache)
    assert not entries(cache)


def test_a_directory_others_can_write_is_not_used(tmp_path: Path, compiles: list[int]) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o777)
    load_program(app, cache)
    load_program(app, cache)
    assert len(compiles) == 2
    assert not entries(cache)


def test_a_new_directory_is_private(tmp_path: Path) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "deep" / "cache"
    load_program(app, cache)
    assert stat.S_IMODE(cache.stat().st_mode) & 0o077 == 0


def test_entries_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compile_cache, "MAX_ENTRIES", 2)
    cache = tmp_path / "cache"
    for name in ("a", "b", "c"):
        load_program(write_app(tmp_path / name), cache)
    assert len(entries(cache)) == 2


def test_setting_names_the_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert directory_for("") == tmp_path / "aro"
    assert directory_for("off") is None
    assert directory_for("OFF") is None
    assert directory_for(str(tmp_path / "x")) == tmp_path / "x"


def test_serve_fills_the_cache_before_starting_its_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aro import cli

    def no_workers(supervise):  # type: ignore[no-untyped-def]
        supervise.close()
        return 0

    monkeypatch.setattr(cli, "_event_loop_runner", lambda: no_workers)
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    argv = ["serve", str(app), "--workers", "2", "--port", "0", "--compile-cache", str(cache)]
    assert cli.main(argv) == 0
    assert len(entries(cache)) == 1


def test_an_entry_that_cannot_be_written_only_costs_the_compile(
    tmp_path: Path, compiles: list[int]
) -> None:
    app, cache = write_app(tmp_path / "app"), tmp_path / "cache"
    load_program(app, cache)
    (entry,) = entries(cache)
    entry.unlink()
    entry.mkdir()  # neither readable as an entry nor replaceable, even by root
    assert load_program(app, cache).code_objects[0].name == "Application-Start"
    assert len(compiles) == 2
    assert entries(cache) == [entry]
    assert not list(cache.glob(".tmp-*"))  # the temporary file is removed
