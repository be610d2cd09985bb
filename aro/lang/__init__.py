"""The ARO language front end: lexer, parser, AST and printer."""

from aro.lang.diagnostics import AroSyntaxError, Diagnostic
from aro.lang.parser import parse_expression, parse_file, parse_source
from aro.lang.printer import format_expression, format_source

__all__ = [
    "AroSyntaxError",
    "Diagnostic",
    "format_expression",
    "format_source",
    "parse_expression",
    "parse_file",
    "parse_source",
]
