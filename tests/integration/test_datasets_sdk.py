"""Dataset versions through the SDK, on SQLite, PostgreSQL and a live server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.datasets import load_diabetes

import noria
import noria.data
from noria.client import Client, connect
from noria.domain.audit import AuditQuery
from noria.domain.entities import EntityKind, EntityRef
from noria.domain.lineage import LineageEdge, Relation
from noria.errors import InvalidArgument, NotFound
from noria.settings import Settings
from tests.conftest import RunningServer


def diabetes() -> pd.DataFrame:
    frame: pd.DataFrame = load_diabetes(as_frame=True).frame
    return frame


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Client]:
    overrides = {}
    if request.param == "postgresql":
        overrides["store_uri"] = request.getfixturevalue("postgres_uri")
    with connect(Settings(home=tmp_path / "home", user="ana", **overrides)) as opened:
        yield opened


def test_ingest_is_idempotent_and_loads_back(client: Client, tmp_path: Path) -> None:
    data = diabetes()
    first, created = client.datasets.ingest(data, name="diabetes", description="sklearn")
    assert created and first.uri == "datasets:/diabetes/1"
    assert (first.row_count, first.column_names[-1], first.created_by) == (442, "target", "ana")
    data.to_csv(tmp_path / "diabetes.csv", index=False)
    again, created = client.datasets.ingest(tmp_path / "diabetes.csv", name="diabetes")
    assert not created and again == first  # same rows and types from a CSV: same version
    pd.testing.assert_frame_equal(client.datasets.load("datasets:/diabetes/1"), data)
    table = client.datasets.load("datasets:/diabetes@latest", format="arrow", columns=["bmi"])
    assert isinstance(table, pa.Table) and table.column_names == ["bmi"]

    second, created = client.datasets.ingest(data.iloc[:100], name="diabetes")
    assert created and second.version == 2
    assert client.datasets.get("datasets:/diabetes@latest") == second
    assert client.datasets.get("diabetes", 1) == first
    events = client.audit.events(AuditQuery(entity=second.entity())).items
    assert [event.action for event in events] == ["dataset.version_created"]


def test_profile_and_schema_are_stored_with_the_version(client: Client) -> None:
    version, _ = client.datasets.ingest(diabetes(), name="diabetes")
    profile = client.datasets.profile(version)
    assert profile.row_count == 442
    bmi = profile.column("bmi")
    assert bmi.count == 442 and bmi.mean == pytest.approx(diabetes()["bmi"].mean(), abs=1e-12)
    schema = client.datasets.schema(version.uri)
    assert [column.name for column in schema.columns] == list(diabetes().columns)
    assert schema.row_count == 442

    edited = client.datasets.schema_yaml(version).replace("nullable: false", "nullable: true", 1)
    revision = client.datasets.set_schema(version.uri, edited, note="age may be missing")
    assert revision.revision == 2
    assert client.datasets.schema(version.uri).columns[0].nullable
    assert client.datasets.get(version.uri).schema_revision == 2
    assert [r.note for r in client.datasets.schema_history(version.uri)] == [
        "inferred at ingest",
        "age may be missing",
    ]
    with pytest.raises(InvalidArgument, match="line"):
        client.datasets.set_schema(version.uri, "columns:\n  - name: x\n    type: flot\n")
    assert client.datasets.get(version.uri).schema_revision == 2  # nothing stored half-way


def test_validate_and_drift_against_a_version(client: Client) -> None:
    data = diabetes()
    reference, _ = client.datasets.ingest(data, name="diabetes")
    clean = noria.data.validate(data, reference.uri, client=client)
    assert clean.ok and clean.anomalies == []
    broken = data.drop(columns=["bmi"]).assign(age=data["age"].astype(str))
    report = noria.data.validate(broken, reference.uri, client=client)
    kinds = {(anomaly.column, anomaly.kind) for anomaly in report.anomalies}
    assert {("bmi", "missing_column"), ("age", "type_mismatch")} <= kinds
    assert not report.ok

    shifted = data.assign(bmi=data["bmi"] + 3 * data["bmi"].std())
    result = noria.data.drift(shifted, reference.uri, client=client)
    drifted = [column.column for column in result.report.columns if column.drifted]
    assert drifted == ["bmi"]
    html = result.html()
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")
    assert "bmi" in html


def test_a_run_records_the_versions_it_made_and_read(client: Client) -> None:
    previous = noria.set_default_client(client)
    try:
        with noria.start_run(experiment="data") as run:
            made = noria.data.ingest(diabetes(), name="diabetes")
            noria.log_input(made, context="training")
    finally:
        noria.set_default_client(previous)
    assert made.run_id == run.id
    run_ref = EntityRef(EntityKind.RUN, run.id)
    downstream = client.lineage.downstream(run_ref, depth=1).steps
    assert LineageEdge(run_ref, Relation.PRODUCED, made.entity()) in [s.edge for s in downstream]
    upstream = client.lineage.upstream(run_ref, depth=1).steps
    assert LineageEdge(made.entity(), Relation.CONSUMED, run_ref) in [s.edge for s in upstream]


def test_bad_input_is_precise_and_stores_nothing(client: Client, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="has no rows"):
        client.datasets.ingest(diabetes().iloc[0:0], name="empty")
    with pytest.raises(NotFound, match="Dataset 'empty' not found"):
        client.datasets.get("datasets:/empty@latest")
    with pytest.raises(InvalidArgument, match="Invalid dataset name"):
        client.datasets.ingest(diabetes(), name="no spaces")
    with pytest.raises(NotFound, match="does not exist"):
        client.datasets.ingest(tmp_path / "missing.csv", name="x")
    with pytest.raises(InvalidArgument, match="has no column 'nope'"):
        version, _ = client.datasets.ingest(diabetes(), name="diabetes")
        client.datasets.load(version, columns=["nope"])
    assert client.datasets.list_datasets().items[0].name == "diabetes"


@pytest.mark.slow
def test_through_a_live_server(noria_server: RunningServer) -> None:
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"x": rng.normal(size=5000), "tier": rng.choice(["a", "b"], 5000)})
    settings = Settings(store_uri=noria_server.url, user="remote", home=noria_server.home / "c")
    with connect(settings) as client:
        version, created = client.datasets.ingest(data, name="remote-set")
        assert created and version.created_by == "remote"
        _, created_again = client.datasets.ingest(data, name="remote-set")
        assert not created_again
        pd.testing.assert_frame_equal(client.datasets.load(version.uri), data)
        assert client.datasets.profile(version.uri).row_count == 5000
        assert client.datasets.versions("remote-set").items == [version]
