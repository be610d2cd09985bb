"""Readable listings of code objects (``aro disasm APP``), in the spirit of Python's ``dis``."""

from __future__ import annotations

from aro.lang.bytecode import CodeObject, Op, Program


def describe_expr(expr: tuple) -> str:
    """A compact source-like rendering of a resolved expression tree."""
    kind = expr[0]
    if kind == "const":
        return repr(expr[1])
    if kind == "var":
        _, slot, name, specifiers = expr
        spec = f": {'.'.join(specifiers)}" if specifiers else ""
        return f"<{name}{spec}>@{slot}"
    if kind == "binary":
        return f"({describe_expr(expr[2])} {expr[1]} {describe_expr(expr[3])})"
    if kind == "unary":
        return f"({expr[1]} {describe_expr(expr[2])})"
    if kind == "interp":
        return '"' + "".join(p if isinstance(p, str) else "${" + describe_expr(p) + "}"
                             for p in expr[1]) + '"'  # fmt: skip
    if kind == "list":
        return "[" + ", ".join(describe_expr(item) for item in expr[1]) + "]"
    if kind == "map":
        return "{" + ", ".join(f"{k}: {describe_expr(v)}" for k, v in expr[1]) + "}"
    if kind == "regex":
        return f"/{expr[1]}/{expr[2]}"
    if kind == "is":
        return f"({describe_expr(expr[1])} is {'not ' if expr[3] else ''}{expr[2]})"
    if kind == "member":
        return f"{describe_expr(expr[1])}.{expr[2]}"
    if kind == "index":
        return f"{describe_expr(expr[1])}[{describe_expr(expr[2])}]"
    if kind == "exists":
        return f"<{expr[2]}>@{expr[1]} exists"
    return repr(expr)


def _operand(code: CodeObject, op: Op, arg: object) -> str:
    if op == Op.STMT:
        statement = code.statements[arg]
        line = f"  (line {statement.span.line})" if statement.span else ""
        return f"{arg:<4} {statement.source}{line}"
    if op == Op.JUMP:
        return f"→ {arg}"
    if op == Op.JUMP_IF_NOT:
        condition, target = arg
        return f"{describe_expr(code.exprs[condition])} else → {target}"
    if op in (Op.FOR_INIT, Op.PARALLEL_FOR):
        loop = code.loops[arg]
        source = (
            describe_expr(loop.collection)
            if loop.collection is not None
            else f"range({describe_expr(loop.range_bounds[0])}, "
            f"{describe_expr(loop.range_bounds[1])})"
        )
        return f"{arg:<4} item@{loop.item_slot} in {source}"
    if op == Op.FOR_NEXT:
        loop_index, target = arg
        return f"{loop_index:<4} done → {target}"
    if op == Op.MATCH:
        match = code.matches[arg]
        cases = ", ".join(
            f"{kind} {pattern!r} → {target}" for kind, pattern, _, target in match.cases
        )
        return f"{describe_expr(match.subject)}: {cases}; otherwise → {match.otherwise_target}"
    return "" if arg is None else repr(arg)


def disassemble(code: CodeObject) -> str:
    where = f"  {code.filename}:{code.span.line}" if code.span else ""
    lines = [f"Feature set ({code.name}: {code.activity}){where}"]
    if code.guard is not None:
        lines.append(f"  guard: {describe_expr(code.guard)}")
    slots = ", ".join(f"{i}:{name}" for i, name in enumerate(code.slot_names))
    lines.append(f"  slots: {slots}")
    for index, (op, arg) in enumerate(code.instructions):
        lines.append(f"  {index:>4}  {op.name:<13} {_operand(code, op, arg)}".rstrip())
    for loop in code.loops:
        if loop.body is not None:
            lines.append("  parallel body:")
            lines.extend("  " + line for line in disassemble(loop.body).splitlines())
    return "\n".join(lines)


def disassemble_program(program: Program) -> str:
    return "\n\n".join(disassemble(code) for code in program.code_objects)
