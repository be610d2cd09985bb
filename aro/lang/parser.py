"""The ARO parser: tokens to the AST of ``aro.lang.ast`` (grammar: docs/semantics.md).

Errors never stop the parse: each one is reported and the parser resumes at the next statement
(after an error inside a statement) or the next feature-set header (after an error in a header),
so that ``AroSyntaxError`` lists every error of the file.

Choices the spec leaves open:

* ``expr is true`` / ``is false`` / ``is null`` (also ``nil``, ``none``) become
  ``TypeCheck(expr, "true" | "false" | "null", negated)``; the reference evaluates them as
  ``expr == true`` (``!=`` when negated), so the compiler should treat these three type names as
  an equality with the literal.
* The ``<x> == "a" or "b"`` shorthand is only applied when the right operand is a plain value:
  not parenthesised, not a comparison, logical, ``is``/``exists`` test or ``not`` (the reference
  also distributes into those, which can only produce nonsense).
* ``a in b`` and ``a not in b`` are accepted as equality-level operators in expressions.
* ``exists`` may be followed by further operators (``<a> exists and <b> exists``).
* Nesting is limited to ``MAX_NESTING`` levels, counting brackets, operands of operators
  (a chain ``a + b + c`` nests like ``((a + b) + c)``) and blocks: deeper input gets the
  diagnostic "nesting too deep" instead of overflowing the Python stack of the parser or of the
  compiler and printer, which walk the tree recursively (docs/decisions.md, decision 22).
* In a ``|`` qualifier chain the first element is kept whole as the only specifier and the
  rest go to ``Noun.qualifiers`` (``<x: stats.sort | list.take>`` gives specifiers
  ``("stats.sort",)`` and qualifiers ``("list.take",)``).
"""

from __future__ import annotations

from pathlib import Path

from aro.lang.ast import (
    NO_CLAUSES,
    Aggregation,
    AroStatement,
    Binary,
    Break,
    Clauses,
    Exists,
    FeatureSet,
    ForEach,
    Import,
    Index,
    Interpolation,
    ListLiteral,
    Literal,
    MapLiteral,
    MatchCase,
    MatchStatement,
    Member,
    Noun,
    ObjectExpr,
    ObjectNoun,
    Pipeline,
    PublishStatement,
    RangeLoop,
    RegexLiteral,
    RequireStatement,
    ResultNoun,
    SinkResult,
    SourceFile,
    Span,
    TypeCheck,
    Unary,
    VarRef,
    WhereClause,
    WhileLoop,
)
from aro.lang.diagnostics import DiagnosticSink
from aro.lang.gcpause import paused_gc
from aro.lang.lexer import lex
from aro.lang.tokens import (
    COL,
    END,
    KIND,
    LINE,
    NAME_KEYWORDS,
    NOUN_KEYWORDS,
    POS,
    TEXT,
    VALUE,
    LexedToken,
    TokenKind,
    describe,
)

IDENT = TokenKind.IDENT
KEYWORD = TokenKind.KEYWORD
ARTICLE = TokenKind.ARTICLE
PREPOSITION = TokenKind.PREPOSITION
PUNCT = TokenKind.PUNCT
EOF = TokenKind.EOF

SINK_VERBS = frozenset({"log", "print", "output", "debug", "write", "send", "dispatch"})
KEYWORD_VERBS = frozenset({"when", "then", "assert", "exists"})
EXPRESSION_PREPOSITIONS = frozenset({"to", "from", "with", "for"})
TIME_UNITS = frozenset({
    "second", "seconds", "s", "minute", "minutes", "min", "hour", "hours", "h",
    "millisecond", "milliseconds", "ms",
})
CLAUSE_ORDER = ("with", "to", "where", "by", "default", "when")
AGGREGATIONS = frozenset({"sum", "count", "avg", "min", "max"})
NULL_WORDS = frozenset({"null", "nil", "none"})
COMPARISON_OPS = frozenset(
    {"==", "!=", "<", ">", "<=", ">=", "contains", "matches", "in", "not in"}
)
LOGICAL_OPS = frozenset({"or", "and"})
PREPOSITION_LIST = "from, for, to, with, into, on, at, by, via, against"

# Binding power of infix operators, low to high (docs/semantics.md, Expressions).
PREC_OR, PREC_AND, PREC_EQUALITY, PREC_COMPARISON, PREC_TERM, PREC_FACTOR = 1, 2, 3, 4, 5, 6
PREC_UNARY, PREC_POSTFIX = 7, 8
KEYWORD_PRECEDENCE = {
    "or": PREC_OR, "and": PREC_AND,
    "is": PREC_EQUALITY, "contains": PREC_EQUALITY, "matches": PREC_EQUALITY, "in": PREC_EQUALITY,
}
PUNCT_PRECEDENCE = {
    "==": PREC_EQUALITY, "=": PREC_EQUALITY, "!=": PREC_EQUALITY,
    "<=": PREC_COMPARISON, ">=": PREC_COMPARISON, "<": PREC_COMPARISON, ">": PREC_COMPARISON,
    "+": PREC_TERM, "-": PREC_TERM, "++": PREC_TERM,
    "*": PREC_FACTOR, "/": PREC_FACTOR, "%": PREC_FACTOR,
    "[": PREC_POSTFIX, ".": PREC_POSTFIX,
}
_new_span = tuple.__new__
WHERE_PUNCT_OPS = frozenset({"=", "==", "!=", "<", "<=", ">", ">="})


def parse_source(text: str, filename: str = "<string>") -> SourceFile:
    """Parse one ``.aro`` source text; raises ``AroSyntaxError`` listing every error."""
    sink = DiagnosticSink(text, filename)
    with paused_gc():
        source = Parser(lex(text, sink), sink).parse_program()
    sink.raise_if_any()
    return source


def parse_file(path: str | Path) -> SourceFile:
    """Parse the ``.aro`` file at ``path``."""
    return parse_source(Path(path).read_text(encoding="utf-8"), str(path))


def parse_expression(text: str, filename: str = "<string>") -> object:
    """Parse ``text`` as one expression (template shorthands, tests)."""
    sink = DiagnosticSink(text, filename)
    tokens = lex(text, sink)
    parser = Parser(tokens, sink)
    expression = None
    try:
        expression = parser.parse_expression()
        if parser.tok[KIND] is not EOF:
            parser.fail("an operator or the end of the expression")
    except ParseError as error:
        parser.report(error)
    sink.raise_if_any()
    return expression


# The deepest nesting of expressions and blocks a program may have: far beyond hand-written
# code, and shallow enough that parser, compiler and printer (up to four frames a level)
# stay well inside Python's default recursion limit even when called from deep in the runtime.
MAX_NESTING = 100


class ParseError(Exception):
    def __init__(self, token: LexedToken, message: str) -> None:
        super().__init__(message)
        self.token = token
        self.message = message


class Parser:
    def __init__(self, tokens: list[LexedToken], sink: DiagnosticSink) -> None:
        self.tokens = tokens
        self.sink = sink
        self.filename = sink.filename
        self.i = 0
        self.tok = tokens[0]
        self.depth = 0  # current nesting of expressions and blocks (see MAX_NESTING)
        # The expression most recently closed by ')', for the or-shorthand rule.
        self._last_group: object | None = None

    # -- token access -------------------------------------------------------------------------

    def advance(self) -> LexedToken:
        token = self.tok
        if token[KIND] is not EOF:
            self.i += 1
            self.tok = self.tokens[self.i]
        return token

    def peek(self, offset: int) -> LexedToken:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def at_punct(self, symbol: str) -> bool:
        return self.tok[KIND] is PUNCT and self.tok[VALUE] == symbol

    def at_keyword(self, word: str) -> bool:
        return self.tok[KIND] is KEYWORD and self.tok[VALUE] == word

    def at_preposition(self, word: str) -> bool:
        return self.tok[KIND] is PREPOSITION and self.tok[VALUE] == word

    def span(self, token: LexedToken) -> Span:
        return _new_span(Span, (self.filename, token[LINE], token[COL]))

    def fail(self, expected: str) -> None:
        raise ParseError(self.tok, f"expected {expected}, found {describe(self.tok)}")

    def expect_punct(self, symbol: str, context: str) -> LexedToken:
        if not self.at_punct(symbol):
            self.fail(f"'{symbol}' {context}")
        return self.advance()

    def expect_noun_end(self, name: str) -> None:
        """The '>' closing ``<name``; the message is only formatted when it is missing."""
        token = self.tok
        if token[KIND] is not PUNCT or token[VALUE] != ">":
            self.fail(f"'>' to close '<{name}'")
        self.advance()

    def expect_keyword(self, word: str, context: str) -> LexedToken:
        if not self.at_keyword(word):
            self.fail(f"'{word}' {context}")
        return self.advance()

    def expect_preposition(self, word: str, context: str) -> LexedToken:
        if not self.at_preposition(word):
            self.fail(f"'{word}' {context}")
        return self.advance()

    def skip_article(self) -> str | None:
        if self.tok[KIND] is ARTICLE:
            return self.advance()[VALUE]
        return None

    def nest(self) -> None:
        """Enter one more level of nesting; the callers restore ``depth`` when they return."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.too_deep()

    def too_deep(self) -> ParseError:
        return ParseError(
            self.tok,
            f"nesting too deep: more than {MAX_NESTING} levels of brackets, operators or blocks",
        )

    def report(self, error: ParseError) -> None:
        # An ERROR token was already reported by the lexer.
        if error.token[KIND] is not TokenKind.ERROR:
            self.sink.error(error.message, error.token[LINE], error.token[COL])

    # -- program and feature sets -------------------------------------------------------------

    def parse_program(self) -> SourceFile:
        imports = []
        while self.at_keyword("import"):
            start = self.i
            try:
                imports.append(self.parse_import())
            except ParseError as error:
                self.report(error)
                self.sync_to_header(start)
        feature_sets = []
        while self.tok[KIND] is not EOF:
            start = self.i
            try:
                feature_sets.append(self.parse_feature_set())
            except ParseError as error:
                self.report(error)
                self.sync_to_header(start)
        return SourceFile(self.filename, tuple(feature_sets), tuple(imports))

    def parse_import(self) -> Import:
        start = self.advance()
        fragments = []
        while self.tok[KIND] is IDENT or (
            self.tok[KIND] is PUNCT and self.tok[VALUE] in (".", "/", "-")
        ):
            fragments.append(self.advance()[TEXT])
        if not fragments:
            self.fail("a path after 'import' (e.g. ../Other)")
        return Import("".join(fragments), self.span(start))

    def parse_feature_set(self) -> FeatureSet:
        start = self.expect_punct("(", "to start a feature set")
        name = self.parse_header_words("a feature-set name")
        self.expect_punct(":", f"after the feature-set name '{name}'")
        activity = self.parse_header_words("a business activity")
        activity, takes = split_takes(activity)
        self.expect_punct(")", "to end the feature-set header")
        guard = None
        if self.at_keyword("when") or self.at_keyword("where"):
            self.advance()
            guard = self.parse_expression()
        self.expect_punct("{", "to open the feature-set body")
        body = self.parse_block()
        self.close_block(f"the feature set '{name}'")
        return FeatureSet(name, activity, body, guard, takes, self.span(start))

    def parse_header_words(self, what: str) -> str:
        """``word+``: identifier-like words, hyphen compounds and ``<...>`` suffixes."""
        words = []
        while is_name_word(self.tok):
            word = self.advance()[TEXT]
            while self.at_punct("-"):
                self.advance()
                if not is_name_word(self.tok):
                    self.fail(f"a word after '{word}-'")
                word += "-" + self.advance()[TEXT]
            if self.at_punct("<"):
                word += self.parse_header_suffix()
            words.append(word)
        if not words:
            self.fail(what)
        return " ".join(words)

    def parse_header_suffix(self) -> str:
        """``<raw tokens>``, concatenated without spaces (``Handler<status:paid,shipped>``)."""
        self.advance()
        raw = []
        while not self.at_punct(">"):
            if self.tok[KIND] is EOF or self.at_punct(")") or self.at_punct("{"):
                self.fail("'>' to close the '<' of the header")
            raw.append(self.advance()[TEXT])
        self.advance()
        return "<" + "".join(raw) + ">"

    # -- blocks and error recovery ------------------------------------------------------------

    def parse_block(self) -> tuple[object, ...]:
        """Statements up to (not including) the closing '}'."""
        saved = self.depth
        self.nest()
        statements = []
        try:
            while True:
                token = self.tok
                if token[KIND] is PUNCT:  # '}' ends the block, '(' may start the next header
                    if token[VALUE] == "}" or (token[VALUE] == "(" and self.looks_like_header()):
                        break
                elif token[KIND] is EOF:
                    break
                start = self.i
                try:
                    statements.append(self.parse_statement())
                except ParseError as error:
                    self.report(error)
                    self.sync_statement(start)
        finally:
            self.depth = saved
        return tuple(statements)

    def close_block(self, what: str) -> None:
        if not self.at_punct("}"):
            self.fail(f"'}}' to close {what}")
        self.advance()

    def looks_like_header(self) -> bool:
        """``( words :`` starts a feature set; no statement or expression starts like that."""
        if not self.at_punct("("):
            return False
        offset = 1
        while is_name_word(self.peek(offset)) or is_punct(self.peek(offset), "-"):
            offset += 1
        return offset > 1 and is_punct(self.peek(offset), ":")

    def sync_statement(self, start: int) -> None:
        """Skip the rest of a broken statement: past its '.', a skipped block, or up to a '}'
        or the next statement that starts a line."""
        if self.i == start:
            self.advance()
        depth = max(0, self.brace_balance(start))
        while self.tok[KIND] is not EOF and not self.looks_like_header():
            if depth == 0 and self.starts_line_statement():
                return
            if self.at_punct("{"):
                depth += 1
            elif self.at_punct("}"):
                if depth == 0:
                    return
                depth -= 1
                if depth == 0 and not is_punct(self.peek(1), "."):
                    self.advance()  # the block of a loop or match ends the statement
                    return
            elif depth == 0 and self.at_punct(".") and self.is_terminator_dot():
                while self.at_punct("."):
                    self.advance()
                return
            self.advance()

    def brace_balance(self, start: int) -> int:
        """How many '{' the tokens from ``start`` up to the current one leave open."""
        balance = 0
        for token in self.tokens[start : self.i]:
            if token[KIND] is PUNCT:
                balance += (token[VALUE] == "{") - (token[VALUE] == "}")
        return balance

    def sync_to_header(self, start: int) -> None:
        """Skip to the next '(' outside braces (the next feature-set header)."""
        if self.i == start:
            self.advance()
        depth = 0
        while self.tok[KIND] is not EOF:
            if self.looks_like_header() or (
                depth == 0 and (self.at_punct("(") or self.at_keyword("import"))
            ):
                return
            if self.at_punct("{"):
                depth += 1
            elif self.at_punct("}"):
                depth = max(0, depth - 1)
            self.advance()

    def is_terminator_dot(self) -> bool:
        following = self.peek(1)
        return (
            following[KIND] is EOF
            or is_punct(following, "}")
            or following[POS] > self.tok[END]
        )

    def starts_line_statement(self) -> bool:
        """A token that begins a line and plainly begins a statement."""
        token = self.tok
        if self.i == 0 or self.tokens[self.i - 1][LINE] == token[LINE]:
            return False
        following = self.peek(1)
        if token[KIND] is KEYWORD:
            return token[VALUE] in ("match", "while", "break", "publish", "require", "parallel")
        if is_word(token, PREPOSITION, "for"):
            return is_word(following, KEYWORD, "each")
        if is_punct(token, "<"):
            return following[KIND] is IDENT and following[TEXT][0].isupper()
        if token[KIND] is IDENT and token[TEXT][0].isupper():
            return following[KIND] in (ARTICLE, TokenKind.STRING, TokenKind.TEMPLATE) or (
                following[KIND] is PUNCT and following[VALUE] in ("<", "{", "[", ".")
            )
        return False

    # -- statements ---------------------------------------------------------------------------

    def parse_statement(self) -> object:
        token = self.tok
        kind = token[KIND]
        if kind is KEYWORD and token[VALUE] not in KEYWORD_VERBS:
            handler = self.KEYWORD_STATEMENTS.get(token[VALUE])
            if handler is None:
                self.fail("a statement (an action verb such as Extract, or match/for/while)")
            return handler(self)
        if kind is PREPOSITION and token[VALUE] == "for":
            if is_punct(self.peek(1), "<"):
                return self.parse_range_loop()
            return self.parse_for_each(parallel=False)
        statement = self.parse_aro_statement()
        token = self.tok
        if token[KIND] is PUNCT and token[VALUE] == "|>":
            stages = [statement]
            while self.at_punct("|>"):
                self.advance()
                stages.append(self.parse_aro_statement())
            statement = Pipeline(tuple(stages), statement.span)
        self.expect_terminator()
        return statement

    def expect_terminator(self) -> None:
        token = self.tok
        if token[KIND] is not PUNCT or token[VALUE] != ".":
            clause = token[KIND] in (PREPOSITION, KEYWORD) or token[TEXT] == "default"
            if clause and token[VALUE] in CLAUSE_ORDER:
                self.fail("'.' to end the statement (clauses go in the order "
                          f"{', '.join(CLAUSE_ORDER)})")
            self.fail("'.' to end the statement")
        tokens, i = self.tokens, self.i
        while token[KIND] is PUNCT and token[VALUE] == ".":  # never EOF: step without advance()
            i += 1
            token = tokens[i]
        self.i, self.tok = i, token

    def parse_break(self) -> Break:
        start = self.advance()
        self.expect_terminator()
        return Break(self.span(start))

    def parse_publish(self) -> PublishStatement:
        start = self.advance()
        self.expect_keyword("as", "after 'Publish'")
        alias = self.parse_bracketed_name("the published name")
        variable = self.parse_bracketed_name("the variable to publish")
        self.expect_terminator()
        return PublishStatement(alias, variable, self.span(start))

    def parse_require(self) -> RequireStatement:
        start = self.advance()
        self.skip_article()
        name = self.parse_bracketed_name("the required name")
        self.expect_preposition("from", "after the required name")
        self.skip_article()
        source = self.parse_bracketed_name("the source (framework, environment or a feature set)")
        self.expect_terminator()
        return RequireStatement(name, source, self.span(start))

    def parse_bracketed_name(self, what: str) -> str:
        self.expect_punct("<", f"to start {what}")
        name = self.parse_compound(f"{what} inside '<...>'")
        self.expect_noun_end(name)
        return name

    def parse_parallel_for_each(self) -> ForEach:
        self.advance()
        if not self.at_preposition("for"):
            self.fail("'for each' after 'parallel'")
        return self.parse_for_each(parallel=True)

    def parse_for_each(self, parallel: bool) -> ForEach:
        start = self.advance()
        self.expect_keyword("each", "after 'for' (or '<name>' for a range loop)")
        item = self.parse_bracketed_name("the loop variable")
        index = None
        if self.at_preposition("at"):
            self.advance()
            index = self.parse_bracketed_name("the index variable")
        self.expect_keyword("in", "before the collection")
        self.expect_punct("<", "to start the collection")
        collection = self.parse_closed_noun()
        concurrency = None
        if parallel and self.at_preposition("with"):
            concurrency = self.parse_concurrency()
        where = None
        if self.at_keyword("where"):
            self.advance()
            where = self.parse_expression()
        body = self.parse_braced_body("the for-each loop")
        return ForEach(item, collection, body, index, parallel, concurrency, where,
                       self.span(start))

    def parse_concurrency(self) -> int:
        """``with <concurrency: N>``; a limit below 1 runs one at a time, as the reference."""
        self.advance()
        self.expect_punct("<", "to start '<concurrency: N>'")
        self.expect_keyword("concurrency", "in '<concurrency: N>'")
        self.expect_punct(":", "after 'concurrency'")
        if self.tok[KIND] is not TokenKind.INT:
            self.fail("an integer concurrency limit")
        limit = self.advance()[VALUE]
        self.expect_punct(">", "to close '<concurrency: N>'")
        return max(limit, 1)

    def parse_range_loop(self) -> RangeLoop:
        start = self.advance()
        var = self.parse_bracketed_name("the loop variable")
        self.expect_preposition("from", "after the range-loop variable")
        low = self.parse_expression()
        self.expect_preposition("to", "after the start of the range")
        high = self.parse_expression()
        body = self.parse_braced_body("the range loop")
        return RangeLoop(var, low, high, body, self.span(start))

    def parse_while(self) -> WhileLoop:
        start = self.advance()
        condition = self.parse_expression()
        body = self.parse_braced_body("the while loop")
        return WhileLoop(condition, body, self.span(start))

    def parse_braced_body(self, what: str) -> tuple[object, ...]:
        self.expect_punct("{", f"to open the body of {what}")
        body = self.parse_block()
        self.close_block(what)
        return body

    def parse_match(self) -> MatchStatement:
        start = self.advance()
        self.expect_punct("<", "after 'match'")
        subject = self.parse_closed_noun()
        self.expect_punct("{", "to open the match body")
        cases: list[MatchCase] = []
        otherwise = None
        while not (self.at_punct("}") or self.tok[KIND] is EOF or self.looks_like_header()):
            start_index = self.i
            try:
                if self.at_keyword("otherwise"):
                    self.advance()
                    otherwise = self.parse_braced_body("the otherwise branch")
                    break
                if not self.at_keyword("case"):
                    self.fail("'case', 'otherwise' or '}' in the match body")
                cases.append(self.parse_case())
            except ParseError as error:
                self.report(error)
                self.sync_case(start_index)
        self.close_block("the match statement")
        return MatchStatement(subject, tuple(cases), otherwise, self.span(start))

    def parse_case(self) -> MatchCase:
        start = self.advance()
        pattern = self.parse_pattern()
        guard = None
        if self.at_keyword("where"):
            self.advance()
            guard = self.parse_expression()
        body = self.parse_braced_body("the case")
        return MatchCase(pattern, body, guard, self.span(start))

    def parse_pattern(self) -> object:
        token = self.tok
        span = self.span(token)
        if token[KIND] is IDENT and token[TEXT] == "_":
            self.advance()
            return None
        if token[KIND] is TokenKind.REGEX:
            self.advance()
            return RegexLiteral(token[VALUE][0], token[VALUE][1], span)
        if token[KIND] in (TokenKind.STRING, TokenKind.INT, TokenKind.FLOAT):
            self.advance()
            return Literal(token[VALUE], span)
        if token[KIND] is KEYWORD and token[VALUE] in ("true", "false", *NULL_WORDS):
            self.advance()
            return Literal(keyword_literal(token[VALUE]), span)
        if is_punct(token, "<"):
            return self.parse_var_ref(span)
        self.fail("a case pattern (a literal, '<name>', '_' or a /regex/)")

    def sync_case(self, start: int) -> None:
        """Skip to the next 'case', 'otherwise' or the '}' closing the match."""
        if self.i == start:
            self.advance()
        depth = 0
        while self.tok[KIND] is not EOF and not self.looks_like_header():
            if depth == 0 and (
                self.at_keyword("case") or self.at_keyword("otherwise") or self.at_punct("}")
            ):
                return
            if self.at_punct("{"):
                depth += 1
            elif self.at_punct("}"):
                depth -= 1
            self.advance()

    KEYWORD_STATEMENTS = {
        "match": parse_match,
        "while": parse_while,
        "break": parse_break,
        "publish": parse_publish,
        "require": parse_require,
        "parallel": parse_parallel_for_each,
    }

    # -- ARO statements -----------------------------------------------------------------------

    # The functions below run for every statement; they read ``self.tok`` into a local and step
    # past a token they have just recognised (never EOF) with ``self.i += 1`` instead of calling
    # ``advance``, ``at_punct`` and ``span``: those calls were half of the parser's calls.

    def parse_aro_statement(self) -> AroStatement:
        start = self.tok
        span = _new_span(Span, (self.filename, start[LINE], start[COL]))
        bracketed = start[KIND] is PUNCT and start[VALUE] == "<"
        following = self.tokens[self.i + 1] if start[KIND] is IDENT else None
        if following is not None and following[KIND] is not PUNCT and start[TEXT][0].isupper():
            verb = start[TEXT]  # a plain ``Verb`` (most statements): parse_verb's first step
            self.i += 1
            self.tok = following
        else:
            if bracketed:
                self.advance()
            verb = self.parse_verb()
            if bracketed:
                self.expect_punct(">", f"to close the verb '<{verb}'")
        result = self.parse_result(verb)
        token = self.tok
        if token[KIND] is not PREPOSITION:
            self.fail(f"a preposition ({PREPOSITION_LIST}) after the result")
        preposition = token[VALUE]
        self.i += 1
        self.tok = self.tokens[self.i]
        obj = self.parse_object(preposition)
        clauses = self.parse_clauses()
        return AroStatement(verb, result, preposition, obj, clauses, bracketed, span)

    def parse_verb(self) -> str:
        """``Verb`` or ``Namespace.Verb``; the test verbs When/Then/Assert/Exists are keywords."""
        token = self.tok
        if token[KIND] is KEYWORD and token[VALUE] in KEYWORD_VERBS:
            self.advance()
            return token[TEXT][0].upper() + token[TEXT][1:]
        if token[KIND] is not IDENT or not token[TEXT][0].isupper():
            self.fail("an action verb (a capitalised word such as Extract, Log or Return)")
        verb = token[TEXT]
        self.i += 1
        token = self.tok = self.tokens[self.i]
        while token[KIND] is PUNCT and token[VALUE] == "." and is_capitalised(self.peek(1)):
            self.advance()
            verb += "." + self.advance()[TEXT]
            token = self.tok
        return verb

    def parse_result(self, verb: str) -> ResultNoun | SinkResult:
        token = self.tok
        span = _new_span(Span, (self.filename, token[LINE], token[COL]))
        if (
            token[KIND] is not ARTICLE
            and verb.lower() in SINK_VERBS
            and starts_sink_expression(token)
        ):
            return SinkResult(self.parse_expression(), span)
        article = None
        if token[KIND] is ARTICLE:
            article = token[VALUE]
            self.i += 1
            token = self.tok = self.tokens[self.i]
        if token[KIND] is not PUNCT or token[VALUE] != "<":
            self.fail("'<' to start the result")
        self.i += 1
        self.tok = self.tokens[self.i]
        noun = self.parse_closed_noun()
        as_type = None
        token = self.tok
        if token[KIND] is KEYWORD and token[VALUE] == "as":
            self.advance()
            as_type = self.parse_type_text()
        return ResultNoun(noun, article, as_type, span)

    def parse_object(self, preposition: str) -> ObjectNoun | ObjectExpr:
        token = self.tok
        span = _new_span(Span, (self.filename, token[LINE], token[COL]))
        kind = token[KIND]
        if (
            kind is not ARTICLE  # the article-decides rule (is_object_pattern) without a call
            and kind is not IDENT
            and preposition in EXPRESSION_PREPOSITIONS
            and starts_expression(token)
            and not self.is_object_pattern()
        ):
            expression = self.parse_expression()
            unit = None
            if preposition in ("with", "for") and self.tok[KIND] is IDENT and (
                self.tok[TEXT] in TIME_UNITS
            ):
                unit = self.advance()[TEXT]
            return ObjectExpr(expression, unit, span)
        article = None
        if token[KIND] is ARTICLE:
            article = token[VALUE]
            self.i += 1
            token = self.tok = self.tokens[self.i]
        if token[KIND] is PUNCT and token[VALUE] == "<":
            self.i += 1
            self.tok = self.tokens[self.i]
            noun = self.parse_closed_noun()
            return ObjectNoun(noun, article, False, span)
        if token[KIND] is IDENT:
            base = self.parse_compound("an object name")
            return ObjectNoun(Noun(base, span=span), article, True, span)
        self.fail(f"an object ('<name>', 'the <name>' or a word) after '{preposition}'")

    def is_object_pattern(self) -> bool:
        """The article-decides rule: article, bare word, or ``<ident:`` make an object noun."""
        token = self.tok
        if token[KIND] in (ARTICLE, IDENT):
            return True
        return (
            is_punct(token, "<") and self.peek(1)[KIND] is IDENT and is_punct(self.peek(2), ":")
        )

    def parse_clauses(self) -> Clauses:
        """The optional clauses, in their fixed order; each test reads the token in place."""
        token = self.tok
        if token[KIND] is PUNCT:  # most statements end here: no clause starts with a symbol
            return NO_CLAUSES
        with_ = to = where = by = default = when = None
        if token[KIND] is PREPOSITION and token[VALUE] == "with":
            self.advance()
            with_ = self.parse_with_value()
            token = self.tok
        if token[KIND] is PREPOSITION and token[VALUE] == "to":
            self.advance()
            to = self.parse_expression()
            token = self.tok
        if token[KIND] is KEYWORD and token[VALUE] == "where":
            self.advance()
            where = self.parse_where_clause()
            token = self.tok
        if token[KIND] is PREPOSITION and token[VALUE] == "by":
            self.advance()
            by = self.parse_by_value()
            token = self.tok
        if token[KIND] is IDENT and token[TEXT] == "default":
            self.advance()
            default = self.parse_expression()
            token = self.tok
        if token[KIND] is KEYWORD and token[VALUE] == "when":
            self.advance()
            when = self.parse_expression()
        if with_ is to is where is by is default is when is None:
            return NO_CLAUSES
        return Clauses(with_, to, where, by, default, when)

    def parse_with_value(self) -> object:
        token = self.tok
        if (
            token[KIND] is IDENT
            and token[TEXT].lower() in AGGREGATIONS
            and is_punct(self.peek(1), "(")
        ):
            return self.parse_aggregation()
        if not starts_expression(token):
            self.fail("an expression or aggregation (sum, count, avg, min, max) after 'with'")
        return self.parse_expression()

    def parse_aggregation(self) -> Aggregation:
        token = self.advance()
        self.advance()
        field = None
        if self.at_punct("<"):
            field = self.parse_bracketed_name("the aggregated field")
        self.expect_punct(")", f"to close '{token[TEXT]}('")
        return Aggregation(token[TEXT].lower(), field, self.span(token))

    def parse_where_clause(self) -> WhereClause:
        token = self.tok
        field = self.parse_bracketed_name("the field of the where clause")
        op = self.parse_where_operator()
        return WhereClause(field, op, self.parse_expression(), self.span(token))

    def parse_where_operator(self) -> str:
        token = self.tok
        if token[KIND] is KEYWORD and token[VALUE] in ("is", "contains", "matches", "in"):
            self.advance()
            if token[VALUE] == "is" and self.at_keyword("not"):
                self.advance()
                return "is not"
            return token[VALUE]
        if is_word(token, KEYWORD, "not") and is_word(self.peek(1), KEYWORD, "in"):
            self.advance()
            self.advance()
            return "not in"
        if token[KIND] is PUNCT and token[VALUE] in WHERE_PUNCT_OPS:
            self.advance()
            if token[VALUE] in ("<", ">") and self.at_punct("="):
                self.advance()
                return token[VALUE] + "="
            return token[VALUE]
        if (
            token[KIND] is IDENT
            and token[TEXT].lower() in ("starts", "ends")
            and is_punct(self.peek(1), "-")
            and is_word(self.peek(2), PREPOSITION, "with")
        ):
            self.advance()
            self.advance()
            self.advance()
            return token[TEXT].lower() + "-with"
        self.fail("a where operator (is, is not, =, ==, !=, <, <=, >, >=, contains, matches, "
                  "in, not in, starts-with, ends-with)")

    def parse_by_value(self) -> object:
        token = self.tok
        if token[KIND] is TokenKind.REGEX:
            self.advance()
            return RegexLiteral(token[VALUE][0], token[VALUE][1], self.span(token))
        if token[KIND] is TokenKind.STRING:
            self.advance()
            return Literal(token[VALUE], self.span(token))
        if is_punct(token, "<"):
            name = self.parse_bracketed_name("the delimiter variable")
            return VarRef(Noun(name, span=self.span(token)), self.span(token))
        self.fail("a /regex/, a string or '<variable>' after 'by'")

    # -- qualified nouns ----------------------------------------------------------------------

    def parse_compound(self, what: str) -> str:
        """``word ( '-' word )*`` where words are identifiers and the few allowed keywords."""
        token = self.tok
        if not is_noun_word(token):
            self.fail(what)
        name = token[TEXT]
        self.i += 1
        token = self.tok = self.tokens[self.i]
        while token[KIND] is PUNCT and token[VALUE] == "-":
            self.advance()
            if not is_noun_word(self.tok):
                self.fail(f"a word after '{name}-'")
            name += "-" + self.advance()[TEXT]
            token = self.tok
        return name

    def parse_closed_noun(self) -> Noun:
        """A noun after its '<', up to and including the closing '>'.  ``<name>`` and
        ``<name: word>``, most nouns, are read straight from the tokens; others by parse_noun."""
        tokens, i = self.tokens, self.i
        token = tokens[i]
        if token[KIND] is IDENT:  # never EOF, so the next token exists; so on below
            following = tokens[i + 1]
            if following[KIND] is PUNCT:
                span = _new_span(Span, (self.filename, token[LINE], token[COL]))
                if following[VALUE] == ">":
                    self.i = i + 2
                    self.tok = tokens[i + 2]
                    return Noun(token[TEXT], (), False, (), span)
                specifier = tokens[i + 2]
                if following[VALUE] == ":" and specifier[KIND] is IDENT:
                    close = tokens[i + 3]
                    if close[KIND] is PUNCT and close[VALUE] == ">":
                        self.i = i + 4
                        self.tok = tokens[i + 4]
                        return Noun(token[TEXT], (specifier[TEXT],), False, (), span)
        noun = self.parse_noun()
        self.expect_noun_end(noun.base)
        return noun

    def parse_noun(self) -> Noun:
        """The inside of ``<base: specifier | qualifier>`` (docs/semantics.md, Qualified nouns)."""
        token = self.tok
        span = _new_span(Span, (self.filename, token[LINE], token[COL]))
        base = self.parse_compound("a name inside '<...>'")
        token = self.tok
        if token[KIND] is not PUNCT or token[VALUE] != ":":
            return Noun(base, (), False, (), span)
        self.i += 1
        token = self.tok = self.tokens[self.i]
        if token[KIND] is TokenKind.STRING:
            self.advance()
            return Noun(base, (token[VALUE],), True, (), span)
        text = self.parse_type_text()
        qualifiers = []
        while self.at_punct("|"):
            self.advance()
            qualifiers.append(self.parse_dotted_name())
        if qualifiers or "<" in text or text[0] in "+-0123456789":
            return Noun(base, (text,), False, tuple(qualifiers), span)
        return Noun(base, tuple(text.split(".")), False, (), span)

    def parse_type_text(self) -> str:
        """A specifier or type: date offset, numeric spec, generic, or dotted/slashed path."""
        token = self.tok
        if token[KIND] is PUNCT and token[VALUE] in ("+", "-"):
            self.advance()
            return token[VALUE] + self.parse_date_offset()
        if token[KIND] is TokenKind.INT:
            return self.parse_date_offset() if token[VALUE] < 0 else self.parse_numeric_spec()
        text = self.parse_compound("a specifier or type name")
        token = self.tok
        if token[KIND] is not PUNCT:
            return text
        if token[VALUE] == "<":
            return text + self.parse_generic_arguments()
        while (
            token[KIND] is PUNCT and token[VALUE] in (".", "/") and self.peek(1)[KIND] is IDENT
        ):
            text += self.advance()[TEXT] + self.parse_compound("a path segment")
            token = self.tok
        return text

    def parse_date_offset(self) -> str:
        """``7d`` after a sign, or ``-3h`` (the sign lexed into the number)."""
        if self.tok[KIND] is not TokenKind.INT:
            self.fail("a number in the date offset (e.g. +7d)")
        amount = str(self.advance()[VALUE])
        if not is_noun_word(self.tok):
            self.fail("a time unit in the date offset (e.g. +7d, -3h)")
        return amount + self.advance()[TEXT]

    def parse_numeric_spec(self) -> str:
        """``0``, a range ``0-19`` (lexed as 0 and -19) or a pick ``0,3,7``."""
        text = str(self.advance()[VALUE])
        if self.tok[KIND] is TokenKind.INT and self.tok[VALUE] < 0:
            return text + str(self.advance()[VALUE])
        if self.at_punct("-"):
            self.advance()
            if self.tok[KIND] is not TokenKind.INT:
                self.fail("the end of the index range")
            return f"{text}-{self.advance()[VALUE]}"
        while self.at_punct(","):
            self.advance()
            if self.tok[KIND] is not TokenKind.INT:
                self.fail("an index after ','")
            text += f",{self.advance()[VALUE]}"
        return text

    def parse_generic_arguments(self) -> str:
        self.advance()
        arguments = [self.parse_type_text()]
        if self.at_punct(","):
            self.advance()
            arguments.append(self.parse_type_text())
        self.expect_punct(">", "to close the generic type arguments")
        return "<" + ", ".join(arguments) + ">"

    def parse_dotted_name(self) -> str:
        name = self.parse_compound("a qualifier name after '|'")
        while self.at_punct(".") and self.peek(1)[KIND] is IDENT:
            self.advance()
            name += "." + self.parse_compound("a qualifier name")
        return name

    # -- expressions --------------------------------------------------------------------------

    def parse_expression(self, min_precedence: int = 0) -> object:
        """An expression; each operator applied deepens the tree, so it counts as nesting."""
        saved = self.depth
        try:
            self.depth = saved + 1  # nest(), inline: one expression or more per statement
            if saved >= MAX_NESTING:
                raise self.too_deep()
            left = self.parse_prefix()
            while True:
                token = self.tok
                kind = token[KIND]
                if kind is not PUNCT and kind is not KEYWORD:
                    return left  # only symbols and reserved words continue an expression
                if kind is PUNCT and token[VALUE] == "." and not starts_member(
                    self.tokens[self.i + 1]  # '.' is never EOF: a token follows
                ):
                    return left  # the statement's end, as infix_precedence would say
                precedence = self.infix_precedence()
                if precedence > min_precedence:
                    self.nest()
                    left = self.parse_infix(left, precedence)
                elif self.at_keyword("exists"):
                    self.nest()
                    left = Exists(left, self.span(self.advance()))
                else:
                    return left
        finally:
            self.depth = saved

    def infix_precedence(self) -> int:
        token = self.tok
        if token[KIND] is KEYWORD:
            if token[VALUE] == "not":
                return PREC_EQUALITY if is_word(self.peek(1), KEYWORD, "in") else 0
            return KEYWORD_PRECEDENCE.get(token[VALUE], 0)
        if token[KIND] is not PUNCT:
            return 0
        precedence = PUNCT_PRECEDENCE.get(token[VALUE], 0)
        if token[VALUE] in ("<", ">") and self.peek(1)[KIND] is IDENT:
            return 0  # '<' before an identifier opens a noun; '>' then ends the expression
        if token[VALUE] == "." and not starts_member(self.peek(1)):
            return 0  # a statement-ending '.'
        return precedence

    def parse_infix(self, left: object, precedence: int) -> object:
        token = self.tok
        self.i += 1
        self.tok = self.tokens[self.i]
        span = _new_span(Span, (self.filename, token[LINE], token[COL]))
        if token[KIND] is PUNCT and token[VALUE] == ".":
            return Member(left, self.advance()[TEXT], span)
        if token[KIND] is PUNCT and token[VALUE] == "[":
            index = self.parse_expression()
            self.expect_punct("]", "to close the index")
            return Index(left, index, span)
        if token[KIND] is KEYWORD and token[VALUE] == "is":
            return self.parse_type_check(left, span)
        if token[KIND] is KEYWORD and token[VALUE] == "not":
            self.advance()
            op = "not in"
        elif token[KIND] is PUNCT and token[VALUE] == "=":
            op = "=="
        else:
            op = token[VALUE]
        right = self.parse_expression(precedence)
        if op in LOGICAL_OPS and right is not self._last_group and is_shorthand(left, right):
            right = Binary(left.op, left.left, right, span)
        return Binary(op, left, right, span)

    def parse_type_check(self, operand: object, span: Span) -> TypeCheck:
        negated = self.at_keyword("not")
        if negated:
            self.advance()
        token = self.tok
        if token[KIND] is KEYWORD and token[VALUE] in ("true", "false", *NULL_WORDS):
            self.advance()
            name = "null" if token[VALUE] in NULL_WORDS else token[VALUE]
            return TypeCheck(operand, name, negated, span)
        self.skip_article()
        if not is_noun_word(self.tok):
            self.fail("a type name (String, Number, ...) or true/false/null after 'is'")
        return TypeCheck(operand, self.advance()[TEXT], negated, span)

    def parse_prefix(self) -> object:
        token = self.tok
        kind = token[KIND]
        span = _new_span(Span, (self.filename, token[LINE], token[COL]))
        if kind is PUNCT:
            if token[VALUE] == "<":  # a variable, the commonest operand
                return self.parse_var_ref(span)
            parse = self.PREFIX_PUNCT.get(token[VALUE])
            if parse is not None:
                return parse(self)
            self.fail("an expression")
        if kind in (TokenKind.STRING, TokenKind.INT, TokenKind.FLOAT):
            self.i += 1
            self.tok = self.tokens[self.i]
            return Literal(token[VALUE], span)
        if kind is TokenKind.TEMPLATE:
            self.advance()
            return self.parse_template(token)
        if kind is TokenKind.REGEX:
            self.advance()
            return RegexLiteral(token[VALUE][0], token[VALUE][1], span)
        if kind is KEYWORD:
            if token[VALUE] in ("true", "false", *NULL_WORDS):
                self.advance()
                return Literal(keyword_literal(token[VALUE]), span)
            if token[VALUE] == "not":
                self.advance()
                return Unary("not", self.parse_expression(PREC_UNARY), span)
        if is_bare_variable_word(token):
            return self.parse_bare_variable()
        self.fail("an expression")

    def parse_var_ref(self, span: Span) -> VarRef:
        """``<noun>`` from its '<', which ``span`` starts at."""
        self.i += 1
        self.tok = self.tokens[self.i]
        return VarRef(self.parse_closed_noun(), span)

    def parse_bare_variable(self) -> VarRef:
        """A bare word names a variable; ``a-b`` joins only when written without spaces."""
        first = self.advance()
        name, end = first[TEXT], first[END]
        while (
            self.at_punct("-")
            and self.tok[POS] == end
            and is_bare_variable_word(self.peek(1))
            and self.peek(1)[POS] == self.tok[END]
        ):
            self.advance()
            part = self.advance()
            name, end = f"{name}-{part[TEXT]}", part[END]
        span = self.span(first)
        return VarRef(Noun(name, span=span), span)

    def parse_negation(self) -> Unary:
        span = self.span(self.advance())
        return Unary("-", self.parse_expression(PREC_UNARY), span)

    def parse_group(self) -> object:
        self.advance()
        expression = self.parse_expression()
        self.expect_punct(")", "to close '('")
        self._last_group = expression
        return expression

    def parse_list(self) -> ListLiteral:
        span = self.span(self.advance())
        items = []
        while not self.at_punct("]"):
            items.append(self.parse_expression())
            if not self.at_punct(","):
                break
            self.advance()
        self.expect_punct("]", "to close the list (or ',' between items)")
        return ListLiteral(tuple(items), span)

    def parse_map(self) -> MapLiteral:
        span = self.span(self.advance())
        entries = []
        while not self.at_punct("}"):
            if self.tok[KIND] is TokenKind.STRING:
                key = self.advance()[VALUE]
            else:
                key = self.parse_compound("a map key (a name or a string)")
            self.expect_punct(":", f"after the map key '{key}'")
            entries.append((key, self.parse_expression()))
            if not self.at_punct(","):
                break
            self.advance()
        self.expect_punct("}", "to close the map (or ',' between entries)")
        return MapLiteral(tuple(entries), span)

    PREFIX_PUNCT = {
        "[": parse_list,
        "{": parse_map,
        "(": parse_group,
        "-": parse_negation,
    }

    def parse_template(self, token: LexedToken) -> object:
        """An interpolated string: each ``${...}`` part is parsed as a whole expression."""
        parts: list[object] = []
        for part in token[VALUE]:
            if isinstance(part, str):
                if parts and isinstance(parts[-1], str):
                    parts[-1] += part
                else:
                    parts.append(part)
            elif part[0][KIND] is not EOF:  # '${}' is ignored, as the reference does
                parts.append(self.parse_interpolated_expression(part))
        span = self.span(token)
        if all(isinstance(part, str) for part in parts):
            return Literal("".join(parts), span)
        return Interpolation(tuple(parts), span)

    def parse_interpolated_expression(self, tokens: list[LexedToken]) -> object:
        inner = Parser(tokens, self.sink)
        inner.depth = self.depth
        expression = inner.parse_expression()
        if inner.tok[KIND] is not EOF:
            inner.fail("'}' to close the interpolation")
        return expression


# -- token classes ------------------------------------------------------------------------------


def is_punct(token: LexedToken, symbol: str) -> bool:
    return token[KIND] is PUNCT and token[VALUE] == symbol


def is_word(token: LexedToken, kind: TokenKind, word: str) -> bool:
    return token[KIND] is kind and token[VALUE] == word


def is_name_word(token: LexedToken) -> bool:
    """Words of feature-set names and activities."""
    return token[KIND] is IDENT or (token[KIND] is KEYWORD and token[VALUE] in NAME_KEYWORDS)


def is_noun_word(token: LexedToken) -> bool:
    """Words allowed inside ``<...>`` (and in map keys and compound names)."""
    kind = token[KIND]
    return (
        kind is IDENT or kind is ARTICLE or (kind is KEYWORD and token[VALUE] in NOUN_KEYWORDS)
    )


def is_bare_variable_word(token: LexedToken) -> bool:
    """Words that name a variable without brackets (``${count}``, ``${a-b}``)."""
    return is_name_word(token) or token[KIND] is ARTICLE


def starts_member(token: LexedToken) -> bool:
    """Whether the token after a '.' makes it a member access (``.name``), not a full stop."""
    return token[KIND] is IDENT and token[TEXT][0].islower()


def is_capitalised(token: LexedToken) -> bool:
    return token[KIND] is IDENT and token[TEXT][0].isupper()


def starts_expression(token: LexedToken) -> bool:
    kind = token[KIND]
    if kind in (TokenKind.STRING, TokenKind.TEMPLATE, TokenKind.INT, TokenKind.FLOAT):
        return True
    if kind is KEYWORD:
        return token[VALUE] in ("true", "false", "not", *NULL_WORDS)
    return kind is PUNCT and token[VALUE] in ("<", "[", "{", "(", "-")


def starts_sink_expression(token: LexedToken) -> bool:
    """A sink verb takes an expression when no article follows it."""
    kind = token[KIND]
    if kind in (TokenKind.STRING, TokenKind.TEMPLATE, TokenKind.INT, TokenKind.FLOAT):
        return True
    return kind is PUNCT and token[VALUE] in ("<", "[", "{")


def is_shorthand(left: object, right: object) -> bool:
    """Whether ``left or right`` is the ``<x> == "a" or "b"`` shorthand (unless ``right`` was
    parenthesised): a comparison on the left and a plain value on the right."""
    if not isinstance(left, Binary) or left.op not in COMPARISON_OPS:
        return False
    if isinstance(right, (TypeCheck, Exists)):
        return False
    if isinstance(right, Binary):
        return right.op not in COMPARISON_OPS and right.op not in LOGICAL_OPS
    return not (isinstance(right, Unary) and right.op == "not")


def keyword_literal(word: str) -> object:
    return {"true": True, "false": False}.get(word)


def split_takes(activity: str) -> tuple[str, tuple[tuple[str, str | None], ...]]:
    """``Action takes <field: Type>`` (lexed as ``Action takes<field:Type>``) names the input."""
    prefix = "Action takes<"
    if not (activity.startswith(prefix) and activity.endswith(">")):
        return activity, ()
    field, _, type_name = activity[len(prefix) : -1].partition(":")
    return "Action", ((field.strip(), type_name.strip() or None),)
