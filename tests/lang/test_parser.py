"""Parser tests: one or more per grammar rule (docs/semantics.md) and the error reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from aro.lang import AroSyntaxError, parse_expression, parse_file, parse_source
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
    Span,
    TypeCheck,
    Unary,
    VarRef,
    WhereClause,
    WhileLoop,
)
from aro.lang.diagnostics import DiagnosticSink
from aro.lang.lexer import lex
from aro.lang.parser import ParseError, Parser

HEADER = "(Demo: Test) {\n"


def body(statements: str) -> tuple[object, ...]:
    source = parse_source(f"{HEADER}{statements}\n}}\n")
    return source.feature_sets[0].body


def stmt(text: str) -> object:
    (statement,) = body(text)
    return statement


def var(base: str, *specifiers: str) -> VarRef:
    return VarRef(Noun(base, specifiers))


def the(base: str, *specifiers: str) -> ObjectNoun:
    return ObjectNoun(Noun(base, specifiers), "the")


def result(base: str, *specifiers: str, article: str | None = "the") -> ResultNoun:
    return ResultNoun(Noun(base, specifiers), article)


def errors(text: str) -> list[str]:
    with pytest.raises(AroSyntaxError) as info:
        parse_source(text, "t.aro")
    return [f"{d.span.line}:{d.span.col}: {d.message}" for d in info.value.diagnostics]


# -- verbs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "Extract the <user> from the <request: body>.",
        'Log "hello" to the <console>.',
        "Compute the <total> from <price> * <quantity> when <price> > 0.",
        "Return an <OK: status> with { name: <name> }.",
        "Application.DoubleValue the <d> from 5.",
        "Filter the <xs> from the <ys> where <age> >= 18.",
    ],
)
def test_bare_and_bracketed_verbs_give_equal_trees(statement: str) -> None:
    verb, rest = statement.split(" ", 1)
    bare = stmt(statement)
    bracketed = stmt(f"<{verb}> {rest}")
    assert bare == bracketed
    assert bare.bracketed is False and bracketed.bracketed is True


def test_spellings_may_be_mixed_in_one_file() -> None:
    first, second = body(
        '    <Create> the <x> with 1.\n    Log <x> to the <console>.'
    )
    assert first.verb == "Create" and first.bracketed
    assert second.verb == "Log" and not second.bracketed


def test_dotted_verbs() -> None:
    assert stmt("Markdown.ToHTML the <html> from the <md>.").verb == "Markdown.ToHTML"
    assert stmt("<Greeting.Hello> the <g> for the <name>.").verb == "Greeting.Hello"


def test_test_keywords_work_as_verbs() -> None:
    assert stmt("When the <r> from the <calc>.").verb == "When"
    assert stmt("then the <r> for the <x>.").verb == "Then"
    assert stmt("Assert the <x> for <x> == 1.").verb == "Assert"
    assert stmt("Exists the <e> for the <file: path>.").verb == "Exists"


def test_full_aro_statement_tree() -> None:
    assert stmt("Extract the <user-id> from the <request: path.id>.") == AroStatement(
        "Extract",
        result("user-id"),
        "from",
        ObjectNoun(Noun("request", ("path", "id")), "the"),
    )


# -- feature sets and imports -------------------------------------------------------------------


def test_feature_set_header_words_and_compounds() -> None:
    source = parse_source(
        "(Application-Start: Order Service Entry) { }\n"
        "(Application-End: Error) {\n}\n"
        "(OrderPaid Handler: OrderPaid Handler<status:paid,shipped>) {}\n"
        "(Notify: status StateObserver<draft_to_placed>) {}\n"
        "(Case Match: if else otherwise) {}\n"
    )
    assert [(fs.name, fs.activity) for fs in source.feature_sets] == [
        ("Application-Start", "Order Service Entry"),
        ("Application-End", "Error"),
        ("OrderPaid Handler", "OrderPaid Handler<status:paid,shipped>"),
        ("Notify", "status StateObserver<draft_to_placed>"),
        ("Case Match", "if else otherwise"),
    ]
    assert all(fs.body == () for fs in source.feature_sets)


def test_feature_set_span() -> None:
    source = parse_source("\n  (A1: B) {}", "x.aro")
    assert source.feature_sets[0].span == Span("x.aro", 2, 3)
    assert source.path == "x.aro"


def test_user_action_header_fills_takes() -> None:
    with_type, without_type, plain = parse_source(
        "(Double Value: Action takes <number: Integer>) {}\n"
        "(Shout: Action takes <text>) {}\n"
        "(Sum: Action) {}\n"
    ).feature_sets
    assert (with_type.name, with_type.activity, with_type.takes) == (
        "Double Value", "Action", (("number", "Integer"),)
    )
    assert without_type.takes == (("text", None),)
    assert plain.takes == ()


@pytest.mark.parametrize("keyword", ["when", "where"])
def test_feature_set_guard(keyword: str) -> None:
    (fs,) = parse_source(
        f"(Big Order: OrderPlaced Handler) {keyword} <event: amount> > 100 {{ }}"
    ).feature_sets
    assert fs.guard == Binary(">", var("event", "amount"), Literal(100))


def test_imports_precede_feature_sets() -> None:
    source = parse_source("import ../ModuleA\nimport ./lib/my-module\n(A1: B) {}")
    assert source.imports == (Import("../ModuleA"), Import("./lib/my-module"))
    assert len(source.feature_sets) == 1


def test_empty_file() -> None:
    assert parse_source("(* nothing *)").feature_sets == ()


# -- result and object --------------------------------------------------------------------------


def test_result_with_type_annotation() -> None:
    statement = stmt("Extract the <items> as List<String> from the <data>.")
    assert statement.result == ResultNoun(Noun("items"), "the", "List<String>")


def test_articles_are_recorded_lower_case() -> None:
    statement = stmt("Return An <OK: status> for The <x>.")
    assert statement.result.article == "an" and statement.obj.article == "the"


def test_article_decides_object_noun_or_expression() -> None:
    assert stmt("Sort the <s> for the <list>.").obj == the("list")
    assert stmt("Sort the <s> for <list>.").obj == ObjectExpr(var("list"))
    assert stmt("Compute the <x> from <a> + <b>.").obj == ObjectExpr(
        Binary("+", var("a"), var("b"))
    )


def test_colon_noun_without_article_is_an_object() -> None:
    assert stmt("Read the <d> from <file: data>.").obj == ObjectNoun(Noun("file", ("data",)))
    parenthesised = stmt("Compute the <x> from (<user: age> + 1).").obj
    assert parenthesised == ObjectExpr(Binary("+", var("user", "age"), Literal(1)))


def test_bare_word_object() -> None:
    statement = stmt("Log <x> to console-out.")
    assert statement.obj == ObjectNoun(Noun("console-out"), None, bare=True)


def test_objects_of_other_prepositions_are_never_expressions() -> None:
    assert stmt("Start the <server> on <port: 8080>.").obj == ObjectNoun(
        Noun("port", ("8080",))
    )
    assert stmt("Store the <u> into the <user-repository>.").obj == the("user-repository")


def test_sink_verbs_take_an_expression_result() -> None:
    statement = stmt('Log "Total: " ++ <n> to the <console>.')
    assert statement.result == SinkResult(Binary("++", Literal("Total: "), var("n")))
    assert stmt("Send <msg> to the <conn>.").result == SinkResult(var("msg"))
    assert stmt("Print [1, 2] to the <console>.").result == SinkResult(
        ListLiteral((Literal(1), Literal(2)))
    )


def test_sink_verb_with_article_takes_a_result_noun() -> None:
    assert stmt("Log the <msg> to the <console>.").result == result("msg")


def test_other_verbs_require_a_result_noun() -> None:
    assert errors(f'{HEADER}    Extract "x" from the <y>.\n}}') == [
        "2:13: expected '<' to start the result, found '\"x\"'"
    ]


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("Sleep the <p> for 30 seconds.", "seconds"),
        ("Sleep the <p> for 1 second.", "second"),
        ("Sleep the <p> for 500 ms.", "ms"),
        ("Sleep the <p> for <wait> minutes.", "minutes"),
        ("Schedule the <tick> with 2 h.", "h"),
        ("Sleep the <p> for 3 milliseconds.", "milliseconds"),
    ],
)
def test_time_units(text: str, unit: str) -> None:
    assert stmt(text).obj.time_unit == unit


def test_time_units_only_after_with_and_for() -> None:
    assert errors(f"{HEADER}    Wait the <p> from 30 seconds.\n}}") == [
        "2:26: expected '.' to end the statement, found 'seconds'"
    ]


# -- clauses ------------------------------------------------------------------------------------


def test_all_clauses_in_order() -> None:
    statement = stmt(
        "Retrieve the <x> from the <repo> with 1 to 2 where <id> is <i> by /,/ "
        'default "none" when <ok>.'
    )
    assert statement.clauses == Clauses(
        Literal(1),
        Literal(2),
        WhereClause("id", "is", var("i")),
        RegexLiteral(",", ""),
        Literal("none"),
        var("ok"),
    )


def test_no_clauses() -> None:
    assert stmt("Extract the <a> from the <b>.").clauses is NO_CLAUSES


@pytest.mark.parametrize(
    ("text", "aggregation"),
    [
        ("with sum(<amount>)", Aggregation("sum", "amount")),
        ("with AVG(<unit-price>)", Aggregation("avg", "unit-price")),
        ("with min(<a>)", Aggregation("min", "a")),
        ("with max(<a>)", Aggregation("max", "a")),
        ("with count()", Aggregation("count")),
    ],
)
def test_aggregations(text: str, aggregation: Aggregation) -> None:
    assert stmt(f"Reduce the <t> from the <orders> {text}.").clauses.with_ == aggregation


@pytest.mark.parametrize(
    ("op_text", "op"),
    [
        ("is", "is"), ("is not", "is not"), ("=", "="), ("==", "=="), ("!=", "!="),
        ("<", "<"), ("<=", "<="), (">", ">"), (">=", ">="), ("contains", "contains"),
        ("matches", "matches"), ("in", "in"), ("not in", "not in"),
        ("starts-with", "starts-with"), ("ENDS-with", "ends-with"), ("Is Not", "is not"),
    ],
)
def test_where_operators(op_text: str, op: str) -> None:
    statement = stmt(f'Filter the <x> from the <y> where <status> {op_text} "a".')
    assert statement.clauses.where == WhereClause("status", op, Literal("a"))


@pytest.mark.parametrize(
    ("text", "by"),
    [
        ("by /[;,]+/i", RegexLiteral("[;,]+", "i")),
        ('by "status"', Literal("status")),
        ("by <delimiter>", var("delimiter")),
    ],
)
def test_by_clause(text: str, by: object) -> None:
    assert stmt(f"Split the <p> from the <s> {text}.").clauses.by == by


def test_statement_guard_is_last() -> None:
    statement = stmt('Log "hi" to the <console> when <n> > 3.')
    assert statement.clauses == Clauses(when=Binary(">", var("n"), Literal(3)))


def test_with_clause_after_an_object_noun() -> None:
    statement = stmt("Request the <r> from the <url> with { a: 1 }.")
    assert statement.clauses.with_ == MapLiteral((("a", Literal(1)),))


# -- qualified nouns ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "noun"),
    [
        ("<user>", Noun("user")),
        ("<user-repository>", Noun("user-repository")),
        ("<event: user.email>", Noun("event", ("user", "email"))),
        ("<template: emails/welcome.tpl>", Noun("template", ("emails/welcome", "tpl"))),
        ('<file: "./data/a.json">', Noun("file", ("./data/a.json",), True)),
        ('<file: "a.b.c">', Noun("file", ("a.b.c",), True)),
        ("<list: 0>", Noun("list", ("0",))),
        ("<list: 0-19>", Noun("list", ("0-19",))),
        ("<list: 3 - 5>", Noun("list", ("3-5",))),
        ("<list: 0,3,7>", Noun("list", ("0,3,7",))),
        ("<d: +7d>", Noun("d", ("+7d",))),
        ("<d: -3h>", Noun("d", ("-3h",))),
        ("<t: List<User>>", Noun("t", ("List<User>",))),
        ("<t: Map<String, Integer>>", Noun("t", ("Map<String, Integer>",))),
        ("<x: stats.sort | list.take>", Noun("x", ("stats.sort",), False, ("list.take",))),
        ("<x: a | b | c>", Noun("x", ("a",), False, ("b", "c"))),
        ("<order-id: password-hash>", Noun("order-id", ("password-hash",))),
        ("<error: message>", Noun("error", ("message",))),
        ("<the>", Noun("the")),
        ("<when-done>", Noun("when-done")),
        ("<a-case>", Noun("a-case")),
    ],
)
def test_qualified_nouns(text: str, noun: Noun) -> None:
    assert parse_expression(text) == VarRef(noun)


def test_reserved_words_cannot_appear_in_nouns() -> None:
    assert errors(f"{HEADER}    Extract the <content-type> from the <h>.\n}}") == [
        "2:26: expected a word after 'content-', found reserved word 'type'"
    ]


# -- control flow -------------------------------------------------------------------------------


def test_match_with_patterns_guard_and_otherwise() -> None:
    statement = stmt(
        "    match <request: method> {\n"
        '        case "GET" { Log "get" to the <console>. }\n'
        "        case 404 where <retry> { break. }\n"
        "        case /^ab/i { }\n"
        "        case <expected> { }\n"
        "        case _ { }\n"
        "        case true { }\n"
        "        otherwise { Return an <OK: status> for the <x>. }\n"
        "    }"
    )
    assert statement == MatchStatement(
        Noun("request", ("method",)),
        (
            MatchCase(Literal("GET"), (stmt('Log "get" to the <console>.'),)),
            MatchCase(Literal(404), (Break(),), var("retry")),
            MatchCase(RegexLiteral("^ab", "i"), ()),
            MatchCase(var("expected"), ()),
            MatchCase(None, ()),
            MatchCase(Literal(True), ()),
        ),
        (stmt("Return an <OK: status> for the <x>."),),
    )


def test_match_without_otherwise() -> None:
    assert stmt("match <x> { case 1 { } }").otherwise is None
    assert stmt("match <x> { }") == MatchStatement(Noun("x"), ())


def test_for_each_loops() -> None:
    assert stmt("for each <item> in <items> { }") == ForEach("item", Noun("items"), ())
    indexed = stmt("For Each <user> at <i> in <data: users> where <user: active> == true { }")
    assert indexed == ForEach(
        "user",
        Noun("data", ("users",)),
        (),
        index="i",
        where=Binary("==", var("user", "active"), Literal(True)),
    )


def test_parallel_for_each() -> None:
    loop = stmt("parallel for each <n> in <numbers> with <concurrency: 4> { break. }")
    assert loop == ForEach("n", Noun("numbers"), (Break(),), parallel=True, concurrency=4)
    assert stmt("parallel for each <n> in <ns> { }").concurrency is None
    assert stmt("parallel for each <n> in <ns> with <concurrency: 0> { }").concurrency == 1


def test_range_loop() -> None:
    assert stmt("for <i> from 0 to <n> + 1 { }") == RangeLoop(
        "i", Literal(0), Binary("+", var("n"), Literal(1)), ()
    )


def test_while_loop_and_break() -> None:
    loop = stmt("while <n> < 10 {\n    Compute the <n> from <n> + 1.\n    break.\n}")
    assert loop.condition == Binary("<", var("n"), Literal(10))
    assert loop.body[1] == Break()
    assert isinstance(loop, WhileLoop)


def test_publish_and_require() -> None:
    assert stmt("Publish as <shared-config> <config>.") == PublishStatement(
        "shared-config", "config"
    )
    assert stmt("Require the <console> from the <framework>.") == RequireStatement(
        "console", "framework"
    )
    assert stmt("Require <API_KEY> from <environment>.") == RequireStatement(
        "API_KEY", "environment"
    )


def test_pipeline() -> None:
    pipeline = stmt(
        'Extract the <t> from "hi" |> Compute the <u: uppercase> from the <t>\n'
        "    |> Log <u> to the <console>."
    )
    assert isinstance(pipeline, Pipeline)
    assert [s.verb for s in pipeline.stages] == ["Extract", "Compute", "Log"]


def test_extra_trailing_dots_are_tolerated() -> None:
    assert body("Log <a> to the <console>...\nbreak..") == (
        stmt("Log <a> to the <console>."),
        Break(),
    )


def test_empty_bodies_everywhere() -> None:
    assert stmt("while <x> { }").body == ()
    assert stmt("for each <x> in <y> {}").body == ()
    assert stmt("match <x> { case 1 {} otherwise {} }").otherwise == ()


def test_statement_spans() -> None:
    statements = body("    Log <a> to the <console>.\n      break.")
    assert [(s.span.line, s.span.col) for s in statements] == [(2, 5), (3, 7)]


# -- expressions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("1 + 2 * 3", Binary("+", Literal(1), Binary("*", Literal(2), Literal(3)))),
        ("(1 + 2) * 3", Binary("*", Binary("+", Literal(1), Literal(2)), Literal(3))),
        ("1 - 2 - 3", Binary("-", Binary("-", Literal(1), Literal(2)), Literal(3))),
        ("<a> ++ <b> == <c>", Binary("==", Binary("++", var("a"), var("b")), var("c"))),
        ("<a> < <b> == true", Binary("==", Binary("<", var("a"), var("b")), Literal(True))),
        ("<a> or <b> and <c>", Binary("or", var("a"), Binary("and", var("b"), var("c")))),
        ("not <a> and <b>", Binary("and", Unary("not", var("a")), var("b"))),
        ("-<a> * 2", Binary("*", Unary("-", var("a")), Literal(2))),
        ("10 % 3 / 2", Binary("/", Binary("%", Literal(10), Literal(3)), Literal(2))),
        ("<a> = 1", Binary("==", var("a"), Literal(1))),
        ("<a> != null", Binary("!=", var("a"), Literal(None))),
        ("<a> >= 1 and <a> <= 9", Binary(
            "and", Binary(">=", var("a"), Literal(1)), Binary("<=", var("a"), Literal(9))
        )),
        ("<s> contains \"x\"", Binary("contains", var("s"), Literal("x"))),
        ("<s> matches /^a+$/", Binary("matches", var("s"), RegexLiteral("^a+$"))),
        ("<x> in [1, 2]", Binary("in", var("x"), ListLiteral((Literal(1), Literal(2))))),
        ("<x> not in <ys>", Binary("not in", var("x"), var("ys"))),
    ],
)
def test_precedence_and_associativity(text: str, tree: object) -> None:
    assert parse_expression(text) == tree


def test_or_shorthand_is_rewritten() -> None:
    assert parse_expression('<x> == "a" or "b"') == Binary(
        "or",
        Binary("==", var("x"), Literal("a")),
        Binary("==", var("x"), Literal("b")),
    )


def test_or_shorthand_not_applied_to_groups_or_comparisons() -> None:
    grouped = parse_expression('<x> == "a" or ("b")')
    assert grouped.right == Literal("b")
    compared = parse_expression('<x> == "a" or <y> == "b"')
    assert compared.right == Binary("==", var("y"), Literal("b"))
    checked = parse_expression('<x> == "a" or <y> is String')
    assert checked.right == TypeCheck(var("y"), "String")


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("<x> is String", TypeCheck(var("x"), "String")),
        ("<x> is a Number", TypeCheck(var("x"), "Number")),
        ("<x> is not List", TypeCheck(var("x"), "List", negated=True)),
        ("<x> is true", TypeCheck(var("x"), "true")),
        ("<x> is not false", TypeCheck(var("x"), "false", negated=True)),
        ("<x> is nil", TypeCheck(var("x"), "null")),
        ("<x> is None", TypeCheck(var("x"), "null")),
    ],
)
def test_is_checks(text: str, tree: object) -> None:
    assert parse_expression(text) == tree


@pytest.mark.parametrize("operand", ['"admin"', "empty", "5", "<y>"])
def test_is_rejects_values(operand: str) -> None:
    with pytest.raises(AroSyntaxError, match="expected a type name"):
        parse_expression(f"<x> is {operand}")


def test_postfix_member_index_and_exists() -> None:
    assert parse_expression("<user>.name[0]") == Index(
        Member(var("user"), "name"), Literal(0)
    )
    assert parse_expression("<a> exists") == Exists(var("a"))
    assert parse_expression("<a> exists and not <b> exists") == Binary(
        "and", Exists(var("a")), Unary("not", Exists(var("b")))
    )
    assert parse_expression("<a> + <b> exists") == Binary("+", var("a"), Exists(var("b")))


def test_member_access_needs_a_lower_case_name() -> None:
    with pytest.raises(AroSyntaxError, match=r"found '\.'"):
        parse_expression("<user>.Name")


def test_literals() -> None:
    assert parse_expression("[1, -2.5, true, false, null, nil, none, 'raw',]") == ListLiteral(
        (
            Literal(1), Literal(-2.5), Literal(True), Literal(False),
            Literal(None), Literal(None), Literal(None), Literal("raw"),
        )
    )
    assert parse_expression("[]") == ListLiteral(())
    assert parse_expression("{}") == MapLiteral(())


def test_map_keys() -> None:
    assert parse_expression('{ name: 1, customer-id: 2, "type": 3, error: 4, }') == MapLiteral(
        (
            ("name", Literal(1)),
            ("customer-id", Literal(2)),
            ("type", Literal(3)),
            ("error", Literal(4)),
        )
    )
    with pytest.raises(AroSyntaxError, match="found reserved word 'type'"):
        parse_expression("{type: 1}")


def test_interpolation() -> None:
    assert parse_expression('"Hi ${<user: name>}!"') == Interpolation(
        ("Hi ", var("user", "name"), "!")
    )
    assert parse_expression('"${count}"') == parse_expression('"${<count>}"')
    assert parse_expression('"${a-b}"') == Interpolation((var("a-b"),))
    assert parse_expression('"${a - b}"') == Interpolation((Binary("-", var("a"), var("b")),))
    assert parse_expression("\"${'x' ++ <y>}\"") == Interpolation(
        (Binary("++", Literal("x"), var("y")),)
    )


def test_empty_interpolation_is_ignored() -> None:
    assert parse_expression('"a${}b"') == Literal("ab")


def test_multiline_strings_are_not_interpolated() -> None:
    assert parse_expression('"""\n  ${x}\n  """') == Literal("${x}")


def test_negative_literal_and_unary_minus() -> None:
    assert parse_expression("-5") == Literal(-5)
    assert parse_expression("- 5") == Unary("-", Literal(5))


# -- diagnostics --------------------------------------------------------------------------------


def test_diagnostic_text_shows_the_line_and_a_caret() -> None:
    with pytest.raises(AroSyntaxError) as info:
        text = f"{HEADER}    Log <a> to the <console>\n    Log <b> to the <c>.\n}}"
        parse_source(text, "app.aro")
    assert str(info.value) == (
        "app.aro:3:5: error: expected '.' to end the statement, found 'Log'\n"
        "    Log <b> to the <c>.\n"
        "    ^"
    )
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.severity == "error"
    assert diagnostic.source_line == "    Log <b> to the <c>."


def test_caret_keeps_tabs() -> None:
    with pytest.raises(AroSyntaxError) as info:
        parse_source(f"{HEADER}\tExtract the x from the <y>.\n}}", "t.aro")
    assert str(info.value).splitlines()[-1] == "\t            ^"


P = HEADER
MALFORMED = [
    (P + '    Log "a" to the <console>\n    Log "b" to the <console>.\n}',
     "3:5", "expected '.' to end the statement, found 'Log'"),
    (P + "    Extract the x from the <y>.\n}",
     "2:17", "expected '<' to start the result, found 'x'"),
    (P + "    Extract the <x> the <y>.\n}",
     "2:21", "expected a preposition (from, for, to, with, into, on, at, by, via, against)"),
    (P + "    Compute the <content-type> from <a>.\n}",
     "2:26", "expected a word after 'content-', found reserved word 'type'"),
    (P + "    Create the <item-2> with 1.\n}",
     "2:21", "expected '>' to close '<item', found '-2'"),
    (P + "    Compute the <x> from 5-3.\n}",
     "2:27", "expected '.' to end the statement, found '-3'"),
    (P + '    Log "hi" to the <console> when <role> is "admin".\n}',
     "2:46", "expected a type name (String, Number, ...) or true/false/null after 'is', "
     "found '\"admin\"'"),
    (P + '    Log "hi" to the <console> when <list> is empty.\n}',
     "2:46", "after 'is', found reserved word 'empty'"),
    (P + "    Create the <x> with { type: 1 }.\n}",
     "2:27", "expected a map key (a name or a string), found reserved word 'type'"),
    (P + "    extract the <x> from the <y>.\n}",
     "2:5", "expected an action verb (a capitalised word such as Extract, Log or Return), "
     "found 'extract'"),
    (P + "    Compute the <x> from <user: age> + 1.\n}",
     "2:38", "expected '.' to end the statement, found '+'"),
    (P + '    Log "x" to the <console> where <a> > 1 with 2.\n}',
     "2:44", "expected '.' to end the statement (clauses go in the order with, to, where, by, "
     "default, when), found preposition 'with'"),
    (P + "    Split the <x> from the <y> by 5.\n}",
     "2:35", "expected a /regex/, a string or '<variable>' after 'by', found '5'"),
    (P + "    Reduce the <x> from the <y> with sum(<a>.\n}",
     "2:45", "expected ')' to close 'sum(', found '.'"),
    (P + '    match <x> {\n        case foo { Log "a" to the <console>. }\n    }\n}',
     "3:14", "expected a case pattern (a literal, '<name>', '_' or a /regex/), found 'foo'"),
    (P + '    match <x> {\n        Log "a" to the <console>.\n    }\n}',
     "3:9", "expected 'case', 'otherwise' or '}' in the match body, found 'Log'"),
    (P + "    for each <x> on <items> {\n    }\n}",
     "2:18", "expected 'in' before the collection, found preposition 'on'"),
    (P + "    for each <x> in <items> with <concurrency: 4> {\n    }\n}",
     "2:29", "expected '{' to open the body of the for-each loop, found preposition 'with'"),
    (P + "    parallel for each <x> in <xs> with <concurrency: many> {\n    }\n}",
     "2:54", "expected an integer concurrency limit, found 'many'"),
    (P + "    for <i> from 1 until 5 {\n    }\n}",
     "2:20", "expected 'to' after the start of the range, found 'until'"),
    (P + "    break\n}",
     "3:1", "expected '.' to end the statement, found '}'"),
    (P + "    Publish <x> <y>.\n}",
     "2:13", "expected 'as' after 'Publish', found '<'"),
    (P + "    Require the <x> for the <y>.\n}",
     "2:21", "expected 'from' after the required name, found preposition 'for'"),
    (P + "    if <x> { }\n}",
     "2:5", "expected a statement (an action verb such as Extract, or match/for/while), "
     "found reserved word 'if'"),
    (P + '    Log "x" ! to the <console>.\n}',
     "2:13", "expected '!=', found unexpected character '!'"),
    (P + '    Log "${<a> +}" to the <console>.\n}',
     "2:17", "expected an expression, found '}'"),
    (P + "    Create the <x> with [1, 2.\n}",
     "2:30", "expected ']' to close the list (or ',' between items), found '.'"),
    (P + "    Create the <x> with (1 + 2.\n}",
     "2:31", "expected ')' to close '(', found '.'"),
    ("(GET /users: X) {\n}",
     "1:6", "expected ':' after the feature-set name 'GET', found '/'"),
    ("(Get the User: X) {\n}",
     "1:6", "expected ':' after the feature-set name 'Get', found article 'the'"),
    ("(Demo:) {\n}",
     "1:7", "expected a business activity, found ')'"),
    ("(Demo: Test)\n    Log \"x\" to the <console>.\n}",
     "2:5", "expected '{' to open the feature-set body, found 'Log'"),
    (P + '    Log "x" to the <console>.\n',
     "3:1", "expected '}' to close the feature set 'Demo', found end of file"),
    ('Log "x" to the <console>.',
     "1:1", "expected '(' to start a feature set, found 'Log'"),
    ("import\n(Demo: Test) {\n}",
     "2:1", "expected a path after 'import' (e.g. ../Other), found '('"),
    (P + "    Extract the <x> from the <y: 1.5>.\n}",
     "2:34", "expected a specifier or type name, found '1.5'"),
    (P + "    Return the <x> as from the <y>.\n}",
     "2:23", "expected a specifier or type name, found preposition 'from'"),
    (P + '    Log "unterminated to the <console>.\n}',
     "2:9", "unterminated string: expected '\"', found end of line"),
]


@pytest.mark.parametrize(("source", "position", "message"), MALFORMED)
def test_malformed_programs(source: str, position: str, message: str) -> None:
    (error,) = errors(source)
    assert error.startswith(f"{position}: ")
    assert message in error


def test_every_error_of_a_file_is_reported() -> None:
    source = (
        "(First: Demo) {\n"
        "    Extract the <a> from the <b>\n"
        "    Log <a> to the <console>.\n"
        "    for each <x> on <xs> {\n"
        "        Log <x> to the <console>.\n"
        "    }\n"
        "    Create the <c> with { type: 1 }.\n"
        "}\n"
        "(Second Demo) {\n"
        "}\n"
        "(Third: Demo) {\n"
        "    Log <x> to the <console> when <x> is \"a\".\n"
        "}\n"
    )
    assert [e.split(": ", 1)[0] for e in errors(source)] == [
        "3:5", "4:18", "7:27", "9:13", "12:42",
    ]


def test_three_errors_are_all_reported() -> None:
    source = P + (
        "    Extract the x from the <y>.\n"
        "    Log \"ok\" to the <console>.\n"
        "    Compute the <content-type> from <a>.\n"
        "    Log \"ok\" to the <console>.\n"
        "    Log \"x\" to the <console> when <x> is empty.\n"
        "}\n"
    )
    assert errors(source) == [
        "2:17: expected '<' to start the result, found 'x'",
        "4:26: expected a word after 'content-', found reserved word 'type'",
        "6:42: expected a type name (String, Number, ...) or true/false/null after 'is', "
        "found reserved word 'empty'",
    ]


def test_a_missing_brace_does_not_swallow_the_next_feature_set() -> None:
    source = (
        "(First: Demo) {\n"
        "    for each <x> in <xs> {\n"
        "        Log <x> to the <console>.\n"
        "}\n"
        "(Second: Demo) {\n"
        "    Log <x> to the <console>\n"
        "}\n"
    )
    assert errors(source) == [
        "5:1: expected '}' to close the feature set 'First', found '('",
        "7:1: expected '.' to end the statement, found '}'",
    ]


def test_parse_expression_rejects_trailing_tokens() -> None:
    with pytest.raises(AroSyntaxError, match="expected an operator or the end of the expression"):
        parse_expression("<a> <b>")


# -- files and speed ----------------------------------------------------------------------------


def test_parse_file(tmp_path: Path) -> None:
    path = tmp_path / "main.aro"
    path.write_text("(Application-Start: Hello) {\n    Log \"hi\" to the <console>.\n}\n")
    source = parse_file(path)
    assert source.path == str(path)
    assert source.feature_sets[0] == FeatureSet(
        "Application-Start",
        "Hello",
        (AroStatement("Log", SinkResult(Literal("hi")), "to", the("console")),),
    )


def test_a_thousand_statements_parse() -> None:
    """Size only: speed is measured in bench/, not asserted here."""
    lines = [
        f'    Compute the <v{i}> from <a> * 2 + <b: c.d> when <x> == "a" or "b".'
        for i in range(1000)
    ]
    text = "(Application-Start: Big) {\n" + "\n".join(lines) + "\n}\n"
    source = parse_source(text)
    assert len(source.feature_sets[0].body) == 1000


@pytest.mark.parametrize(
    "noun",
    [
        "<a>", "<a: b>", "<a-b>", "<a: b-c>", "<a: b.c>", "<a: b | c>", '<a: "x">',
        "<a: List<String>>", "<a: 0-3>", "<the-user>", "<a: the>", "<a:>", "<a: b", "<a",
    ],
)
def test_closed_noun_read_in_place_matches_the_general_route(noun: str) -> None:
    """``<name>`` and ``<name: word>`` skip parse_noun; every noun must parse as it would."""
    def parse(route: str) -> tuple[object, int]:
        sink = DiagnosticSink(noun, "n.aro")
        parser = Parser(lex(noun, sink), sink)
        parser.advance()  # the '<'
        try:
            if route == "in place":
                result = parser.parse_closed_noun()
            else:
                result = parser.parse_noun()
                parser.expect_noun_end(result.base)
        except ParseError as error:
            return ("error", error.message, error.token), parser.i
        return (result, result.span), parser.i

    assert parse("in place") == parse("general")
