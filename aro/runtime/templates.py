"""Templates (docs/semantics.md, Templates; docs/decisions.md, decision 14).

A template file is compiled once into a ``CompiledTemplate``: a flat list of steps (emit static
text, emit an expression through its filters, run a block of ARO statements, repeat a loop body)
over one ``CodeObject`` whose slots hold every variable the template's expressions and loops
name.  Statement blocks are compiled by the language compiler as small feature sets and run by
the VM.  Compiled templates are cached by path and compiled again when jinja2's loader says the
file changed.

Rendering happens in a child frame of the caller, so a template reads every caller variable but
its own bindings vanish with it.  Each render gets its own output buffer, reached through the
services of its frames (``_Render``), so concurrent requests never share one.  Values inserted
into ``.html``/``.htm``/``.xml`` templates are HTML-escaped unless the ``raw`` filter says
otherwise (docs/decisions.md, decision 14; the reference escapes nothing).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PureWindowsPath
from typing import Any

from jinja2 import Environment, FileSystemLoader, TemplateNotFound, select_autoescape
from markupsafe import Markup, escape

from aro.lang import ast
from aro.lang.bytecode import CodeObject
from aro.lang.compiler import _Builder, compile_feature_set
from aro.lang.diagnostics import AroSyntaxError, Diagnostic
from aro.lang.names import is_repository
from aro.lang.parser import parse_expression, parse_source
from aro.vm import registry, values
from aro.vm.errors import AroError, ThrownError
from aro.vm.expressions import Evaluator, link, repositories_read
from aro.vm.frame import UNBOUND, Frame
from aro.vm.machine import execute

TEMPLATE_ACTIVITY = "Template"
DEFAULT_DATE_FORMAT = "dd.MM.yyyy HH:mm"
TERMINAL_ROWS = 24  # templates never render to a terminal, so `rows` sizes for the default one
_AUTOESCAPE = select_autoescape(("html", "htm", "xml"), default_for_string=False, default=False)

# -- errors ------------------------------------------------------------------------------------


class TemplateError(AroError):
    """A template could not be found, compiled or rendered.

    Not an ``ActionError``: the VM lets it pass unwrapped, so its text (which names the
    template) reaches the console or the HTTP error body as is.
    """


class TemplateNotFoundError(TemplateError):
    """No such template, or a path that would leave ``templates/``; HTTP answers 404."""

    http_status = 404

    def __init__(self, path: str) -> None:
        super().__init__(f"Template not found: ./templates/{path}")
        self.path = path


class TemplateSyntaxError(TemplateError):
    """Compile errors, each at ``templates/<path>:line:col`` with the offending line."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__("\n".join(str(d) for d in diagnostics))
        self.diagnostics = diagnostics


class TemplateRenderError(TemplateError):
    """A step failed while rendering; the message starts with its ``file:line:col``."""


# -- values and filters ------------------------------------------------------------------------


def format_value(value: Any) -> str:
    """Strings raw, whole Doubles without ``.0``, everything else as ``describe`` writes it."""
    if type(value) is str:
        return value
    if type(value) is float and value.is_integer() and abs(value) < 2**63:
        return str(int(value))
    return values.describe(value)


Filter = Callable[[str, str | None], str]


@lru_cache(maxsize=1024)
def _date(text: str, pattern: str | None) -> str:
    date = values.parse_date(text)
    return text if date is None else values.format_date(date, pattern or DEFAULT_DATE_FORMAT)


def _row_count(spec: str) -> int:
    """``full``, ``full-N``, ``full+N``, ``a/b`` (of the terminal's rows) or ``N``."""
    spec = spec.strip()
    if spec.startswith("full"):
        offset = spec[4:].replace("+", "")
        return max(0, TERMINAL_ROWS + (int(offset) if offset.lstrip("-").isdigit() else 0))
    numerator, _, denominator = spec.partition("/")
    if denominator.strip().isdigit() and numerator.strip().isdigit() and int(denominator):
        return TERMINAL_ROWS * int(numerator) // int(denominator)
    return int(spec) if spec.isdigit() else TERMINAL_ROWS


def _rows(text: str, spec: str | None) -> str:
    """Pad with or clip at newlines so the text spans exactly that many rows."""
    if spec is None:
        return text
    rows = _row_count(spec)
    lines = text.count("\n")
    if lines <= rows:
        return text + "\n" * (rows - lines)
    return "\n".join(text.split("\n")[:rows]) + "\n"


def _unchanged(text: str, _: str | None) -> str:
    return text


# Terminal styling applies only on a TTY, and a rendered template is never one.
_TERMINAL_STYLES = ("color", "bg", "bold", "dim", "italic", "underline", "strikethrough")
FILTERS: dict[str, Filter] = {
    "uppercase": lambda text, _: text.upper(),
    "lowercase": lambda text, _: text.lower(),
    "trim": lambda text, _: text.strip(),
    "date": _date,
    "markdown": lambda text, _: Markup(values.markdown_to_html(text)),  # escapes its input
    "raw": lambda text, _: Markup(text),
    "rows": _rows,
    **dict.fromkeys(_TERMINAL_STYLES, _unchanged),
}


# -- the compiled form -------------------------------------------------------------------------

TEXT, EMIT, RUN, LOOP, PREFETCH = range(5)
PathRead = tuple[int, int, tuple[str, ...]]  # (scratch slot, variable slot, specifiers)


def _walk(value: Any, specifiers: tuple[str, ...]) -> Any:
    """A property path where a key missing from a dict reads as ``""`` (as the reference)."""
    for key in specifiers:
        if type(value) is dict:
            if key not in value:
                return ""
            value = value[key]
        else:
            value = values.property_path(value, (key,))
    return value


def _is_path(tree: tuple) -> bool:
    """Whether an expression tree is ``<x: a.b>`` on an ordinary variable."""
    if tree[0] != "var" or not tree[3]:
        return False
    return tree[2] != "env" and not is_repository(tree[2])


def _path_reader(slot: int, specifiers: tuple[str, ...]) -> Evaluator:
    return lambda frame: _walk(frame.load(slot), specifiers)


def _paths_first(paths: tuple[PathRead, ...], evaluate: Evaluator) -> Evaluator:
    """``evaluate`` after reading each ``<x: a.b>`` of the expression leniently into its
    scratch slot, which the linked expression reads instead: the VM's own path reading
    fails on a missing key."""

    def read(frame: Frame) -> Any:
        slots = frame.slots
        for scratch, slot, specifiers in paths:
            slots[scratch] = _walk(frame.load(slot), specifiers)
        return evaluate(frame)

    return read


_HTML_SPECIAL = re.compile("[&<>\"']")


def _escaped(text: str) -> str:
    """HTML-escaped unless marked safe (``raw``, ``markdown``); most values need nothing, and
    the search costs far less than markupsafe's ``escape``."""
    if isinstance(text, Markup) or _HTML_SPECIAL.search(text) is None:
        return text
    return escape(text)


def _emitter(
    read: Evaluator, filters: tuple[tuple[Filter, str | None], ...], escapes: bool
) -> Callable[[Frame], str]:
    """The text of one ``{{ expression | filters }}``, specialised for the common cases."""
    if not filters:
        if escapes:
            return lambda frame: _escaped(format_value(read(frame)))
        return lambda frame: format_value(read(frame))

    def emit(frame: Frame) -> str:
        text = format_value(read(frame))
        for apply, argument in filters:
            text = apply(text, argument)
        return _escaped(text) if escapes else text

    return emit


@dataclass(frozen=True, slots=True)
class _Block:
    """ARO statements; ``exports`` are the (slot, name) pairs later steps get to see."""

    code: CodeObject
    exports: tuple[tuple[int, str], ...]


@dataclass(slots=True)
class _Loop:
    """``for each <item> [at <index>] in <collection> [where …] {``; the body is steps
    ``start``..``end`` (exclusive), ``end`` set when the compiler meets ``{{ } }}``."""

    item_slot: int
    index_slot: int | None
    collection: Evaluator
    where: Evaluator | None
    start: int
    end: int


@dataclass(slots=True)
class CompiledTemplate:
    """One template file, ready to render any number of times, concurrently too: rendering
    keeps all its state in frames and in the render's own buffer."""

    name: str  # templates/<path>, as errors print it
    escapes: bool
    code: CodeObject
    steps: list[tuple[int, Any]]
    locations: list[tuple[int, int]]  # (line, col) of each step

    def located(self, step: int, error: AroError) -> TemplateRenderError:
        line, col = self.locations[step]
        return TemplateRenderError(f"{self.name}:{line}:{col}: {error}")


# -- compiling ---------------------------------------------------------------------------------

_BRACKETED_VERB = re.compile(r"<\s*([A-Z][A-Za-z]*)\s*>")
# `<x: a: b>` is the reference's spelling of the path `<x: a.b>`.
_COLON_PATH = re.compile(r"<([^<>:\"]+):([^<>\"]*:[^<>\"]*)>")
_FILTER = re.compile(r"\s*([A-Za-z]+)\s*(?::\s*(?:\"([^\"]*)\"|(\S[^|]*?)))?\s*")


def _dotted_path(match: re.Match[str]) -> str:
    """Rewrite one ``<x: a: b>`` as ``<x: a.b>``, padded to its length so columns still hold."""
    path = re.sub(r"\s*:\s*", ".", match.group(2).strip())
    text = f"<{match.group(1)}:{path}"
    return text + " " * (len(match.group()) - len(text) - 1) + ">"


def _split_filters(text: str) -> tuple[str, list[str]]:
    """The expression and its ``| filter`` parts: ``|`` outside quotes and ``<…>`` split."""
    parts, depth, quoted, start = [], 0, False, 0
    for position, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char == "<":
            depth += 1
        elif char == ">":
            depth = max(0, depth - 1)
        elif char == "|" and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return parts[0], parts[1:]


def _is_expression(block: str) -> bool:
    """A shorthand expression block: starts with ``<``, does not end with ``.``, and is not a
    bracketed verb."""
    if not block.startswith("<") or block.endswith("."):
        return False
    verb = _BRACKETED_VERB.match(block)
    return verb is None or registry.lookup(verb.group(1)) is None


class _Compiler:
    """Compiles one template's text; every error is located in the template file."""

    def __init__(self, source: str, name: str, escapes: bool) -> None:
        self.source = source
        self.name = name
        self.escapes = escapes
        self.lines = source.split("\n")
        self.newlines = [match.start() for match in re.finditer("\n", source)]
        self.code = CodeObject(TEMPLATE_ACTIVITY, TEMPLATE_ACTIVITY, name)
        self.builder = _Builder(self.code, [], source.splitlines())
        self.steps: list[tuple[int, Any]] = []
        self.locations: list[tuple[int, int]] = []
        self.open_loops: list[tuple[int, int]] = []  # (step, source offset)
        # Repositories the expressions compiled since the last step read: a PREFETCH step
        # before the step that evaluates them snapshots those whose backend waits.
        self.reads: dict[str, None] = {}

    def compile(self) -> CompiledTemplate:
        position = 0
        while (start := self.source.find("{{", position)) >= 0:
            self._text(self.source[position:start], position)
            end = self.source.find("}}", start + 2)
            if end < 0:
                raise self.error(start, "expected '}}' to close this '{{'")
            self._block(start + 2, end)
            position = end + 2
        self._text(self.source[position:], position)
        if self.open_loops:
            _, offset = self.open_loops[-1]
            raise self.error(offset, "for-each loop never closed: expected '{{ } }}'")
        return CompiledTemplate(self.name, self.escapes, self.code, self.steps, self.locations)

    # -- positions and errors --------------------------------------------------------------

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a source offset."""
        line = bisect_left(self.newlines, offset)
        return line + 1, offset - (self.newlines[line - 1] if line else -1)

    def error(self, offset: int, message: str) -> TemplateSyntaxError:
        return TemplateSyntaxError([self._diagnostic(offset, message)])

    def _diagnostic(self, offset: int, message: str, hints: tuple[str, ...] = ()) -> Diagnostic:
        line, col = self.position(offset)
        source_line = self.lines[line - 1].rstrip("\r")
        return Diagnostic("error", message, ast.Span(self.name, line, col), source_line, hints)

    def relocated(
        self, diagnostics: list[Diagnostic], origin: int, snippet: str, first_line: int
    ) -> TemplateSyntaxError:
        """Diagnostics of ``snippet`` (compiled from line ``first_line`` of a wrapper text),
        moved to where the snippet stands in the template (it starts at ``origin``)."""
        lines = snippet.split("\n")
        moved: dict[int, Diagnostic] = {}
        for diagnostic in diagnostics:
            row, column = diagnostic.span.line - first_line, diagnostic.span.col - 1
            message = diagnostic.message
            if row < 0:
                offset = 0
            elif row >= len(lines) or column > len(lines[row]):
                # Past the snippet: the '}' found there closes the wrapper, not the user's text.
                offset = len(snippet)
                message = message.replace("found '}'", "found '}}'")
            else:
                offset = sum(len(line) + 1 for line in lines[:row]) + column
            # Only the first error at a spot: later ones there are the wrapper's noise.
            moved.setdefault(
                origin + offset, self._diagnostic(origin + offset, message, diagnostic.hints)
            )
        return TemplateSyntaxError(list(moved.values()))

    # -- steps -----------------------------------------------------------------------------

    def emit(self, op: int, argument: Any, offset: int) -> int:
        self.steps.append((op, argument))
        self.locations.append(self.position(offset))
        return len(self.steps) - 1

    def _text(self, text: str, offset: int) -> None:
        if text:
            self.emit(TEXT, text, offset)

    def _block(self, start: int, end: int) -> None:
        raw = self.source[start:end]
        block = raw.strip()
        if not block:
            return
        origin = start + len(raw) - len(raw.lstrip())
        if block == "}":
            self._close_loop(origin)
        elif block.startswith(("for each", "for-each")):
            self._open_loop(block, origin)
        elif _is_expression(block):
            emitter = self._emit(block, origin)
            self._prefetch(origin)
            self.emit(EMIT, emitter, origin)
        else:
            self.emit(RUN, self._statements(block, origin), origin)

    def _close_loop(self, origin: int) -> None:
        if not self.open_loops:
            raise self.error(origin, "'{{ } }}' closes no for-each loop")
        step, _ = self.open_loops.pop()
        self.steps[step][1].end = len(self.steps)

    def _open_loop(self, block: str, origin: int) -> None:
        header = _COLON_PATH.sub(_dotted_path, block.replace("for-each", "for each", 1))
        body = self._feature_set(header + " }", origin, block).body
        if len(body) != 1 or not isinstance(body[0], ast.ForEach) or body[0].parallel:
            raise self.error(origin, "expected 'for each <item> [at <index>] in <list> {'")
        node = body[0]
        index = None if node.index is None else self.builder.read_slot(node.index)
        where = None if node.where is None else self._linked(self.builder.expr(node.where))
        collection = self._value(ast.VarRef(node.collection))
        item = self.builder.read_slot(node.item)
        self._prefetch(origin)
        start = len(self.steps) + 1
        step = self.emit(LOOP, _Loop(item, index, collection, where, start, start), origin)
        self.open_loops.append((step, origin))

    def _emit(self, block: str, origin: int) -> Callable[[Frame], str]:
        expression, filter_parts = _split_filters(block)
        filters = tuple(self._filter(part, origin) for part in filter_parts)
        text = _COLON_PATH.sub(_dotted_path, expression.rstrip())
        try:
            node = parse_expression(text, self.name)
        except AroSyntaxError as error:
            raise self.relocated(error.diagnostics, origin, text, 1) from None
        return _emitter(self._value(node), filters, self.escapes)

    def _filter(self, part: str, origin: int) -> tuple[Filter, str | None]:
        match = _FILTER.fullmatch(part)
        apply = FILTERS.get(match.group(1)) if match else None
        if match is None or apply is None:
            known = ", ".join(sorted(FILTERS))
            raise self.error(origin, f"unknown filter '{part.strip()}': expected one of {known}")
        argument = match.group(2) if match.group(2) is not None else match.group(3)
        return apply, argument

    def _statements(self, block: str, origin: int) -> _Block:
        feature_set = self._feature_set(block, origin, block)
        diagnostics: list[Diagnostic] = []
        code = compile_feature_set(
            feature_set, self.name, self._wrap(block).splitlines(), diagnostics
        )
        errors = [d for d in diagnostics if d.severity == "error"]
        if errors:
            raise self.relocated(errors, origin, block, 2)
        exports = tuple(
            (slot, name)
            for slot, name in enumerate(code.slot_names)
            if not (name.startswith("_") and name.endswith("_"))
        )
        return _Block(code, exports)

    def _wrap(self, text: str) -> str:
        return f"({TEMPLATE_ACTIVITY}: {TEMPLATE_ACTIVITY}) {{\n{text}\n}}\n"

    def _feature_set(self, text: str, origin: int, snippet: str) -> ast.FeatureSet:
        """Parse ``text`` as the body of a feature set; errors located at ``origin``."""
        try:
            source_file = parse_source(self._wrap(text), self.name)
        except AroSyntaxError as error:
            raise self.relocated(error.diagnostics, origin, snippet, 2) from None
        if len(source_file.feature_sets) != 1:
            raise self.error(origin, "expected ARO statements")
        return source_file.feature_sets[0]

    def _linked(self, tree: tuple) -> Evaluator:
        self.reads.update(dict.fromkeys(repositories_read(tree)))
        return link(tree)

    def _prefetch(self, origin: int) -> None:
        if self.reads:
            self.emit(PREFETCH, tuple(self.reads), origin)
            self.reads = {}

    def _value(self, node: object) -> Evaluator:
        """The expression's evaluator, reading ``<x: a.b>`` paths leniently (``_walk``)."""
        tree = self.builder.expr(node)
        self.reads.update(dict.fromkeys(repositories_read(tree)))
        if _is_path(tree):
            return _path_reader(tree[1], tree[3])
        paths: list[PathRead] = []
        evaluate = link(_lenient(tree, paths, self.builder))
        return _paths_first(tuple(paths), evaluate) if paths else evaluate


# Expression kinds and the positions of their sub-expressions (aro.lang.bytecode.Expr).
_CHILDREN = {"binary": (2, 3), "unary": (2,), "is": (1,), "member": (1,), "index": (1, 2)}


def _lenient(tree: tuple, paths: list[PathRead], builder: _Builder) -> tuple:
    """``tree`` with every ``<x: a.b>`` read from a scratch slot that ``_paths_first`` fills."""
    kind = tree[0]
    if _is_path(tree):
        _, slot, name, specifiers = tree
        scratch = builder.read_slot(f" path {len(builder.code.slot_names)}")
        paths.append((scratch, slot, specifiers))
        return ("var", scratch, name, ())
    if kind in _CHILDREN:
        items = list(tree)
        for position in _CHILDREN[kind]:
            items[position] = _lenient(tree[position], paths, builder)
        return tuple(items)
    if kind == "interp":
        parts = tuple(p if isinstance(p, str) else _lenient(p, paths, builder) for p in tree[1])
        return (kind, parts)
    if kind == "list":
        return (kind, tuple(_lenient(item, paths, builder) for item in tree[1]))
    if kind == "map":
        return (kind, tuple((key, _lenient(value, paths, builder)) for key, value in tree[1]))
    return tree


def compile_template(source: str, name: str, escapes: bool) -> CompiledTemplate:
    """Compile template text; ``name`` (``templates/x.html``) locates its errors."""
    return _Compiler(source, name, escapes).compile()


# -- rendering ---------------------------------------------------------------------------------


class _Render:
    """The services seen by the frames of one render: the application's, plus this render's
    output buffer, which ``Print … to the <template>`` and ``Include`` append to."""

    __slots__ = ("escapes", "out", "services")

    def __init__(self, services: Any, escapes: bool) -> None:
        self.services = services
        self.escapes = escapes
        self.out: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.services, name)

    def template_output(self, text: str) -> None:
        """Printed values are inserted values: escaped like ``{{ }}`` output."""
        self.out.append(_escaped(text) if self.escapes else text)

    def template_insert(self, text: str) -> None:
        """An included template: already rendered by its own rules."""
        self.out.append(text)


def _items(collection: Any) -> list[Any]:
    """Lists in order, dicts' values by key (numeric keys first); anything else: no items."""
    if type(collection) is list:
        return collection
    if type(collection) is dict:
        numeric = sorted((k for k in collection if k.isdecimal()), key=int)
        others = sorted(k for k in collection if not k.isdecimal())
        return [collection[key] for key in numeric + others]
    return []


async def _run(template: CompiledTemplate, frame: Frame, start: int, end: int) -> None:
    steps = template.steps
    out = frame.services.out
    step = start
    while step < end:
        op, argument = steps[step]
        try:
            if op == TEXT:
                out.append(argument)
            elif op == EMIT:
                out.append(argument(frame))
            elif op == RUN:
                await _run_block(argument, frame)
            elif op == PREFETCH:
                if frame.services.repositories.suspends:
                    await frame.services.repositories.prefetch(argument)
            else:
                await _run_loop(template, argument, frame)
                step = argument.end
                continue
        except (TemplateError, ThrownError):
            raise
        except AroError as error:
            raise template.located(step, error) from error
        step += 1


async def _run_block(block: _Block, frame: Frame) -> None:
    """Run the statements in a child frame; what they bind stays visible to later steps of
    the same scope (the reference runs them in the template's own context)."""
    child = Frame(block.code, frame.services, parent=frame)
    await execute(child)
    slots = child.slots
    for slot, name in block.exports:
        if slots[slot] is not UNBOUND:
            frame.bind_name(name, slots[slot])


async def _run_loop(template: CompiledTemplate, loop: _Loop, frame: Frame) -> None:
    """Each iteration starts from a blank child frame holding only the item and index."""
    items = _items(loop.collection(frame))
    if not items:
        return
    child = Frame(template.code, frame.services, parent=frame)
    blank = [UNBOUND] * len(child.slots)
    for position, item in enumerate(items):
        child.slots[:] = blank
        child.named = None
        child.slots[loop.item_slot] = item
        if loop.index_slot is not None:
            child.slots[loop.index_slot] = position
        if loop.where is None or loop.where(child) is True:
            await _run(template, child, loop.start, loop.end)


async def render(
    template: CompiledTemplate,
    caller: Frame,
    services: Any,
    extra: Mapping[str, Any] | None = None,
) -> str:
    """Render in an isolated child of ``caller``: it reads the caller's variables and
    ``extra``; nothing it binds survives."""
    state = _Render(services, template.escapes)
    frame = Frame(template.code, state, parent=caller, bindings=dict(extra) if extra else None)
    await _run(template, frame, 0, len(template.steps))
    return "".join(state.out)


# -- loading -----------------------------------------------------------------------------------


class TemplateEngine:
    """The templates of one application: ``<root>/templates/<path>``, compiled once each."""

    def __init__(self, directory: Path | None, services: Any) -> None:
        self.directory = directory
        self.services = services  # what the frames of a render reach, besides its output
        self._loader = None if directory is None else FileSystemLoader(str(directory))
        self._environment = Environment(loader=self._loader)
        self._cache: dict[str, tuple[CompiledTemplate, Callable[[], bool]]] = {}

    def load(self, path: str) -> CompiledTemplate:
        """The compiled template, compiled again when its file changed since."""
        cached = self._cache.get(path)
        if cached is not None and cached[1]():
            return cached[0]
        if self._loader is None or not self._is_inside(path):
            raise TemplateNotFoundError(path)
        try:
            source, _, uptodate = self._loader.get_source(self._environment, path)
        except (TemplateNotFound, OSError):
            raise TemplateNotFoundError(path) from None
        except UnicodeDecodeError:
            raise TemplateError(f"Template is not UTF-8 text: ./templates/{path}") from None
        template = compile_template(source, f"templates/{path}", _AUTOESCAPE(path))
        self._cache[path] = (template, uptodate)
        return template

    def _is_inside(self, path: str) -> bool:
        """Whether ``path`` stays inside ``templates/``, decided before the file is opened:
        no ``..``, no absolute path, no symlink resolving elsewhere (docs/decisions.md, 14)."""
        if not path or "\x00" in path or ".." in path or path.startswith(("/", "\\")):
            return False
        if PureWindowsPath(path).drive or self.directory is None:
            return False
        root = self.directory.resolve()
        return (root / path).resolve().is_relative_to(root)

    async def render(self, path: str, caller: Frame, extra: Mapping[str, Any] | None = None) -> str:
        """The ``templates`` capability of ``aro.vm.services``."""
        return await render(self.load(path), caller, self.services, extra)
