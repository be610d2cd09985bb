"""``import ../Other``: an application brings in another application's feature sets."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

import aro.actions  # noqa: F401 - registers every action
from aro.lang.diagnostics import AroSyntaxError
from aro.runtime.app import Application
from aro.runtime.loader import load_program


def write(folder: Path, text: str, name: str = "main.aro") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder


def run(root: Path) -> list[str]:
    stdout = io.StringIO()
    app = Application(load_program(root), root, environ={}, stdout=stdout, stderr=io.StringIO())
    assert asyncio.run(asyncio.wait_for(app.run(), 10)) == 0
    return stdout.getvalue().splitlines()


def test_imports_bring_feature_sets_and_the_root_keeps_its_lifecycle(tmp_path: Path) -> None:
    write(
        tmp_path / "Greeter",
        "import ../Shared\n"
        '(Application-Start: Greeter) { Log "greeter start" to the <console>. }\n'
        "(Greet: Action) {\n"
        '    Application.Shout the <s> with { text: "hi" }.\n'
        "    Extract the <loud> from the <s: text>.\n"
        "    Return an <OK: status> with { greeting: <loud> }.\n"
        "}\n",
    )
    write(
        tmp_path / "Shared",
        '(Application-Start: Shared) { Log "shared start" to the <console>. }\n'
        '(Application-End: Success) { Log "shared end" to the <console>. }\n'
        "(Shout: Action) {\n"
        "    Extract the <t> from the <input: text>.\n"
        "    Compute the <loud: uppercase> from <t>.\n"
        "    Return an <OK: status> with { text: <loud> }.\n"
        "}\n",
    )
    root = write(
        tmp_path / "App",
        "import ../Greeter\n"
        "import ../Shared\n"
        "(Application-Start: App) {\n"
        "    Application.Greet the <g> for the <nobody>.\n"
        "    Log <g: greeting> to the <console>.\n"
        "}\n",
    )
    lines = run(root)
    assert lines[0] == "[Application-Start] HI"
    assert not any("start" in line or "shared end" in line for line in lines)


def test_an_import_cycle_loads_each_application_once(tmp_path: Path) -> None:
    write(tmp_path / "Alpha", "import ../Beta\n(Application-Start: First) { }\n")
    write(tmp_path / "Beta", 'import ../Alpha\n(Helper: B Stuff) { Log "b" to the <console>. }\n')
    program = load_program(tmp_path / "Alpha")
    assert sorted(code.name for code in program.code_objects) == ["Application-Start", "Helper"]


def test_a_missing_import_is_a_compile_error_at_the_import(tmp_path: Path) -> None:
    root = write(tmp_path / "App", "(* app *)\nimport ../Nowhere\n(Application-Start: App) { }\n")
    with pytest.raises(AroSyntaxError) as raised:
        load_program(root)
    text = str(raised.value)
    assert f"{root / 'main.aro'}:2:1: error: Imported application '../Nowhere'" in text
    assert "is not a directory" in text
