"""Markdown: the built-in subset behind ``Compute <x: markdown>`` and the template filter."""

from __future__ import annotations

import re


def _escape_html(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


_INLINE_MARKDOWN = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\[([^\]]+)\]\(([^)]+)\)"), r'<a href="\2">\1</a>'),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"\*([^*]+)\*"), r"<em>\1</em>"),
    (re.compile(r"_([^_]+)_"), r"<em>\1</em>"),
)
_HEADING = re.compile(r"(#{1,6})\s+(.*)$")


def _markdown_inline(text: str) -> str:
    text = _escape_html(text)
    for pattern, replacement in _INLINE_MARKDOWN:
        text = pattern.sub(replacement, text)
    return text


def _markdown_block(block: str) -> str:
    trimmed = block.strip(" \t")
    if trimmed.startswith("```"):
        inner = block.split("\n")[1:]
        if inner and inner[-1].strip(" \t").startswith("```"):
            inner.pop()
        code = _escape_html("\n".join(inner))
        return f"<pre><code>{code}</code></pre>"
    if _HEADING.match(trimmed):
        level = len(trimmed) - len(trimmed.lstrip("#"))
        title = _markdown_inline(trimmed.lstrip("#").strip(" \t"))
        return f"<h{level}>{title}</h{level}>"
    text = _markdown_inline(block.replace("\n", " ").strip(" \t"))
    return f"<p>{text}</p>"


def markdown_to_html(source: str) -> str:
    """Headings, paragraphs, fenced code, **bold**, *italic*, _italic_, `code`, [text](url)."""
    blocks: list[str] = []
    lines: list[str] = []
    fenced = False
    for line in source.split("\n"):
        if line.strip(" \t").startswith("```"):
            lines.append(line)
            fenced = not fenced
        elif not fenced and not line.strip(" \t"):
            if lines:
                blocks.append("\n".join(lines))
                lines = []
        else:
            lines.append(line)
    if lines:
        blocks.append("\n".join(lines))
    return "\n".join(_markdown_block(block) for block in blocks)
