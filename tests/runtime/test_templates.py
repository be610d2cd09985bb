"""Templates (docs/semantics.md, Templates; docs/decisions.md, decision 14): syntax, values,
filters, loops, statement blocks, includes, isolation, caching, errors, traversal, concurrency."""

from __future__ import annotations

import asyncio
import io
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from jinja2 import FileSystemLoader

import aro.actions  # noqa: F401  (registers every verb)
from aro.lang.compiler import compile_source
from aro.runtime.app import Application
from aro.runtime.templates import (
    TemplateError,
    TemplateNotFoundError,
    TemplateRenderError,
    TemplateSyntaxError,
    compile_template,
)
from aro.vm.errors import ThrownError
from aro.vm.frame import Frame

START = "(Application-Start: Templates) {\n    Return an <OK: status> for the <startup>.\n}\n"


class Site:
    """An application folder whose templates are rendered from a caller frame."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.app = Application(compile_source(START, "main.aro"), root=root, stdout=io.StringIO())

    def write(self, path: str, text: str) -> Path:
        file = self.root / "templates" / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text, encoding="utf-8")
        return file

    def caller(self, bindings: dict[str, Any] | None = None) -> Frame:
        return Frame(self.app.program.code_objects[0], self.app, bindings=bindings)

    async def render_async(self, path: str, caller: Frame) -> str:
        return await self.app.templates.render(path, caller)

    def render(self, path: str, bindings: dict[str, Any] | None = None) -> str:
        return asyncio.run(self.render_async(path, self.caller(bindings)))

    def page(self, text: str, bindings: dict[str, Any] | None = None, name: str = "p.tpl") -> str:
        """Write ``text`` as a template and render it."""
        self.write(name, text)
        return self.render(name, bindings)


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


# -- escaping (docs/decisions.md, decision 14) -----------------------------------------------------

HOSTILE = "<script>alert(\"x\")</script> & 'y'"
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#39;y&#39;"


@pytest.mark.parametrize("name", ["page.html", "page.htm", "feed.xml", "UPPER.HTML"])
def test_markup_templates_escape_inserted_values(site, name):
    assert site.page("<p>{{ <msg> }}</p>", {"msg": HOSTILE}, name) == f"<p>{ESCAPED}</p>"


@pytest.mark.parametrize("name", ["mail.tpl", "notes.txt", "page.screen"])
def test_other_templates_insert_values_raw(site, name):
    assert site.page("{{ <msg> }}", {"msg": HOSTILE}, name) == HOSTILE


def test_raw_filter_inserts_unescaped(site):
    html = "<b>bold</b>"
    assert site.page("{{ <x> | raw }}|{{ <x> }}", {"x": html}, "p.html") == (
        "<b>bold</b>|&lt;b&gt;bold&lt;/b&gt;"
    )


def test_printed_values_are_escaped_in_markup_templates(site):
    text = '{{ Print <msg> to the <template>. }}|{{ Print "<i>" to the <template>. }}'
    assert site.page(text, {"msg": HOSTILE}, "p.html") == f"{ESCAPED}|&lt;i&gt;"
    assert site.page(text, {"msg": HOSTILE}, "p.tpl") == f"{HOSTILE}|<i>"


def test_an_included_template_is_escaped_once_by_its_own_rule(site):
    site.write("card.html", "<i>{{ <name> }}</i>")
    site.write("note.tpl", "{{ <name> }}")
    text = (
        "{{ Include the <template: card.html> with { name: <x> }. }}"
        "{{ Include the <template: note.tpl> with { name: <x> }. }}"
    )
    assert site.page(text, {"x": "<b>"}, "p.html") == "<i>&lt;b&gt;</i><b>"


def test_static_text_is_never_escaped(site):
    assert site.page("<h1>&amp; {{ <n> }}</h1>", {"n": 1}, "p.html") == "<h1>&amp; 1</h1>"


# -- values and expressions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain", "plain"),
        (42, "42"),
        (3.0, "3"),
        (-0.0, "0"),
        (2.5, "2.5"),
        (True, "true"),
        (False, "false"),
        (["a", "b"], '["a", "b"]'),
        (datetime(2024, 3, 5, 10, 7, tzinfo=UTC), "2024-03-05T10:07:00Z"),
    ],
)
def test_value_formatting(site, value, text):
    assert site.page("{{ <v> }}", {"v": value}) == text


def test_shorthand_expressions(site):
    user = {"first": "Ada", "last": "Lovelace", "address": {"city": "London"}, "n": 4}
    text = (
        '{{ <user: first> ++ " " ++ <user: last> }}|{{ <user: n> * 2 }}|{{ <price> * 1.5 }}'
        "|{{ <user: address.city> }}|{{ <user: address: city> }}"
    )
    assert site.page(text, {"user": user, "price": 3}) == "Ada Lovelace|8|4.5|London|London"


def test_missing_dict_fields_render_empty(site):
    user = {"name": "Ada"}
    text = "[{{ <user: nickname> }}][{{ <user: nickname> ++ <user: name> }}][{{ <user: a: b> }}]"
    assert site.page(text, {"user": user}) == "[][Ada][]"


def test_a_missing_variable_is_a_render_error_at_its_block(site):
    with pytest.raises(TemplateRenderError) as caught:
        site.page("line one\n  x {{ <nope> }}")
    assert str(caught.value) == "templates/p.tpl:2:8: Undefined variable: nope"


def test_repository_names_and_environment_in_expressions(site):
    asyncio.run(site.app.repositories.get("note-repository").store({"text": "a"}))
    assert site.page("{{ <note-repository: count> }}") == "1"


# -- filters ---------------------------------------------------------------------------------------


def test_date_filter_with_a_pattern_and_the_default(site):
    text = '{{ <when> | date: "yyyy-MM-dd HH:mm" }}|{{ <when> | date }}|{{ <day> | date: "MMM d" }}'
    bindings = {"when": "2024-03-05T10:07:00Z", "day": datetime(2024, 12, 25, tzinfo=UTC)}
    assert site.page(text, bindings) == "2024-03-05 10:07|05.03.2024 10:07|Dec 25"


def test_date_filter_leaves_text_that_is_no_date(site):
    assert site.page('{{ <x> | date: "yyyy" }}', {"x": "soon"}) == "soon"


def test_markdown_filter_renders_html_once(site):
    text = "{{ <body> | markdown }}"
    body = "# Title\n\n**bold** and <i>"
    expected = "<h1>Title</h1>\n<p><strong>bold</strong> and &lt;i&gt;</p>"
    assert site.page(text, {"body": body}, "p.html") == expected
    assert site.page(text, {"body": body}, "p.tpl") == expected


def test_case_and_trim_filters_chain(site):
    text = "[{{ <name> | trim | uppercase }}][{{ <name> | lowercase }}]"
    assert site.page(text, {"name": "  Ada Lovelace "}) == "[ADA LOVELACE][  ada lovelace ]"


def test_terminal_filters_do_nothing_off_a_terminal(site):
    assert site.page('{{ <x> | bold | color: "red" }}', {"x": "plain"}) == "plain"


def test_rows_filter_pads_and_clips_lines(site):
    assert site.page('{{ <x> | rows: "3" }}', {"x": "a\nb"}) == "a\nb\n\n"
    assert site.page('{{ <x> | rows: "1" }}', {"x": "a\nb\nc"}) == "a\n"


# -- loops -----------------------------------------------------------------------------------------


def test_loop_repeats_its_body_per_item(site):
    text = "<ul>{{ for each <user> in <users> { }}<li>{{ <user: name> }}</li>{{ } }}</ul>"
    users = [{"name": "Ada"}, {"name": "<Bob>"}]
    assert site.page(text, {"users": users}, "p.html") == (
        "<ul><li>Ada</li><li>&lt;Bob&gt;</li></ul>"
    )


def test_nested_loops_with_index(site):
    text = (
        "{{ for each <category> at <i> in <categories> { }}"
        "{{ <i> }}.{{ <category: name> }}:"
        "{{ for each <product> at <j> in <category: products> { }}"
        " {{ <i> }}.{{ <j> }}={{ <product> }}"
        "{{ } }};"
        "{{ } }}"
    )
    categories = [{"name": "fruit", "products": ["apple", "pear"]}, {"name": "tea"}]
    assert site.page(text, {"categories": categories}) == "0.fruit: 0.0=apple 0.1=pear;1.tea:;"


def test_loop_over_a_dict_takes_values_by_key_numeric_first(site):
    text = "{{ for each <v> in <d> { }}{{ <v> }}{{ } }}"
    assert site.page(text, {"d": {"b": "B", "10": "ten", "2": "two", "a": "A"}}) == "twotenAB"


def test_loop_over_nothing_iterable_renders_nothing(site):
    text = "[{{ for each <x> in <box: missing> { }}x{{ } }}]"
    assert site.page(text, {"box": {}}) == "[]"


def test_loop_with_a_where_filter(site):
    text = "{{ for each <t> in <tasks> where <t: done> = true { }}{{ <t: name> }}{{ } }}"
    tasks = [{"name": "a", "done": True}, {"name": "b", "done": False}, {"name": "c", "done": True}]
    assert site.page(text, {"tasks": tasks}) == "ac"


def test_loop_iterations_start_fresh(site):
    text = (
        "{{ for each <n> in <numbers> { }}"
        "{{ Compute the <double> from <n> * 2. }}{{ <double> }},"
        "{{ } }}"
    )
    assert site.page(text, {"numbers": [1, 2, 3]}) == "2,4,6,"


def test_loop_variables_do_not_outlive_the_loop(site):
    with pytest.raises(TemplateRenderError, match="Undefined variable: x"):
        site.page("{{ for each <x> in <xs> { }}{{ } }}{{ <x> }}", {"xs": [1]})


# -- statement blocks ------------------------------------------------------------------------------


def test_print_to_template_inside_statement_blocks(site):
    text = (
        "a{{\n"
        '    Print "b" to the <template>.\n'
        "    Compute the <total> from <price> * <quantity>.\n"
        "    Print <total> to the <template>.\n"
        '    Print "!" to the <template> when <total> > 100.\n'
        "}}c"
    )
    assert site.page(text, {"price": 2, "quantity": 3}) == "ab6c"


def test_match_block_prints_one_case(site):
    text = (
        "{{ match <tier> {\n"
        '    case "gold" { Print "Gold" to the <template>. }\n'
        '    otherwise { Print "Standard" to the <template>. }\n'
        "} }}"
    )
    assert site.page(text, {"tier": "gold"}) == "Gold"
    assert site.page(text, {"tier": "tin"}) == "Standard"


def test_bindings_of_a_block_reach_later_blocks(site):
    text = '{{ Create the <word> with "hi". }}{{ <word> }} {{ Print <word> to the <template>. }}'
    assert site.page(text) == "hi hi"


def test_printing_outside_a_template_fails(site):
    app = Application(
        compile_source(
            '(Application-Start: T) {\n    Print "x" to the <template>.\n}\n', "main.aro"
        ),
        root=site.root,
        stdout=io.StringIO(),
    )
    assert asyncio.run(app.run()) == 1


def test_throw_inside_a_template_keeps_its_status(site):
    with pytest.raises(ThrownError) as caught:
        site.page("{{ Throw a <NotFound: error> for the <page>. }}")
    assert caught.value.status_name == "NotFound"


def test_a_failing_statement_is_reported_at_its_block(site):
    with pytest.raises(TemplateRenderError) as caught:
        site.page('\n\n {{ Create the <n> with "x". Transform the <i: int> from the <n>. }}')
    message = str(caught.value)
    assert message.startswith("templates/p.tpl:3:5: Runtime Error: Cannot transform")


# -- includes --------------------------------------------------------------------------------------


def test_include_with_extra_bindings_sees_the_caller_too(site):
    site.write("partials/card.tpl", "[{{ <title> }} by {{ <author> }}]")
    text = (
        "{{ Include the <template: partials/card.tpl> with { title: <first> }. "
        'Include the <template: partials/card.tpl> with { title: "Two" }. }}'
    )
    assert site.page(text, {"first": "One", "author": "Ada"}) == "[One by Ada][Two by Ada]"


def test_include_inside_a_loop_and_by_variable_path(site):
    site.write("partials/item.tpl", "<{{ <item> }}>")
    text = "{{ for each <item> in <items> { }}{{ Include the <template: partial> with {}. }}{{ } }}"
    bindings = {"items": ["a", "b"], "partial": "partials/item.tpl"}
    assert site.page(text, bindings) == "<a><b>"


def test_include_of_a_missing_template_is_not_found(site):
    with pytest.raises(TemplateNotFoundError, match=r"\./templates/partials/gone\.tpl"):
        site.page("{{ Include the <template: partials/gone.tpl> with {}. }}")


def test_include_needs_a_map(site):
    site.write("x.tpl", "x")
    with pytest.raises(TemplateRenderError, match=r"Cannot include the template: x\.tpl"):
        site.page('{{ Include the <template: x.tpl> with "nope". }}')


# -- isolation -------------------------------------------------------------------------------------


def test_bindings_made_in_a_template_are_discarded(site):
    site.write("partials/set.tpl", '{{ Create the <inner> with "i". }}{{ <inner> }}')
    site.write(
        "p.tpl",
        '{{ Create the <local> with "l". }}'
        "{{ Include the <template: partials/set.tpl> with { extra: 1 }. }}"
        "{{ <local> }}",
    )
    caller = site.caller({"visible": "v"})
    assert asyncio.run(site.render_async("p.tpl", caller)) == "il"
    names = caller.visible_names()
    assert "visible" in names
    assert not {"local", "inner", "extra"} & set(names)


def test_a_template_may_shadow_a_caller_variable_without_changing_it(site):
    caller = site.caller({"name": "outer"})
    site.write("p.tpl", '{{ Create the <name> with "inner". }}{{ <name> }}')
    assert asyncio.run(site.render_async("p.tpl", caller)) == "inner"
    assert caller.lookup("name") == "outer"


# -- caching ---------------------------------------------------------------------------------------


def test_templates_compile_once_and_again_when_the_file_changes(site):
    file = site.write("p.tpl", "one {{ <x> }}")
    engine = site.app.templates
    first = engine.load("p.tpl")
    assert engine.load("p.tpl") is first
    assert site.render("p.tpl", {"x": 1}) == "one 1"
    file.write_text("two {{ <x> }}", encoding="utf-8")
    stat = file.stat()
    os.utime(file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert site.render("p.tpl", {"x": 1}) == "two 1"
    assert engine.load("p.tpl") is not first


def test_a_broken_template_is_compiled_again_once_fixed(site):
    file = site.write("p.tpl", "{{ <x> ")
    with pytest.raises(TemplateSyntaxError):
        site.render("p.tpl", {"x": 1})
    file.write_text("{{ <x> }}", encoding="utf-8")
    assert site.render("p.tpl", {"x": 1}) == "1"


def test_a_deleted_template_is_not_found(site):
    file = site.write("p.tpl", "x")
    assert site.render("p.tpl") == "x"
    file.unlink()
    with pytest.raises(TemplateNotFoundError):
        site.render("p.tpl")


# -- syntax errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "location", "expected"),
    [
        ("a\nb {{ <x> ", "2:3", "expected '}}' to close this '{{'"),
        ("a {{ } }}", "1:6", "closes no for-each loop"),
        ("\n{{ for each <x> in <xs> { }}", "2:4", "for-each loop never closed"),
        ("{{ for each <x> of <xs> { }}{{ } }}", "1:17", "expected 'in'"),
        ("{{ for each <x> in <xs> }}", "1:24", "expected '{'"),
        ("x\n  {{ <a> ++ }}", "2:12", "expected an expression"),
        ("{{ <a> | shout }}", "1:4", "unknown filter 'shout'"),
        ("{{\n  Compute the <y> from <x>\n}}", "2:27", "expected '.' to end the statement"),
        ("{{ Create the <a> with 1. Create the <a> with 2. }}", "1:39", "Cannot rebind"),
    ],
)
def test_syntax_errors_name_the_template_line_and_column(text, location, expected):
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(text, "templates/x.html", True)
    first = str(caught.value).splitlines()[0]
    assert first.startswith(f"templates/x.html:{location}: error: ")
    assert expected in first


def test_a_syntax_error_shows_the_line_with_a_caret():
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template("ok\n  {{ <a> | shout }}\n", "templates/x.html", True)
    assert str(caught.value).splitlines()[1:] == ["  {{ <a> | shout }}", "     ^"]


def test_a_statement_block_error_keeps_the_compilers_hints():
    with pytest.raises(TemplateSyntaxError) as caught:
        compile_template(
            "{{ Create the <a> with 1. Create the <a> with 2. }}", "templates/x.html", True
        )
    assert str(caught.value).splitlines()[3:] == [
        "  hint: Variable 'a' was already defined earlier in this feature set",
        "  hint: Create a new variable with a different name instead",
    ]


# -- not found and traversal (docs/decisions.md, decision 14) --------------------------------------


def test_a_missing_template_is_not_found_with_the_reference_message(site):
    with pytest.raises(TemplateNotFoundError) as caught:
        site.render("emails/none.html")
    assert str(caught.value) == "Template not found: ./templates/emails/none.html"
    assert caught.value.http_status == 404
    assert isinstance(caught.value, TemplateError)


@pytest.mark.parametrize(
    "path",
    ["../secret.html", "/etc/passwd", "partials/../../secret.html", "..", "", "C:/x.html"],
)
def test_traversal_is_refused_without_opening_the_file(site, monkeypatch, path):
    (site.root / "secret.html").write_text("secret", encoding="utf-8")
    site.write("partials/x.html", "x")

    def opened(*_: Any) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(FileSystemLoader, "get_source", opened)
    with pytest.raises(TemplateNotFoundError):
        site.render(path)


def test_a_symlink_out_of_templates_is_refused(site, monkeypatch):
    secret = site.root / "secret.html"
    secret.write_text("secret", encoding="utf-8")
    outside = site.root / "outside"
    outside.mkdir()
    (outside / "x.html").write_text("secret", encoding="utf-8")
    site.write("real.html", "real")
    (site.root / "templates" / "link.html").symlink_to(secret)
    (site.root / "templates" / "dir").symlink_to(outside, target_is_directory=True)
    (site.root / "templates" / "alias.html").symlink_to(site.root / "templates" / "real.html")
    assert site.render("alias.html") == "real"
    monkeypatch.setattr(FileSystemLoader, "get_source", None)
    for path in ("link.html", "dir/x.html"):
        with pytest.raises(TemplateNotFoundError):
            site.render(path)


def test_an_application_without_a_folder_finds_no_templates():
    app = Application(compile_source(START, "main.aro"), stdout=io.StringIO())
    frame = Frame(app.program.code_objects[0], app)
    with pytest.raises(TemplateNotFoundError):
        asyncio.run(app.templates.render("index.html", frame))


# -- concurrency -----------------------------------------------------------------------------------


def test_interleaved_renders_keep_their_own_output(site):
    site.write(
        "p.tpl",
        "{{ <name> }}-"
        "{{ Sleep the <pause> for <delay> seconds. Print <name> to the <template>. }}"
        "-{{ for each <i> in <rounds> { }}{{ Sleep the <nap> for <delay> seconds. }}{{ <name> }}"
        "{{ } }}",
    )
    events: list[str] = []

    async def one(name: str, delay: float) -> str:
        bindings = {"name": name, "delay": delay, "rounds": [1, 2, 3]}
        text = await site.render_async("p.tpl", site.caller(bindings))
        events.append(name)
        return text

    async def both() -> list[str]:
        return await asyncio.gather(one("A", 0.02), one("B", 0.005))

    assert asyncio.run(both()) == ["A-A-AAA", "B-B-BBB"]
    assert events == ["B", "A"]  # B finished first: the renders really interleaved


# -- through compiled ARO programs -----------------------------------------------------------------


def test_transform_renders_a_template_in_an_application(run_app, tmp_path):
    Site(tmp_path).write(
        "emails/welcome.tpl",
        "Hello {{ <user: firstName> }},\nyour plan: {{ <user: plan> | uppercase }}.\n",
    )
    code, lines = run_app(
        """
        (Application-Start: Mail) {
            Create the <user> with { firstName: "Alice", plan: "premium" }.
            Transform the <mail> from the <template: emails/welcome.tpl>.
            Log <mail> to the <console>.
            Log <firstName> to the <console> when <firstName> exists.
            Return an <OK: status> for the <startup>.
        }
        """,
        root=tmp_path,
    )
    assert code == 0
    assert lines == [
        "[Application-Start] Hello Alice,",
        "your plan: PREMIUM.",
        "",
        "[OK] startup",
    ]


def test_transform_with_a_path_held_in_a_variable_over_repository_data(run_app, tmp_path):
    Site(tmp_path).write(
        "list.html",
        "{{ for each <m> at <i> in <message-repository> { }}"
        "{{ <i> }}:{{ <m: text> }};{{ } }}"
        "{{ <message-repository: count> }}",
    )
    code, lines = run_app(
        """
        (Application-Start: Board) {
            Create the <first> with { text: "hi" }.
            Store the <first> into the <message-repository>.
            Create the <second> with { text: "<b>" }.
            Store the <second> into the <message-repository>.
            Create the <page-path> with "list.html".
            Transform the <page> from the <template: page-path>.
            Log <page> to the <console>.
            Return an <OK: status> for the <startup>.
        }
        """,
        root=tmp_path,
    )
    assert code == 0
    assert lines[0] == "[Application-Start] 0:hi;1:&lt;b&gt;;2"


def test_a_missing_template_stops_the_program_with_its_message(run_app, tmp_path):
    code, lines = run_app(
        """
        (Application-Start: Board) {
            Transform the <page> from the <template: nowhere.html>.
            Return an <OK: status> for the <startup>.
        }
        """,
        root=tmp_path,
    )
    assert code == 1
    assert lines == ["Error: Template not found: ./templates/nowhere.html"]


# -- over HTTP ------------------------------------------------------------------------------------

CONTRACT = """\
openapi: 3.0.3
info: { title: Pages, version: 1.0.0 }
paths:
  /home:
    get: { operationId: homePage, responses: { '200': { description: page } } }
  /missing:
    get: { operationId: missingPage, responses: { '200': { description: page } } }
"""
PAGES = """\
(Application-Start: Pages) {
    Start the <http-server> with {}.
    Keepalive the <application> for the <events>.
    Return an <OK: status> for the <startup>.
}

(homePage: Pages) {
    Extract the <who> from the <queryParameters: who>.
    Transform the <html> from the <template: index.html>.
    Return an <OK: status> with <html>.
}

(missingPage: Pages) {
    Transform the <html> from the <template: nowhere.html>.
    Return an <OK: status> with <html>.
}
"""


@pytest.fixture
def pages(tmp_path: Path):
    from tests.support.serving import serve

    (tmp_path / "openapi.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "main.aro").write_text(PAGES, encoding="utf-8")
    Site(tmp_path).write(
        "index.html",
        "<!DOCTYPE html><p>Hi {{ <who> }}</p>"
        "{{ Sleep the <pause> for 1 ms. Print <who> to the <template>. }}",
    )
    with serve(tmp_path) as served:
        yield served


def test_a_handler_serves_a_rendered_page(pages):
    status, headers, body = pages.request("GET", "/home?who=%3Cb%3E")
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert body == b"<!DOCTYPE html><p>Hi &lt;b&gt;</p>&lt;b&gt;"


def test_a_missing_template_answers_404(pages):
    status, payload = pages.json("GET", "/missing")
    assert (status, payload) == (
        404,
        {"error": "Not Found", "message": "Template not found: ./templates/nowhere.html"},
    )
