"""Validation: a clean table passes; each anomaly kind is caught with its severity and numbers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

from noria.datasets.schema import ColumnSchema, DatasetSchema, infer_schema
from noria.datasets.validation import Anomaly, ValidationReport, validate_table
from noria.errors import InvalidArgument
from tests.unit.datasets.test_schema import mixed_frame


def only(report: ValidationReport, kind: str) -> Anomaly:
    found = [anomaly for anomaly in report.anomalies if anomaly.kind == kind]
    assert len(found) == 1, report.summary()
    return found[0]


def kinds(report: ValidationReport) -> list[str]:
    return [anomaly.kind for anomaly in report.anomalies]


def numbers_schema(**fields: object) -> DatasetSchema:
    return DatasetSchema(columns=[ColumnSchema.model_validate({"name": "x", **fields})])


# --- a clean table ------------------------------------------------------------------------------


@pytest.mark.parametrize("loader", [load_breast_cancer, load_diabetes, load_iris, load_wine])
def test_bundled_datasets_validate_clean_against_their_own_schema(
    loader: Callable[..., object],
) -> None:
    frame = loader(as_frame=True).frame  # type: ignore[attr-defined]
    report = validate_table(frame, infer_schema(frame))

    assert report.anomalies == []
    assert report.ok
    assert report.row_count == len(frame)


def test_mixed_table_validates_clean_as_pandas_and_as_arrow() -> None:
    frame = mixed_frame()
    schema = infer_schema(frame)

    assert validate_table(frame, schema).anomalies == []
    assert validate_table(pa.Table.from_pandas(frame), schema).anomalies == []


def test_halves_of_a_dataset_pass_within_the_default_row_count_tolerance() -> None:
    frame = load_iris(as_frame=True).frame
    schema = infer_schema(frame)

    assert validate_table(frame.iloc[::2], schema).ok


# --- each anomaly kind --------------------------------------------------------------------------


def test_missing_column_is_an_error_and_unexpected_column_a_warning() -> None:
    frame = mixed_frame()
    report = validate_table(frame.drop(columns=["age"]).assign(extra=1), infer_schema(frame))

    missing, unexpected = only(report, "missing_column"), only(report, "unexpected_column")
    assert (missing.column, missing.severity) == ("age", "error")
    assert missing.message == "column 'age' is in the schema but not in the table"
    assert (unexpected.column, unexpected.severity) == ("extra", "warning")
    assert not report.ok
    assert kinds(report) == ["missing_column", "unexpected_column"]  # errors first


def test_text_where_numbers_are_expected_is_a_type_mismatch() -> None:
    frame = mixed_frame()
    changed = frame.assign(age=frame["age"].astype(str))
    anomaly = only(validate_table(changed, infer_schema(frame)), "type_mismatch")

    assert anomaly.severity == "error"
    assert anomaly.message.startswith("column 'age' should hold integer values but holds string")


def test_fractional_floats_where_integers_are_expected_are_a_mismatch_naming_them() -> None:
    schema = numbers_schema(type="integer", min=0, max=10)
    anomaly = only(
        validate_table(pd.DataFrame({"x": [1.0, 2.5, 3.0, 4.25]}), schema), "type_mismatch"
    )

    assert (anomaly.count, anomaly.fraction, anomaly.examples) == (2, 0.5, [2.5, 4.25])
    assert "2 of which (50% of 4 non-null values) are not whole numbers, e.g. 2.5, 4.25" in (
        anomaly.message
    )


def test_whole_floats_fit_an_integer_column_and_ints_fit_a_float_column() -> None:
    # pandas turns an int column with a missing value into floats: that is still integer data.
    integers = numbers_schema(type="integer", nullable=True, min=0, max=10)
    assert validate_table(pd.DataFrame({"x": [1.0, None, 3.0]}), integers).anomalies == []

    floats = numbers_schema(type="float", min=0.0, max=10.0)
    assert validate_table(pd.DataFrame({"x": [1, 2, 3]}), floats).anomalies == []


def test_categorical_columns_accept_text_and_dictionary_columns() -> None:
    schema = numbers_schema(type="categorical", categories=["a", "b"])

    assert validate_table(pd.DataFrame({"x": ["a", "b"]}), schema).anomalies == []
    assert validate_table(pd.DataFrame({"x": pd.Categorical(["b", "a"])}), schema).anomalies == []
    assert kinds(validate_table(pd.DataFrame({"x": [1, 2]}), schema)) == ["type_mismatch"]


def test_value_checks_are_skipped_when_the_type_is_wrong() -> None:
    schema = numbers_schema(type="integer", min=0, max=1, unique=True)
    report = validate_table(pd.DataFrame({"x": ["9", "9", None]}), schema)

    assert kinds(report) == ["null_values", "type_mismatch"]


def test_nulls_in_a_non_nullable_column_report_their_fraction() -> None:
    frame = mixed_frame()
    changed = frame.assign(age=[31, None, 27, None, 38, 45])
    anomaly = only(validate_table(changed, infer_schema(frame)), "null_values")

    assert (anomaly.column, anomaly.severity, anomaly.count) == ("age", "error", 2)
    assert anomaly.fraction == pytest.approx(1 / 3)
    assert "column 'age' has 2 null values (33.3% of 6 rows)" in anomaly.message
    assert "nullable: true" in anomaly.message


def test_out_of_range_values_give_count_and_examples() -> None:
    schema = numbers_schema(type="integer", min=0, max=100)
    values = [5] * 95 + [150, -1, 150, 101, 102]
    anomaly = only(validate_table(pd.DataFrame({"x": values}), schema), "out_of_range")

    assert (anomaly.count, anomaly.examples) == (5, [150, -1, 101, 102])
    assert anomaly.fraction == pytest.approx(0.05)
    assert anomaly.message == (
        "column 'x' has 5 values (5% of 100 non-null values) outside the allowed range "
        "[0, 100], e.g. 150, -1, 101, 102"
    )


def test_one_sided_ranges() -> None:
    above = validate_table(pd.DataFrame({"x": [1.0, 9.5]}), numbers_schema(type="float", max=9))
    below = validate_table(pd.DataFrame({"x": [1.0, 9.5]}), numbers_schema(type="float", min=2))

    assert only(above, "out_of_range").examples == [9.5]
    assert "<= 9" in only(above, "out_of_range").message
    assert only(below, "out_of_range").examples == [1.0]


def test_range_severity_depends_on_the_share_of_values() -> None:
    schema = numbers_schema(type="integer", min=0, max=100)
    one_in_a_thousand = pd.DataFrame({"x": [5] * 999 + [500]})
    two_percent = pd.DataFrame({"x": [5] * 98 + [500, 600]})

    assert only(validate_table(one_in_a_thousand, schema), "out_of_range").severity == "warning"
    assert validate_table(one_in_a_thousand, schema).ok
    assert only(validate_table(two_percent, schema), "out_of_range").severity == "error"
    strict = validate_table(one_in_a_thousand, schema, error_fraction=0)
    assert only(strict, "out_of_range").severity == "error"


def test_datetime_and_date_ranges_including_time_zones() -> None:
    reference = mixed_frame()
    schema = infer_schema(reference)
    later = reference.assign(
        signup=pd.to_datetime(["2021-01-01"] * 5 + ["2030-05-05"]),
        seen=pd.to_datetime(["2024-01-01T09:00:00-01:00"] * 5 + [None], utc=True),
        birthday=[pd.Timestamp("1989-12-31").date(), *reference["birthday"][1:]],
    )
    report = validate_table(later, schema)

    by_column = {anomaly.column: anomaly for anomaly in report.anomalies}
    assert set(by_column) == {"signup", "birthday"}  # 09:00 at -01:00 is 10:00 UTC: in range
    assert by_column["signup"].examples == ["2030-05-05T00:00:00"]
    assert by_column["birthday"].examples == ["1989-12-31"]
    assert all(anomaly.kind == "out_of_range" for anomaly in report.anomalies)


def test_unseen_categories_give_fraction_and_most_frequent_examples() -> None:
    schema = numbers_schema(type="categorical", nullable=True, categories=["red", "blue"])
    values = ["red"] * 90 + ["pink"] * 6 + ["teal"] * 3 + ["gold"] + [None] * 10
    anomaly = only(validate_table(pd.DataFrame({"x": values}), schema), "unseen_category")

    assert (anomaly.severity, anomaly.count, anomaly.examples) == (
        "error",
        10,
        ["pink", "teal", "gold"],
    )
    assert anomaly.fraction == pytest.approx(0.1)
    assert anomaly.message == (
        "column 'x' has 10 values (10% of 100 non-null values) outside its 2 categories: "
        "'pink' (6 rows), 'teal' (3 rows), 'gold' (1 rows)"
    )


def test_a_rare_unseen_category_is_a_warning() -> None:
    schema = numbers_schema(type="categorical", categories=["a"])
    frame = pd.DataFrame({"x": pd.Categorical(["a"] * 999 + ["b"])})

    assert only(validate_table(frame, schema), "unseen_category").severity == "warning"


def test_duplicates_in_unique_and_id_columns_are_errors_but_nulls_are_not_duplicates() -> None:
    values = pd.DataFrame({"x": [1, 2, 2, 3, 3, 3, None, None]})
    unique = numbers_schema(type="integer", nullable=True, unique=True)
    identifier = numbers_schema(type="integer", nullable=True, role="id")

    anomaly = only(validate_table(values, unique), "duplicate_values")
    assert (anomaly.severity, anomaly.count, anomaly.examples) == ("error", 3, [3, 2])
    assert anomaly.message == (
        "column 'x' should be unique but 2 values appear more than once (3 extra rows), "
        "e.g. 3 (3 times), 2 (2 times)"
    )
    assert "is an id" in only(validate_table(values, identifier), "duplicate_values").message
    plain = numbers_schema(type="integer", nullable=True)
    assert validate_table(values, plain).anomalies == []
    assert validate_table(pd.DataFrame({"x": [1, None, None]}), unique).anomalies == []


def test_row_count_far_from_the_reference_is_a_warning() -> None:
    schema = DatasetSchema(columns=[ColumnSchema(name="x", type="integer")], row_count=100)
    small, fine = pd.DataFrame({"x": range(40)}), pd.DataFrame({"x": range(60)})

    anomaly = only(validate_table(small, schema), "row_count")
    assert (anomaly.column, anomaly.severity, anomaly.count) == (None, "warning", 40)
    assert anomaly.message == (
        "the table has 40 rows, far from the reference's 100 (expected 50 to 150: ±50%)"
    )
    assert validate_table(fine, schema).anomalies == []
    assert kinds(validate_table(fine, schema, row_count_tolerance=0.1)) == ["row_count"]
    assert validate_table(small, schema, row_count_tolerance=None).anomalies == []


# --- user checks --------------------------------------------------------------------------------


def test_passing_checks_add_nothing() -> None:
    def adults_only(frame: pd.DataFrame) -> bool:
        return bool((frame["age"] >= 18).all())

    def numpy_verdict(frame: pd.DataFrame) -> Any:
        return (frame["age"] > 0).all()

    def per_row(frame: pd.DataFrame) -> pd.Series:
        return frame["age"] < 100

    frame = mixed_frame()
    assert isinstance(numpy_verdict(frame), np.bool_)  # not a bool: must still count as one
    checks = [adults_only, numpy_verdict, per_row, lambda frame: None]
    assert validate_table(frame, infer_schema(frame), checks=checks).anomalies == []


def test_failing_checks_become_errors() -> None:
    def no_teenagers(frame: pd.DataFrame) -> bool:
        return bool((frame["age"] >= 30).all())

    def incomes_known(frame: pd.DataFrame) -> str | None:
        missing = int(frame["income"].isna().sum())
        return f"{missing} incomes are missing" if missing else None

    def young(frame: pd.DataFrame) -> pd.Series:
        return frame["age"] < 40

    frame = mixed_frame()
    report = validate_table(frame, infer_schema(frame), checks=[no_teenagers, incomes_known, young])

    messages = [anomaly.message for anomaly in report.anomalies]
    assert messages == [
        "check 'no_teenagers' failed",
        "check 'incomes_known' failed: 1 incomes are missing",
        "check 'young' failed on 3 of 6 rows (50%), e.g. rows 1, 3, 5",
    ]
    assert all(a.kind == "check_failed" and a.severity == "error" for a in report.anomalies)
    assert report.anomalies[2].examples == [1, 3, 5]


def test_a_check_that_raises_is_reported_not_fatal() -> None:
    def broken(frame: pd.DataFrame) -> bool:
        return bool(frame["no such column"].all())

    frame = mixed_frame()
    anomaly = only(validate_table(frame, infer_schema(frame), checks=[broken]), "check_failed")

    assert anomaly.message == "check 'broken' raised KeyError: 'no such column'"
    assert anomaly.severity == "error"


def test_a_check_returning_something_else_is_reported() -> None:
    frame = mixed_frame()
    report = validate_table(frame, infer_schema(frame), checks=[lambda frame: 3])

    assert "check '<lambda>' returned a int; a check returns True or None" in (
        only(report, "check_failed").message
    )


def test_checks_get_a_dataframe_when_given_an_arrow_table() -> None:
    seen: list[type] = []

    def record(frame: pd.DataFrame) -> None:
        seen.append(type(frame))

    table = pa.Table.from_pandas(mixed_frame())
    validate_table(table, infer_schema(table), checks=[record])
    assert seen == [pd.DataFrame]


# --- the report ---------------------------------------------------------------------------------


def test_report_to_dict_is_json_with_the_documented_keys() -> None:
    frame = mixed_frame()
    changed = frame.assign(
        signup=pd.to_datetime(["2040-01-01"] * 6), blob=[b"\xff"] * 6, user_id=[1] * 6
    )
    report = validate_table(changed, infer_schema(frame))

    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["ok"] is False
    assert payload["row_count"] == 6
    assert {tuple(sorted(a)) for a in payload["anomalies"]} == {
        ("column", "count", "examples", "fraction", "kind", "message", "severity")
    }
    assert {a["kind"] for a in payload["anomalies"]} == {"out_of_range", "duplicate_values"}
    assert report.summary().splitlines()[0] == "4 errors, 0 warnings in 6 rows"


def test_rejects_bad_options() -> None:
    frame = mixed_frame()
    schema = infer_schema(frame)
    with pytest.raises(InvalidArgument, match="row_count_tolerance"):
        validate_table(frame, schema, row_count_tolerance=-0.1)
    with pytest.raises(InvalidArgument, match="error_fraction"):
        validate_table(frame, schema, error_fraction=2)
    with pytest.raises(InvalidArgument, match="Expected a pandas DataFrame"):
        validate_table({"age": [1]}, schema)
