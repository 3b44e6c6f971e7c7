"""The run-search DSL parser: syntax trees, positions and error messages."""

from __future__ import annotations

import pytest

from noria.domain.run_filter import (
    ATTRIBUTES,
    MAX_NESTING,
    AllOf,
    AnyOf,
    Comparison,
    Entity,
    Op,
    OrderKey,
    Value,
    parse_filter,
    parse_order_by,
)
from noria.errors import InvalidArgument

M, P, T, A = Entity.METRIC, Entity.PARAM, Entity.TAG, Entity.ATTRIBUTE


def fails(text: str) -> str:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(text)
    message = caught.value.message
    assert "\n" not in message
    return message


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_filter_is_none(text: str) -> None:
    assert parse_filter(text) is None


@pytest.mark.parametrize(
    ("prefix", "entity"),
    [
        *[(p, M) for p in ("metrics", "metric", "METRICS")],
        *[(p, P) for p in ("params", "param", "parameter", "parameters", "Params")],
        *[(p, T) for p in ("tags", "tag", "TAG")],
    ],
)
def test_prefixes_and_their_aliases(prefix: str, entity: Entity) -> None:
    value = "1" if entity is M else "'1'"
    parsed = parse_filter(f"{prefix}.k = {value}")
    assert parsed == Comparison(entity, "k", Op.EQ, 1.0 if entity is M else "1", 1)


@pytest.mark.parametrize("prefix", ["attributes", "attribute", "attr", "run", "ATTR"])
def test_attribute_prefixes(prefix: str) -> None:
    assert parse_filter(f"{prefix}.status = 'FINISHED'") == Comparison(
        A, "status", Op.EQ, "FINISHED", 1
    )


@pytest.mark.parametrize(
    ("name", "attribute"),
    [
        ("id", "run_id"),
        ("run_id", "run_id"),
        ("name", "run_name"),
        ("user", "user_id"),
        ("USER_ID", "user_id"),
        ("experiment_id", "experiment_id"),
    ],
)
def test_attribute_aliases(name: str, attribute: str) -> None:
    parsed = parse_filter(f"attributes.{name} = 'x'")
    assert parsed == Comparison(A, attribute, Op.EQ, "x", 1)


def test_numeric_attributes_keep_integers() -> None:
    assert parse_filter("attributes.created >= 1700000000000") == Comparison(
        A, "start_time", Op.GE, 1700000000000, 1
    )
    assert parse_filter("run.duration < 2.5e3") == Comparison(A, "duration", Op.LT, 2500.0, 1)
    assert parse_filter("attributes.end_time IS NULL") == Comparison(
        A, "end_time", Op.IS_NULL, None, 1
    )


def test_bare_attribute_names_as_mlflow_reads_them() -> None:
    assert parse_filter("status != 'running'") == Comparison(A, "status", Op.NE, "RUNNING", 1)


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("tags.mlflow.runName", "mlflow.runName"),
        ("params.a-b/c:d_e.f", "a-b/c:d_e.f"),
        ("tags.`my tag`", "my tag"),
        ('tags."my tag"', "my tag"),
        ("tags.`back``tick`", "back`tick"),
        ('tags."dq""x"', 'dq"x'),
        ("tags.`a = 'b'`", "a = 'b'"),
    ],
)
def test_key_names(written: str, key: str) -> None:
    assert parse_filter(f"{written} = 'v'") == Comparison(
        T if "tags" in written else P, key, Op.EQ, "v", 1
    )


@pytest.mark.parametrize(
    ("written", "value"),
    [
        ("0", 0.0),
        ("-1", -1.0),
        ("+2.5", 2.5),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("-1.5E-2", -0.015),
    ],
)
def test_metric_numbers_are_floats(written: str, value: float) -> None:
    parsed = parse_filter(f"metrics.m < {written}")
    assert isinstance(parsed, Comparison)
    assert parsed.value == value
    assert isinstance(parsed.value, float)


@pytest.mark.parametrize(
    ("written", "value"),
    [("'it''s'", "it's"), ('"say ""hi"""', 'say "hi"'), ("''", ""), ("'a\"b'", 'a"b')],
)
def test_strings_with_doubled_quotes(written: str, value: str) -> None:
    assert parse_filter(f"params.p = {written}") == Comparison(P, "p", Op.EQ, value, 1)


@pytest.mark.parametrize(
    ("written", "op"),
    [
        ("=", Op.EQ),
        ("!=", Op.NE),
        ("<>", Op.NE),
        ("<", Op.LT),
        ("<=", Op.LE),
        (">", Op.GT),
        (">=", Op.GE),
    ],
)
def test_symbol_operators(written: str, op: Op) -> None:
    assert parse_filter(f"metrics.m{written}1") == Comparison(M, "m", op, 1.0, 1)


@pytest.mark.parametrize(
    ("written", "op", "value"),
    [
        ("LIKE 'a%'", Op.LIKE, "a%"),
        ("like 'a%'", Op.LIKE, "a%"),
        ("ILike 'a%'", Op.ILIKE, "a%"),
        ("NOT LIKE 'a%'", Op.NOT_LIKE, "a%"),
        ("not ilike 'a%'", Op.NOT_ILIKE, "a%"),
        ("IN ('a', 'b')", Op.IN, ("a", "b")),
        ("in('a')", Op.IN, ("a",)),
        ("NOT IN ('a','b' , 'c')", Op.NOT_IN, ("a", "b", "c")),
        ("IS NULL", Op.IS_NULL, None),
        ("is not null", Op.IS_NOT_NULL, None),
    ],
)
def test_word_operators(written: str, op: Op, value: Value) -> None:
    assert parse_filter(f"tags.t {written}") == Comparison(T, "t", op, value, 1)


def test_metrics_accept_is_null() -> None:
    parsed = parse_filter("metrics.m IS NOT NULL")
    assert parsed == Comparison(M, "m", Op.IS_NOT_NULL, None, 1)


def at(text: str, fragment: str) -> int:
    return text.index(fragment) + 1


def test_status_and_stage_are_normalised() -> None:
    text = "status IN ('finished', 'Killed') AND lifecycle_stage = 'ACTIVE'"
    assert parse_filter(text) == AllOf(
        (
            Comparison(A, "status", Op.IN, ("FINISHED", "KILLED"), 1),
            Comparison(A, "lifecycle_stage", Op.EQ, "active", at(text, "lifecycle")),
        ),
        1,
    )


def test_and_binds_tighter_than_or() -> None:
    text = "metrics.a = 1 OR metrics.b = 2 AND metrics.c = 3"
    a = Comparison(M, "a", Op.EQ, 1.0, 1)
    b = Comparison(M, "b", Op.EQ, 2.0, at(text, "metrics.b"))
    c = Comparison(M, "c", Op.EQ, 3.0, at(text, "metrics.c"))
    assert parse_filter(text) == AnyOf((a, AllOf((b, c), b.position)), 1)


def test_parentheses_override_precedence() -> None:
    text = "(metrics.a = 1 or metrics.b = 2) and metrics.c = 3"
    a = Comparison(M, "a", Op.EQ, 1.0, 2)
    b = Comparison(M, "b", Op.EQ, 2.0, at(text, "metrics.b"))
    c = Comparison(M, "c", Op.EQ, 3.0, at(text, "metrics.c"))
    assert parse_filter(text) == AllOf((AnyOf((a, b), 2), c), 2)


def test_chains_and_nesting() -> None:
    parsed = parse_filter(
        "((metrics.a = 1)) AND metrics.b = 2 AND (metrics.c = 3 OR metrics.d = 4)"
    )
    assert isinstance(parsed, AllOf)
    assert len(parsed.parts) == 3
    assert isinstance(parsed.parts[2], AnyOf)


def test_node_positions_count_characters_from_one() -> None:
    text = "  params.a = 'x'\n  AND tags.b = 'y'"
    parsed = parse_filter(text)
    assert isinstance(parsed, AllOf)
    assert [part.position for part in parsed.parts] == [3, at(text, "tags.b")]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metrics.auc xyz 1",
            "Invalid filter at position 13: expected a comparison operator "
            "(=, !=, <, <=, >, >=, LIKE, ILIKE, IN, IS) after 'metrics.auc', got 'xyz'.",
        ),
        (
            "params.x = 'abc",
            "Invalid filter at position 12: expected a closing ' for the string that starts "
            "here, got end of filter.",
        ),
        (
            "(metrics.a > 1",
            "Invalid filter at position 15: expected AND, OR or ')' to close the '(' at "
            "position 1, got end of filter.",
        ),
        (
            "metrics.a > 1)",
            "Invalid filter at position 14: expected AND, OR or the end (this ')' closes "
            "nothing), got ')'.",
        ),
        (
            "foo.bar = 1",
            "Invalid filter at position 1: expected metrics., params., tags. or attributes. "
            "before the name, got 'foo.bar'.",
        ),
        (
            "params.a IN ()",
            "Invalid filter at position 14: expected at least one value in the IN list, got ')'.",
        ),
        (
            "metrics.a = '1'",
            "Invalid filter at position 13: expected a number for 'metrics.a' (remove the "
            "quotes), got '1'.",
        ),
        (
            "params.lr = 0.1",
            "Invalid filter at position 13: expected a quoted string for 'params.lr' "
            "(write '0.1'), got 0.1.",
        ),
        (
            "metrics.a > 1 garbage",
            "Invalid filter at position 15: expected AND or OR, got 'garbage'.",
        ),
    ],
)
def test_error_messages(text: str, message: str) -> None:
    assert fails(text) == message


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("metrics.a", 10, "got end of filter"),
        ("metrics.a >", 12, "expected a number for 'metrics.a', got end of filter"),
        ("metrics.a > 1 AND", 18, "expected metrics., params., tags. or attributes. and a name"),
        ("auc > 1", 1, "got 'auc'"),
        ("metrics. > 1", 9, "a name after 'metrics.'"),
        ('metrics."ab = 1', 9, 'a closing " for the name'),
        ("metrics.`` > 1", 1, "a non-empty name after 'metrics.'"),
        ("metrics.a > 1 # x", 15, "got '#'"),
        ("tags.a = 'x' ; drop", 14, "got ';'"),
        ("metrics.a LIKE 'x'", 11, "applies to 'metrics.a' (=, !=, <, <=, >, >=, IS NULL"),
        ("metrics.a IN (1)", 11, "got 'IN'"),
        ("params.a < 'x'", 10, "applies to 'params.a' (=, !=, LIKE"),
        ("tags.a >= 'x'", 8, "got '>='"),
        ("attributes.start_time LIKE '1%'", 23, "got 'LIKE'"),
        ("attributes.status LIKE 'F%'", 19, "(=, !=, IN, NOT IN)"),
        ("attributes.run_id IS NULL", 19, "got 'IS'"),
        ("attributes.start_time = 'x'", 25, "a number"),
        ("attributes.status = 'DONE'", 21, "a run status (RUNNING, SCHEDULED, FINISHED"),
        ("attributes.lifecycle_stage = 'gone'", 30, "a lifecycle stage (active, deleted)"),
        ("attributes.color = 'x'", 1, "an attribute (" + ", ".join(ATTRIBUTES) + ")"),
        ("tags.a NOT 'x'", 12, "LIKE, ILIKE or IN after NOT"),
        ("tags.a IS 'x'", 11, "NULL or NOT NULL"),
        ("tags.a IS NOT 1", 15, "NULL after IS NOT"),
        ("tags.a IN 'x'", 11, "'(' to open the list after IN"),
        ("tags.a IN ('x' 'y')", 16, "',' or ')' to close the list"),
        ("tags.a IN ('x',)", 16, "a quoted string for 'tags.a', got ')'"),
        ("tags.a IN ('x'", 15, "got end of filter"),
        ("()", 2, "got ')'"),
        ("metrics.a = 1 OR OR metrics.b = 1", 18, "got 'OR'"),
        ("metrics.a = 1 AND (metrics.b = 2", 33, "close the '(' at position 19"),
        ("metrics.a = 1abc", 14, "got 'abc'"),
        ("params.p = 'line\nbreak", 12, "closing '"),
    ],
)
def test_error_positions(text: str, position: int, fragment: str) -> None:
    message = fails(text)
    assert message.startswith(f"Invalid filter at position {position}: expected ")
    assert fragment in message


def test_long_offending_tokens_are_shortened() -> None:
    message = fails("metrics.a > 1 " + "x" * 100)
    assert "x" * 40 + "…'" in message
    assert "x" * 41 not in message


def test_offending_newlines_are_escaped() -> None:
    assert fails("params.p = 'x' 'a\nb'").endswith("got 'a\\nb'.")


def test_order_by_keys() -> None:
    assert parse_order_by(
        ["metrics.auc DESC", "attributes.start_time", "params.lr ASC", 'tags."x y" desc']
    ) == [
        OrderKey(M, "auc", True, 1),
        OrderKey(A, "start_time", False, 1),
        OrderKey(P, "lr", False, 1),
        OrderKey(T, "x y", True, 1),
    ]


def test_order_by_aliases_and_bare_attributes() -> None:
    assert parse_order_by(["  created desc", "run.name", "end_time"]) == [
        OrderKey(A, "start_time", True, 3),
        OrderKey(A, "run_name", False, 1),
        OrderKey(A, "end_time", False, 1),
    ]
    assert parse_order_by([]) == []


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            "metrics.auc DESCX",
            "Invalid order_by item 1 ('metrics.auc DESCX') at position 13: expected ASC, DESC "
            "or the end after 'metrics.auc', got 'DESCX'.",
        ),
        (
            "",
            "Invalid order_by item 1 ('') at position 1: expected metrics., params., tags. or "
            "attributes. and a name, got end of the item.",
        ),
        ("auc", "at position 1: expected metrics., params., tags. or attributes."),
        ("metrics.a desc x", "at position 16: expected ASC, DESC or the end"),
        ("attributes.colour", "expected an attribute (run_id, "),
        ("metrics.'a'", "at position 9: expected a name after 'metrics.', got '''."),
        ("nope.a", "before the name, got 'nope.a'"),
    ],
)
def test_order_by_errors(item: str, message: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_order_by([item])
    assert message in caught.value.message


def test_order_by_errors_name_the_item() -> None:
    with pytest.raises(InvalidArgument, match=r"order_by item 2 \('metrics\.a up'\)"):
        parse_order_by(["metrics.a", "metrics.a up"])


def test_order_by_refuses_a_plain_string() -> None:
    with pytest.raises(InvalidArgument, match="must be a list of strings"):
        parse_order_by("metrics.auc DESC")


def test_nodes_are_frozen() -> None:
    node = Comparison(M, "a", Op.EQ, 1.0)
    with pytest.raises(AttributeError):
        node.key = "b"  # type: ignore[misc]


def test_nesting_is_bounded() -> None:
    deep = "(" * MAX_NESTING + "metrics.a = 1" + ")" * MAX_NESTING
    assert parse_filter(deep) == Comparison(M, "a", Op.EQ, 1.0, MAX_NESTING + 1)
    too_deep = "(" * 1000 + "metrics.a = 1" + ")" * 1000
    message = fails(too_deep)
    assert message.startswith(f"Invalid filter at position {MAX_NESTING + 1}: expected at most ")


def test_long_filters_parse() -> None:
    text = " OR ".join(f"params.p{i} = 'v{i}'" for i in range(2000))
    parsed = parse_filter(text)
    assert isinstance(parsed, AnyOf)
    assert len(parsed.parts) == 2000
