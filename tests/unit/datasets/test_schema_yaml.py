"""Schema YAML: readable output, exact round trips, and errors that name the line and field."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from sklearn.datasets import load_breast_cancer, load_iris, load_wine

from noria.datasets.schema import ColumnSchema, DatasetSchema, infer_schema
from noria.datasets.schema_yaml import read_schema_file, schema_from_yaml, schema_to_yaml
from noria.errors import InvalidArgument, NotFound
from tests.unit.datasets.test_schema import mixed_frame


def test_round_trip_of_a_mixed_table_is_exact() -> None:
    schema = infer_schema(mixed_frame(), roles={"age": "feature"})

    assert schema_from_yaml(schema_to_yaml(schema)) == schema


@pytest.mark.parametrize("loader", [load_iris, load_wine, load_breast_cancer])
def test_round_trip_of_bundled_datasets_is_exact(loader: object) -> None:
    schema = infer_schema(loader(as_frame=True).frame)  # type: ignore[operator]

    assert schema_from_yaml(schema_to_yaml(schema)) == schema


def test_round_trip_keeps_tricky_values() -> None:
    schema = DatasetSchema(
        columns=[
            ColumnSchema(
                name="2019",
                type="categorical",
                categories=["yes", "no", "1", "null", "a: b", "ünï"],
                description="multi\nline: text",
            ),
            ColumnSchema(name="x", type="float", min=-1e-300, max=float("inf"), nullable=True),
            ColumnSchema(name="t", type="datetime", min="2024-01-01T00:00:00.000000001+02:00"),
        ],
        row_count=None,
    )

    assert schema_from_yaml(schema_to_yaml(schema)) == schema


def test_output_is_commented_one_mapping_per_column_and_stable() -> None:
    schema = infer_schema(mixed_frame())
    text = schema_to_yaml(schema)

    assert text.startswith("# Noria dataset schema")
    assert "#   nullable     true when the column may hold nulls" in text
    assert "categories: [Lyon, Paris]" in text
    assert text.count("\n  - name: ") == len(schema.columns)
    assert text == schema_to_yaml(schema_from_yaml(text))
    # Defaults stay out of the way: no `unique: false`, `role: null` or empty descriptions.
    body = text[text.index("row_count:") :]
    assert (
        "\n\n  - name: age\n    type: integer\n    nullable: false\n    min: 27\n    max: 60\n\n"
        in body
    )
    assert "unique: false" not in body
    assert "description" not in body
    assert yaml.safe_load(text)["columns"][0] == {
        "name": "user_id",
        "type": "integer",
        "nullable": False,
        "min": 10,
        "max": 15,
        "unique": True,
        "role": "id",
    }


def test_people_can_loosen_a_range_add_a_category_and_allow_nulls() -> None:
    text = schema_to_yaml(infer_schema(mixed_frame()))
    edited = (
        text.replace("    max: 60\n", "    max: 120\n")
        .replace("[Lyon, Paris]", "[Lyon, Marseille, Paris]")
        .replace(
            "  - name: age\n    type: integer\n    nullable: false",
            "  - name: age\n    type: integer\n    nullable: true",
        )
    )
    schema = schema_from_yaml(edited)

    assert schema.column("age").max == 120
    assert schema.column("age").nullable
    assert schema.column("city").categories == ["Lyon", "Marseille", "Paris"]


def test_unquoted_yaml_dates_are_read_as_iso_text() -> None:
    text = (
        "columns:\n  - name: t\n    type: datetime\n"
        "    min: 2024-01-01 10:00:00\n    max: 2025-01-01\n"
    )
    column = schema_from_yaml(text).column("t")

    assert (column.min, column.max) == ("2024-01-01T10:00:00", "2025-01-01")


SCHEMA_ERRORS = [
    pytest.param(
        "columns:\n  - name: a\n    type: integer\n    colour: red\n",
        "line 4, columns[0].colour: unknown field 'colour'; expected one of name, type, nullable",
        id="unknown key",
    ),
    pytest.param(
        "row_count: 3\nversion: 2\ncolumns: []\n",
        "line 2, version: unknown field 'version'; expected one of columns, row_count",
        id="unknown top-level key",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: integer\n  - name: b\n    type: flot\n",
        "line 5, columns[1].type: 'flot' is not a type; expected one of integer, float",
        id="unknown type",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: integer\n    nullable: maybe\n",
        "line 4, columns[0].nullable: 'maybe' is not true or false",
        id="wrong value type",
    ),
    pytest.param(
        "columns:\n  - name: 2019\n    type: integer\n",
        "line 2, columns[0].name: 2019 is not text; write it in quotes",
        id="number as a name",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: integer\n    min: 10\n    max: 1\n",
        "line 5, columns[0].max: min 10 is greater than max 1",
        id="min above max",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: date\n    min: '2024-02-01'\n    max: '2024-01-01'\n",
        "line 5, columns[0].max: min '2024-02-01' is greater than max '2024-01-01'",
        id="dates out of order",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: string\n    nullable: true\n    categories: [x, y]\n",
        "line 5, columns[0].categories: categories apply only to categorical columns",
        id="categories on a string",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: categorical\n    categories:\n      - x\n      - yes\n",
        "line 6, columns[0].categories[1]: True is not text (YAML reads yes/no",
        id="unquoted yes as category",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: integer\n  - name: b\n    type: float\n"
        "  - name: a\n    type: string\n",
        "line 6, columns[2].name: column 'a' is listed twice (also columns[0])",
        id="duplicate column names",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: integer\n    type: float\n",
        "line 4, columns[0].type: 'type' is given twice",
        id="duplicate key",
    ),
    pytest.param(
        "columns:\n  - name: a\n    nullable: true\n",
        "line 2, columns[0]: missing required field 'type'",
        id="missing field",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: [integer\n  - name: b\n",
        "line 4: not valid YAML: while parsing a flow sequence",
        id="unclosed bracket",
    ),
    pytest.param(
        "columns:\n  - name: a\n   type: integer\n",
        "line 3: not valid YAML",
        id="bad indentation",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: datetime\n    min: 2024-13-01\n",
        "line 4, columns[0].min: '2024-13-01' is not a valid date or time",
        id="impossible date",
    ),
    pytest.param(
        "columns:\n  - name: a\n    type: integer\n    min: '0'\n",
        "line 4, columns[0].min: '0' is not a number",
        id="quoted number bound",
    ),
    pytest.param(
        "row_count: -5\ncolumns: []\n",
        "line 1, row_count: -5 is negative",
        id="negative row count",
    ),
    pytest.param("columns:\n  - age\n", "line 2, columns[0]: 'age' is not a mapping", id="bare"),
    pytest.param("- a\n", "line 1: ['a'] is not a mapping", id="list document"),
    pytest.param("row_count: 1\n", "line 1: missing required field 'columns'", id="no columns"),
    pytest.param("# nothing\n", "schema.yaml is empty", id="empty"),
    pytest.param(
        "columns: !!python/object:os.system x\n",
        "line 1: not valid YAML: could not determine a constructor",
        id="unsafe tag",
    ),
]


@pytest.mark.parametrize(("text", "expected"), SCHEMA_ERRORS)
def test_each_error_names_the_file_line_and_field(text: str, expected: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        schema_from_yaml(text)

    assert expected in caught.value.message
    assert caught.value.message.startswith("schema.yaml")


def test_reports_every_problem_with_its_own_line() -> None:
    text = "columns:\n  - name: a\n    type: flot\n  - name: b\n    type: integer\n    unique: 1\n"
    with pytest.raises(InvalidArgument) as caught:
        schema_from_yaml(text, source="data/schema.yaml")

    assert caught.value.message.splitlines() == [
        "data/schema.yaml line 3, columns[0].type: 'flot' is not a type; expected one of "
        "integer, float, boolean, string, categorical, datetime, date, binary",
        "data/schema.yaml line 6, columns[1].unique: 1 is not true or false",
    ]


def test_schema_files_are_read_with_their_path_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(schema_to_yaml(infer_schema(pd.DataFrame({"a": [1, 2]}))), encoding="utf-8")
    assert read_schema_file(path).names == ["a"]

    path.write_text("columns:\n  - name: a\n    type: int\n", encoding="utf-8")
    with pytest.raises(InvalidArgument, match=f"{path} line 3, columns\\[0\\].type"):
        read_schema_file(path)
    with pytest.raises(NotFound, match="no schema file"):
        read_schema_file(tmp_path / "missing.yaml")
