from __future__ import annotations

import pytest

from noria.domain.entities import EntityKind, EntityRef
from noria.domain.ids import is_id, new_id
from noria.domain.uris import (
    DatasetAliasUri,
    DatasetUri,
    DatasetVersionUri,
    ModelAliasUri,
    ModelVersionUri,
    RegisteredModelUri,
    RunUri,
    parse_entity_uri,
    parse_uri,
)
from noria.errors import InvalidArgument, InvalidUri

RUN_ID = "0193a5c1f2e07d3c9b1e4a6f8d2c0b7e"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"runs:/{RUN_ID}", RunUri(RUN_ID)),
        (f"runs:/{RUN_ID}/artifacts/model", RunUri(RUN_ID, "artifacts/model")),
        ("models:/credit-risk", RegisteredModelUri("credit-risk")),
        ("models:/credit-risk/3", ModelVersionUri("credit-risk", 3)),
        ("models:/credit-risk@champion", ModelAliasUri("credit-risk", "champion")),
        ("datasets:/credit", DatasetUri("credit")),
        ("datasets:/credit.v2/17", DatasetVersionUri("credit.v2", 17)),
        ("datasets:/credit@latest", DatasetAliasUri("credit", "latest")),
    ],
)
def test_parse_and_print_round_trip(text: str, expected: object) -> None:
    parsed = parse_uri(text)
    assert parsed == expected
    assert str(parsed) == text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("models:/", "expected '<scheme>:/<rest>'"),
        ("runs/abc", "expected '<scheme>:/<rest>'"),
        ("runs:/not-an-id", "32 lowercase hex"),
        (f"runs:/{RUN_ID}/a/../b", "'..' segment"),
        ("models:/credit-risk/0", "'/<version>'"),
        ("models:/credit-risk/x", "'/<version>'"),
        ("models:/credit risk", "'/<version>'"),
        ("models:/credit@1bad", "'@<alias>'"),
        ("datasets:/credit/3/4", "optionally '/<version>'"),
        ("datasets:/credit@champion", "dataset alias 'champion' is unknown; use '@latest'"),
        ("s3:/bucket", "unknown scheme 's3'"),
    ],
)
def test_bad_uris_name_the_value_the_problem_and_the_accepted_forms(
    text: str, problem: str
) -> None:
    with pytest.raises(InvalidUri) as caught:
        parse_uri(text)
    message = str(caught.value)
    assert repr(text) in message
    assert problem in message
    assert "models:/<name>@<alias>" in message
    assert "datasets:/<name>/<version>" in message


def test_entity_uris_cover_every_kind() -> None:
    assert parse_entity_uri(f"runs:/{RUN_ID}") == EntityRef(EntityKind.RUN, RUN_ID)
    assert parse_entity_uri("models:/m/2") == EntityRef(EntityKind.MODEL_VERSION, "m/2")
    assert parse_entity_uri("datasets:/d/1") == EntityRef(EntityKind.DATASET_VERSION, "d/1")
    keys = {
        EntityKind.RUN: RUN_ID,
        EntityKind.MODEL_VERSION: "m/2",
        EntityKind.DATASET_VERSION: "d/1",
        EntityKind.REGISTERED_MODEL: "m",
        EntityKind.DATASET: "d",
    }
    for kind in EntityKind:
        ref = EntityRef(kind, keys.get(kind, "abc1"))
        assert parse_entity_uri(ref.uri) == ref


def test_an_alias_is_not_an_entity() -> None:
    with pytest.raises(InvalidUri, match="alias, which moves"):
        parse_entity_uri("models:/credit@champion")


def test_unknown_entity_scheme_lists_the_known_ones() -> None:
    with pytest.raises(InvalidUri, match="pipeline-runs"):
        parse_entity_uri("widgets:/1")


def test_entity_keys_are_validated_per_kind() -> None:
    with pytest.raises(InvalidArgument, match="Invalid run key 'r1': expected 32 lowercase hex"):
        EntityRef(EntityKind.RUN, "r1")
    with pytest.raises(InvalidArgument, match="expected '<name>/<version>'"):
        EntityRef(EntityKind.MODEL_VERSION, "credit-risk")
    with pytest.raises(InvalidArgument, match="Invalid deployment key"):
        EntityRef(EntityKind.DEPLOYMENT, "has space")


def test_ids_are_unique_hex_and_time_ordered() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert all(is_id(value) for value in ids)
    prefixes = [value[:12] for value in ids]
    assert prefixes == sorted(prefixes)


def test_ids_made_in_one_process_strictly_increase() -> None:
    ids = [new_id() for _ in range(5000)]  # many share a millisecond
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(is_id(value) for value in ids)
