import pytest

from aro.vm.errors import StatementError

ORDERS = (
    "Create the <orders> with [\n"
    '  { id: 1, amount: 100, status: "active" },\n'
    '  { id: 2, amount: 250, status: "pending" },\n'
    '  { id: 3, amount: 500, status: "active" }\n'
    "].\n"
)


def test_sort_ascending_descending_and_strings(run):
    result = run(
        "Create the <numbers> with [5, 2, 8].\n"
        "Sort the <up> for the <numbers>.\n"
        "Sort the <down: descending> for the <numbers>.\n"
        'Create the <fruits> with ["pear", "apple"].\n'
        "Order the <sorted-fruits> for the <fruits>."
    )
    assert result["up"] == [2, 5, 8]
    assert result["down"] == [8, 5, 2]
    assert result["sorted-fruits"] == ["apple", "pear"]


def test_sort_leaves_mixed_lists_alone(run):
    result = run('Create the <mixed> with [2, "a", 1].\nSort the <s> for the <mixed>.')
    assert result["s"] == [2, "a", 1]


def test_filter_where_clause(run):
    result = run(
        ORDERS
        + 'Filter the <active> from the <orders> where <status> is "active".\n'
        + "Filter the <big> from the <orders> where <amount> > 200.\n"
        + "Filter the <picked> from <orders> where <id> in [1, 2]."
    )
    assert [o["id"] for o in result["active"]] == [1, 3]
    assert [o["id"] for o in result["big"]] == [2, 3]
    assert [o["id"] for o in result["picked"]] == [1, 2]


def test_filter_without_predicate_returns_the_source(run):
    result = run("Create the <xs> with [1, 2].\nFilter the <same> from the <xs>.")
    assert result["same"] == [1, 2]


def test_map_projects_a_field_or_passes_through(run):
    result = run(
        ORDERS
        + "Map the <ids: id> from the <orders>.\n"
        + "Map the <all: List> from the <orders>.\n"
        + 'Create the <one> with { name: "Ada" }.\n'
        + "Map the <name: name> from the <one>."
    )
    assert result["ids"] == [1, 2, 3]
    assert len(result["all"]) == 3
    assert result["name"] == "Ada"


def test_map_missing_field_on_a_dict_fails(run):
    with pytest.raises(StatementError):
        run('Create the <one> with { name: "Ada" }.\nMap the <x: age> from the <one>.')


def test_reduce_aggregations(run):
    result = run(
        ORDERS
        + "Reduce the <total: Float> from the <orders> with sum(<amount>).\n"
        + "Reduce the <n: Integer> from the <orders> with count().\n"
        + "Create the <numbers> with [1, 2, 3, 4].\n"
        + "Reduce the <avg> from the <numbers> with avg().\n"
        + "Reduce the <low> from the <numbers> with min().\n"
        + "Reduce the <legacy: max> from the <numbers>."
    )
    assert result["total"] == 850.0 and isinstance(result["total"], float)
    assert result["n"] == 3
    assert result["avg"] == 2.5
    assert result["low"] == 1.0
    assert result["legacy"] == 4.0


def test_reduce_non_list(run):
    result = run('Create the <x> with "a".\nReduce the <n> from the <x> with count().')
    assert result["n"] == 1


def test_group_by_field(run):
    result = run(ORDERS + 'Group the <groups> from the <orders> by "status".')
    groups = result["groups"]
    assert list(groups) == ["active", "pending"]
    assert [o["id"] for o in groups["active"]] == [1, 3]


def test_group_needs_a_field(run):
    with pytest.raises(StatementError):
        run(ORDERS + "Group the <groups> from the <orders>.")


def test_split_by_regex_string_and_variable(run):
    result = run(
        'Create the <line> with "a,b,,c".\n'
        "Split the <parts> from the <line> by /,/.\n"
        'Create the <words> with "Hello   World".\n'
        'Split the <ws> from the <words> by "\\\\s+".\n'
        'Create the <sep> with ";".\n'
        'Create the <plain-text> with "abc".\n'
        "Split the <whole> from the <plain-text> by <sep>.\n"
        'Create the <msg> with { text: "x-y" }.\n'
        "Split the <pair> from the <msg: text> by /-/."
    )
    assert result["parts"] == ["a", "b", "", "c"]
    assert result["ws"] == ["Hello", "World"]
    assert result["whole"] == ["abc"]
    assert result["pair"] == ["x", "y"]


def test_split_needs_text_and_pattern(run):
    with pytest.raises(StatementError):
        run("Create the <n> with 5.\nSplit the <parts> from the <n> by /,/.")
    with pytest.raises(StatementError):
        run('Create the <s> with "a".\nSplit the <parts> from the <s>.')


def test_join(run):
    result = run(
        'Create the <xs> with ["a", 1, 2.5].\n'
        'Join the <csv> from <xs> with ", ".\n'
        "Join the <plain> from the <xs>.\n"
        "Create the <n> with 7.\n"
        'Join the <single> from the <n> with ",".'
    )
    assert result["csv"] == "a, 1, 2.5"
    assert result["plain"] == "a12.5"
    assert result["single"] == "7"
