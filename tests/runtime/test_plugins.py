"""Plugins: discovery, aro-files, C through ctypes (built with the system compiler), Python
in process (our API and the reference SDK's), and the errors of each."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import aro.actions  # noqa: F401 - registers every action
from aro.runtime.app import Application
from aro.runtime.loader import load_program
from aro.runtime.plugins import PluginError, PluginSet, native
from aro.vm.errors import ActionError

TALLY_C = Path(__file__).resolve().parents[1] / "support" / "plugins" / "tally.c"

PY_API = """
from aro.plugin import PluginInput, action, qualifier

SEEN = []

@action("Keep", verbs=["hold-on"])
def keep(call: PluginInput) -> dict:
    SEEN.append(call["data"])
    return {"size": len(call["data"]), "prep": call["preposition"], "factor": call.with_.get("f")}

@qualifier("second", input_types=["List"])
def second(value, params):
    if len(value) < 2:
        raise ValueError("needs two items")
    return value[1]
"""

PY_SDK = """
from aro_plugin_sdk import AROInput, action, export_abi, plugin, qualifier, run

@plugin(name="plugin-python-words", version="1.0.0", handle="Words")
class Words:
    pass

@action(name="shout-it", verbs=["shout"], role="own", prepositions=["from"])
def shout(input: AROInput) -> dict:
    return {"text": input.string("data").upper()}

@qualifier(name="initials", description="first letters")
def initials(input: AROInput) -> dict:
    value = input.get("value")
    if not isinstance(value, str):
        return {"error": "initials needs a string"}
    return {"result": "".join(word[0] for word in value.split())}

export_abi(globals())
"""


def plugin(root: Path, name: str, manifest: str, files: dict[str, str]) -> Path:
    folder = root / "Plugins" / name
    folder.mkdir(parents=True)
    (folder / "plugin.yaml").write_text(textwrap.dedent(manifest))
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


def run_app(root: Path, body: str) -> tuple[int, str, str]:
    (root / "main.aro").write_text("(Application-Start: Demo) {\n" + body + "\n}\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    app = Application(load_program(root), root, environ={}, stdout=stdout, stderr=stderr)
    code = asyncio.run(asyncio.wait_for(app.run(), 30))
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def python_plugin(root: Path, source: str, handle: str, handler: str) -> Path:
    manifest = f"""
        name: plugin-{handler}
        handle: {handle}
        provides:
          - type: python-plugin
            path: src/
            handler: {handler}
    """
    return plugin(root, f"plugin-{handler}", manifest, {"src/plugin.py": source})


def test_python_actions_and_qualifiers_run_in_process(tmp_path: Path) -> None:
    python_plugin(tmp_path, PY_API, "Store", "picks")
    code, out, _ = run_app(
        tmp_path,
        "Create the <items> with [3, 4, 5].\n"
        "Store.Keep the <kept> from the <items> with { f: 2 }.\n"
        "Store.HoldOn the <again> from the <items>.\n"
        "Compute the <pick: picks.second> from the <items>.\n"
        "Log <kept> to the <console>.\n"
        "Log <pick> to the <console>.",
    )
    assert code == 0, out
    assert "size: 3" in out and "prep: from" in out and "factor: 2" in out
    assert "[Application-Start] 4" in out
    seen = sys.modules["aro_plugins.plugin_picks.plugin"].SEEN
    assert len(seen) == 2 and seen[0] is seen[1]  # the very list, not a decoded copy


def test_python_qualifier_errors_and_type_checks_name_the_qualifier(tmp_path: Path) -> None:
    python_plugin(tmp_path, PY_API, "Store", "picks")
    code, out, _ = run_app(tmp_path, "Compute the <p: picks.second> from [1].")
    assert code == 1 and "Cannot compute the p: picks.second" in out
    plugins = PluginSet.load(tmp_path, print)
    qualifier = plugins.qualifier("PICKS.second")
    with pytest.raises(ActionError, match=r"Qualifier 'PICKS\.second' expects List, got String"):
        qualifier("text", None)
    with pytest.raises(ActionError, match="needs two items"):
        qualifier([1], None)
    assert plugins.qualifier("picks.nothing") is None


def test_plugins_written_for_the_reference_sdk_load_unchanged(tmp_path: Path) -> None:
    python_plugin(tmp_path, PY_SDK, "Words", "words")
    code, out, _ = run_app(
        tmp_path,
        'Create the <name> with "ada lovelace".\n'
        "Words.Shout the <loud> from the <name>.\n"
        "Words.ShoutIt the <louder> from the <name>.\n"
        "Compute the <short: words.initials> from the <name>.\n"
        "Log <loud: text> to the <console>.\n"
        "Log <short> to the <console>.",
    )
    assert code == 0, out
    assert out.splitlines()[:2] == ["[Application-Start] ADA LOVELACE", "[Application-Start] al"]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_c_plugins_are_built_once_and_called_through_the_abi(
    tmp_path: Path, private_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = """
        name: plugin-c-tally
        handle: Tally
        provides:
          - type: c-plugin
            path: src/
            handler: tally
            build: {compiler: clang}
    """
    plugin(tmp_path, "plugin-c-tally", manifest, {"src/tally.c": TALLY_C.read_text()})
    builds = []
    real_run = subprocess.run
    monkeypatch.setattr(
        native.subprocess, "run", lambda *a, **k: builds.append(a[0]) or real_run(*a, **k)
    )
    body = (
        'Create the <word> with "harbour".\n'
        "Tally.Count the <counted> from the <word>.\n"
        "Tally.Size the <sized> from the <word>.\n"
        "Compute the <twice: tally.double> from 21.\n"
        "Log <counted: count> to the <console>.\n"
        "Log <sized: count> to the <console>.\n"
        "Log <twice> to the <console>."
    )
    code, out, _ = run_app(tmp_path, body)
    assert code == 0, out
    assert out.splitlines()[:3] == ["[Application-Start] 7"] * 2 + ["[Application-Start] 42"]
    assert len(builds) == 1 and Path(builds[0][0]).name in ("gcc", "cc", "clang")
    assert len(list((private_cache / "aro-py" / "plugins").glob("plugin-c-tally-*.so"))) == 1
    run_app(tmp_path, body)
    assert len(builds) == 1  # cached: an unchanged plugin is not built again


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc")
def test_a_c_plugin_that_does_not_compile_names_its_manifest(tmp_path: Path) -> None:
    manifest = "name: broken\nprovides:\n  - type: c-plugin\n    path: src/\n"
    folder = plugin(tmp_path, "broken", manifest, {"src/broken.c": "int main( {\n"})
    with pytest.raises(PluginError) as raised:
        PluginSet.load(tmp_path, print)
    message = str(raised.value)
    assert message.startswith(f"{folder / 'plugin.yaml'}: building the C plugin with")
    assert "\n" not in message


def test_aro_files_plugins_join_the_program(tmp_path: Path) -> None:
    manifest = "name: audit\nprovides:\n  - type: aro-files\n    path: features/\n"
    handler = '(Audit: Saved Handler) { Log "audited" to the <console>. }\n'
    plugin(tmp_path, "audit", manifest, {"features/audit.aro": handler})
    code, out, _ = run_app(tmp_path, "Emit a <Saved: event> with { id: 1 }.")
    assert code == 0 and "[Audit] audited" in out


@pytest.mark.parametrize(
    ("manifest", "files", "problem"),
    [
        ("name: [unclosed\n", {}, "cannot read the manifest"),
        ("name: x\nprovides:\n  - type: cobol-plugin\n", {}, "each 'provides' entry needs a type"),
        ("name: x\nprovides:\n  - type: python-plugin\n    path: gone/\n", {}, "does not exist"),
        (
            "name: x\nprovides:\n  - type: python-plugin\n    path: src/\n",
            {"src/plugin.py": "def broken(:\n"},
            "cannot load plugin.py: SyntaxError",
        ),
    ],
)
def test_plugin_load_errors_are_one_line_naming_the_manifest(
    tmp_path: Path, manifest: str, files: dict[str, str], problem: str
) -> None:
    folder = plugin(tmp_path, "x", manifest, files)
    with pytest.raises(PluginError) as raised:
        PluginSet.load(tmp_path, print)
    assert str(raised.value).startswith(f"{folder / 'plugin.yaml'}: ")
    assert problem in str(raised.value) and "\n" not in str(raised.value)


def test_swift_plugins_are_skipped_with_a_warning(tmp_path: Path) -> None:
    plugin(tmp_path, "swifty", "name: s\nhandle: S\nprovides:\n  - type: swift-plugin\n", {})
    code, out, err = run_app(tmp_path, "S.Go the <x> from 1.")
    assert "Swift plugins need the Swift toolchain" in err and "skipped" in err
    assert code == 1 and "Cannot s.go the x" in out


def test_the_cli_reports_a_plugin_error_in_one_line(tmp_path: Path) -> None:
    plugin(tmp_path, "x", "name: x\nprovides: nope\n", {})
    (tmp_path / "main.aro").write_text("(Application-Start: Demo) { }\n")
    root = str(Path(__file__).resolve().parents[2])
    for command in ("run", "test", "check"):
        done = subprocess.run(
            [sys.executable, "-m", "aro", command, str(tmp_path)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PYTHONPATH": root},
        )
        assert done.returncode == 1
        assert done.stdout.startswith(f"Error: {tmp_path / 'Plugins' / 'x' / 'plugin.yaml'}: ")
        assert "Traceback" not in done.stdout + done.stderr
