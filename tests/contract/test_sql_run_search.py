"""Run search compiled to SQL, on a real SQLite file and a real PostgreSQL schema.

One small module-scoped data set is written straight into the tracking tables and
only read by the tests, so each query's expected answer can be worked out by hand.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, Table, event, func, insert, select

from noria.backends.sql.engine import make_engine
from noria.backends.sql.run_search import INDEX_WALK_FROM, like_patterns, search_run_ids
from noria.backends.sql.store import SqlMetadataStore
from noria.backends.sql.tables import experiments, metric_series, params, run_tags, runs
from noria.domain.tracking import Metric, Param, RunSearch, ViewType
from noria.errors import InvalidArgument

NAN, INF = math.nan, math.inf


@dataclass(frozen=True)
class R:
    id: str
    name: str
    status: str
    start: int
    end: int | None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    experiment: str = "1"
    stage: str = "active"
    user: str = "alice"


DATA = [
    R("r1", "Alpha", "FINISHED", 1000, 1500, {"model": "xgb", "lr": "0.1"},
      {"team": "Vision", "note key": "it's"}, {"auc": 0.9, "loss": 0.2}),
    R("r2", "beta", "FINISHED", 2000, 4000, {"model": "lgbm", "lr": "0.01"},
      {"team": "vision"}, {"auc": 0.7, "loss": NAN}, user="bob"),
    R("r3", "gamma", "RUNNING", 3000, None, {"model": "xgb"}, {}, {"auc": NAN}),
    R("r4", "delta", "FAILED", 4000, 4100, {"model": "XGB"}, {"team": "audio%"},
      {"auc": 0.7, "loss": -INF}, user="carol"),
    R("r5", "epsilon", "KILLED", 5000, 5200, {"model": "xgb"}, {}, {"auc": 0.95},
      stage="deleted", user="bob"),
    R("r6", "zeta", "FINISHED", 6000, 6001, {"model": "rf"}, {}, {"auc": 0.5, "loss": INF},
      experiment="2"),
    R("r7", "eta", "SCHEDULED", 7000, None, {}, {"team": "a_b", "glob": "a*[b]?"},
      user="dave"),
    R("r8", "theta", "FINISHED", 4000, 9000, {"model": "xg_b"}, {"glob": "a-b]x"},
      {"auc": 0.7}, user="bob"),
]  # fmt: skip


def _rows(data: list[R]) -> dict[Table, list[dict[str, object]]]:
    rows: dict[Table, list[dict[str, object]]] = {runs: [], params: [], run_tags: []}
    rows[metric_series] = []
    for run in data:
        rows[runs].append(
            {"id": run.id, "experiment_id": run.experiment, "name": run.name,
             "status": run.status, "start_time": run.start, "end_time": run.end,
             "lifecycle_stage": run.stage, "user_id": run.user}
        )  # fmt: skip
        rows[params] += [{"run_id": run.id, "key": k, "value": v} for k, v in run.params.items()]
        rows[run_tags] += [{"run_id": run.id, "key": k, "value": v} for k, v in run.tags.items()]
        rows[metric_series] += [
            {"id": len(rows[metric_series]) + i + 1, "run_id": run.id, "key": k,
             "value": None if math.isnan(v) else v, "points": 1, "step": 0, "timestamp": 0}
            for i, (k, v) in enumerate(run.metrics.items())
        ]  # fmt: skip
    return rows


def _populate(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(experiments),
            [
                {"id": eid, "name": f"e{eid}", "artifact_location": "", "lifecycle_stage":
                 "active", "creation_time": 0, "last_update_time": 0}
                for eid in ("1", "2")
            ],
        )  # fmt: skip
        for table, rows in _rows(DATA).items():
            connection.execute(insert(table), rows)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "sqlite":
        with _store_engine(f"sqlite:///{tmp_path_factory.mktemp('search') / 'noria.db'}") as engine:
            yield engine
        return
    import psycopg

    server = request.getfixturevalue("postgres_server_uri")
    plain = server.replace("postgresql+psycopg://", "postgresql://")
    schema = f"noria_search_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        with _store_engine(f"{server}?options=-csearch_path%3D{schema}") as engine:
            yield engine
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def _store_engine(uri: str) -> Iterator[Engine]:
    with SqlMetadataStore(uri) as store:
        store.initialize()
    engine = make_engine(uri)
    try:
        _populate(engine)
        yield engine
    finally:
        engine.dispose()


def search(
    engine: Engine,
    filter: str = "",
    order_by: tuple[str, ...] = (),
    *,
    experiments: tuple[str, ...] = ("1",),
    view: ViewType = ViewType.ACTIVE_ONLY,
    limit: int = 100,
    page_token: str | None = None,
    walk_from: int = INDEX_WALK_FROM,
) -> tuple[list[str], str | None]:
    query = RunSearch(experiments, filter, order_by, view, limit, page_token)
    with engine.connect() as connection:
        return search_run_ids(connection, query, index_walk_from=walk_from)


def ids(engine: Engine, filter: str = "", *order_by: str, **options: object) -> list[str]:
    found, token = search(engine, filter, order_by, **options)  # type: ignore[arg-type]
    assert token is None
    return found


# Active runs of experiment 1, newest first (r4 and r8 start together: id breaks the tie).
DEFAULT_ORDER = ["r7", "r4", "r8", "r3", "r2", "r1"]


def test_default_order_is_newest_first_then_id(engine: Engine) -> None:
    assert ids(engine) == DEFAULT_ORDER


def test_experiments_and_views(engine: Engine) -> None:
    assert ids(engine, experiments=("1", "2", "2")) == ["r7", "r6", *DEFAULT_ORDER[1:]]
    assert ids(engine, view=ViewType.DELETED_ONLY) == ["r5"]
    assert ids(engine, view=ViewType.ALL) == ["r7", "r5", *DEFAULT_ORDER[1:]]
    assert ids(engine, experiments=("404",)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("metrics.auc = 0.7", ["r4", "r8", "r2"]),
        ("metrics.auc != 0.7", ["r1"]),
        ("metrics.auc <> 0.9", ["r4", "r8", "r2"]),
        ("metrics.auc < 0.8", ["r4", "r8", "r2"]),
        ("metrics.auc <= 0.7", ["r4", "r8", "r2"]),
        ("metrics.auc > 0.7", ["r1"]),
        ("metrics.auc >= 0.7", ["r4", "r8", "r2", "r1"]),
        ("metrics.auc > -1e308", ["r4", "r8", "r2", "r1"]),
        ("metrics.loss < -1e308", ["r4"]),
        ("metrics.loss > 0", ["r1"]),
        ("metric.auc IS NULL", ["r7"]),
        ("metrics.auc IS NOT NULL", ["r4", "r8", "r3", "r2", "r1"]),
        ("metrics.loss IS NOT NULL", ["r4", "r2", "r1"]),
        ("metrics.missing IS NULL", DEFAULT_ORDER),
        ("metrics.missing >= 0", []),
    ],
)
def test_metrics_compare_latest_values_and_never_match_nan(
    engine: Engine, text: str, expected: list[str]
) -> None:
    assert ids(engine, text) == expected


def test_infinite_metrics(engine: Engine) -> None:
    assert ids(engine, "metrics.loss > 1e308", experiments=("2",)) == ["r6"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.model = 'xgb'", ["r3", "r1"]),
        ("params.model != 'xgb'", ["r4", "r8", "r2"]),
        ("params.model LIKE 'xg%'", ["r8", "r3", "r1"]),
        ("params.model LIKE 'XG%'", ["r4"]),
        ("params.model ILIKE 'xg%'", ["r4", "r8", "r3", "r1"]),
        ("params.model NOT LIKE 'xg%'", ["r4", "r2"]),
        ("params.model NOT ILIKE 'xg%'", ["r2"]),
        ("params.model LIKE 'xg_'", ["r3", "r1"]),
        ("params.model LIKE 'xg\\_%'", ["r8"]),
        ("params.model LIKE '%b'", ["r8", "r3", "r1"]),
        ("params.model IN ('xgb', 'rf', 'lgbm')", ["r3", "r2", "r1"]),
        ("params.model NOT IN ('xgb')", ["r4", "r8", "r2"]),
        ("params.lr IS NULL", ["r7", "r4", "r8", "r3"]),
        ("parameter.lr IS NOT NULL", ["r2", "r1"]),
        ("params.lr = '0.1'", ["r1"]),
        ("params.model = 'x''; DROP TABLE runs; --'", []),
    ],
)
def test_params(engine: Engine, text: str, expected: list[str]) -> None:
    assert ids(engine, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tags.team = 'vision'", ["r2"]),
        ("tags.team LIKE 'V%'", ["r1"]),
        ("tags.team LIKE 'v%'", ["r2"]),
        ("tags.team ILIKE 'V%'", ["r2", "r1"]),
        ("tags.team NOT ILIKE 'V%'", ["r7", "r4"]),
        ("tags.team LIKE '%\\%'", ["r4"]),
        ("tags.team LIKE 'a\\_b'", ["r7"]),
        ("tags.team LIKE 'a_b'", ["r7"]),
        ("tags.`note key` = 'it''s'", ["r1"]),
        ('tags."note key" IS NOT NULL', ["r1"]),
        ("tags.team IS NULL", ["r8", "r3"]),
        ("tags.glob LIKE 'a*[b]?'", ["r7"]),
        ("tags.glob LIKE 'a%'", ["r7", "r8"]),
        ("tags.glob LIKE 'a*b]x'", []),
        ("tags.glob LIKE '%]%'", ["r7", "r8"]),
        ("tags.glob ILIKE 'A*[B]?'", ["r7"]),
    ],
)
def test_tags_and_like_case_sensitivity(engine: Engine, text: str, expected: list[str]) -> None:
    assert ids(engine, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("attributes.run_id = 'r2'", ["r2"]),
        ("attributes.id IN ('r1', 'r3', 'r5')", ["r3", "r1"]),
        ("attributes.run_id NOT IN ('r1', 'r7')", ["r4", "r8", "r3", "r2"]),
        ("attributes.run_name LIKE 'a%'", []),
        ("attributes.run_name ILIKE 'a%'", ["r1"]),
        ("run.name != 'beta'", ["r7", "r4", "r8", "r3", "r1"]),
        ("attributes.status = 'finished'", ["r8", "r2", "r1"]),
        ("status IN ('RUNNING', 'SCHEDULED')", ["r7", "r3"]),
        ("attributes.status NOT IN ('FINISHED')", ["r7", "r4", "r3"]),
        ("attributes.user_id = 'bob'", ["r8", "r2"]),
        ("attributes.user NOT LIKE 'a%'", ["r7", "r4", "r8", "r2"]),
        ("attributes.start_time >= 3000 AND attributes.created < 7000", ["r4", "r8", "r3"]),
        ("attributes.start_time = 4000.0", ["r4", "r8"]),
        ("attributes.start_time > 3999.5", ["r7", "r4", "r8"]),
        ("attributes.end_time IS NULL", ["r7", "r3"]),
        ("attributes.end_time IS NOT NULL AND attributes.end_time <= 4100", ["r4", "r2", "r1"]),
        ("attributes.duration < 1000", ["r4", "r1"]),
        ("attributes.duration = 5000", ["r8"]),
        ("attributes.duration > 1000000000", ["r7", "r3"]),
        ("attributes.start_time > 99999999999999999999", []),
        ("attributes.experiment_id = '1'", DEFAULT_ORDER),
        ("attributes.lifecycle_stage = 'Deleted'", []),
    ],
)
def test_attributes(engine: Engine, text: str, expected: list[str]) -> None:
    assert ids(engine, text) == expected


def test_attribute_filters_across_experiments_and_stages(engine: Engine) -> None:
    both = ("1", "2")
    assert ids(engine, "attributes.experiment_id = '2'", experiments=both) == ["r6"]
    assert ids(engine, "lifecycle_stage = 'deleted'", view=ViewType.ALL) == ["r5"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("params.model = 'xgb' OR params.model = 'lgbm' AND metrics.auc > 0.8", ["r3", "r1"]),
        ("(params.model = 'xgb' OR params.model = 'lgbm') AND metrics.auc > 0.8", ["r1"]),
        ("metrics.auc > 0.8 AND params.model = 'lgbm' OR params.model = 'xgb'", ["r3", "r1"]),
        ("metrics.auc > 0.8 AND (params.model = 'lgbm' OR params.model = 'xgb')", ["r1"]),
        ("(tags.team = 'vision' OR tags.team = 'Vision') AND (metrics.auc < 0.8)", ["r2"]),
        ("((metrics.auc = 0.7) OR (tags.team = 'a_b')) AND attributes.user = 'bob'", ["r8", "r2"]),
    ],
)
def test_and_binds_tighter_than_or(engine: Engine, text: str, expected: list[str]) -> None:
    assert ids(engine, text) == expected


@pytest.mark.parametrize(
    ("filter", "order_by", "expected"),
    [
        # Real numbers in order, then NaN (r3), then runs without the metric (r7).
        ("", ["metrics.auc DESC"], ["r1", "r4", "r8", "r2", "r3", "r7"]),
        ("", ["metrics.auc"], ["r4", "r8", "r2", "r1", "r3", "r7"]),
        ("", ["metrics.loss ASC"], ["r4", "r1", "r2", "r7", "r8", "r3"]),
        ("", ["metrics.loss DESC"], ["r1", "r4", "r2", "r7", "r8", "r3"]),
        # The filter requires the ordered metric: the index walk, where it applies.
        ("metrics.auc > 0.5", ["metrics.auc DESC"], ["r1", "r4", "r8", "r2"]),
        ("metrics.auc < 0.8 AND metrics.auc > 0.5", ["metrics.auc"], ["r4", "r8", "r2"]),
        ("metrics.auc > 0.5", ["metrics.auc", "metrics.auc DESC"], ["r4", "r8", "r2", "r1"]),
        ("metrics.auc IS NOT NULL", ["metrics.auc"], ["r4", "r8", "r2", "r1", "r3"]),
        ("metrics.auc IS NULL", ["metrics.auc"], ["r7"]),
        ("metrics.auc < 0.8 OR metrics.auc > 0.8", ["metrics.auc DESC"], ["r1", "r4", "r8", "r2"]),
        # Text sorts by code point: upper case first; missing values last either way.
        ("", ["params.model"], ["r4", "r2", "r8", "r3", "r1", "r7"]),
        ("", ["params.model DESC"], ["r3", "r1", "r8", "r2", "r4", "r7"]),
        ("params.model LIKE 'xg%'", ["params.model DESC"], ["r3", "r1", "r8"]),
        ("", ["tags.team"], ["r1", "r7", "r4", "r2", "r8", "r3"]),
        ("", ["tags.team desc"], ["r2", "r4", "r7", "r1", "r8", "r3"]),
        ("", ["attributes.end_time DESC"], ["r8", "r4", "r2", "r1", "r7", "r3"]),
        ("", ["attributes.end_time"], ["r1", "r2", "r4", "r8", "r7", "r3"]),
        ("", ["attributes.run_name"], ["r1", "r2", "r4", "r7", "r3", "r8"]),
        ("", ["attributes.duration DESC"], ["r3", "r7", "r8", "r2", "r1", "r4"]),
        ("", ["attributes.start_time ASC"], ["r1", "r2", "r3", "r4", "r8", "r7"]),
        ("", ["attributes.run_id DESC"], ["r8", "r7", "r4", "r3", "r2", "r1"]),
        (
            "",
            ["attributes.status", "attributes.user_id DESC"],
            ["r4", "r8", "r2", "r1", "r3", "r7"],
        ),
        ("", ["params.model", "metrics.auc DESC"], ["r4", "r2", "r8", "r1", "r3", "r7"]),
        ("", ["metrics.auc DESC", "params.model DESC"], ["r1", "r8", "r2", "r4", "r3", "r7"]),
    ],
)
@pytest.mark.parametrize("walk_from", [INDEX_WALK_FROM, 0], ids=["sorted", "index-walk"])
def test_ordering(
    engine: Engine, filter: str, order_by: list[str], expected: list[str], walk_from: int
) -> None:
    assert ids(engine, filter, *order_by, walk_from=walk_from) == expected


@pytest.mark.parametrize(
    ("filter", "order_by"),
    [
        ("", ()),
        ("", ("metrics.auc DESC",)),
        ("metrics.auc >= 0.7", ("metrics.auc",)),
        ("metrics.auc > 0 AND params.model != 'rf'", ("metrics.auc DESC", "params.model")),
        ("", ("tags.team", "attributes.duration DESC")),
        ("attributes.status != 'KILLED'", ("params.model DESC",)),
    ],
)
@pytest.mark.parametrize("limit", [1, 2, 3, 5])
@pytest.mark.parametrize("walk_from", [INDEX_WALK_FROM, 0], ids=["sorted", "index-walk"])
def test_pages_cover_every_result_exactly_once(
    engine: Engine, filter: str, order_by: tuple[str, ...], limit: int, walk_from: int
) -> None:
    everything = ids(engine, filter, *order_by, experiments=("1", "2"), view=ViewType.ALL)
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        found, token = search(
            engine, filter, order_by, experiments=("2", "1"), view=ViewType.ALL,
            limit=limit, page_token=token, walk_from=walk_from,
        )  # fmt: skip
        pages.append(found)
        if token is None:
            break
        assert len(found) == limit
    assert [run for page in pages for run in page] == everything
    assert len(pages) == max(1, -(-len(everything) // limit))


def test_no_token_when_the_last_page_is_full(engine: Engine) -> None:
    first, token = search(engine, limit=3)
    second, last = search(engine, limit=3, page_token=token)
    assert first + second == DEFAULT_ORDER
    assert last is None


def test_limit_may_change_between_pages(engine: Engine) -> None:
    first, token = search(engine, limit=2)
    rest, _ = search(engine, limit=100, page_token=token)
    assert first + rest == DEFAULT_ORDER


@pytest.mark.parametrize(
    "change",
    [
        {"filter": "metrics.auc > 0"},
        {"order_by": ("metrics.auc",)},
        {"experiments": ("1", "2")},
        {"view": ViewType.ALL},
    ],
)
def test_a_token_from_another_search_is_refused(engine: Engine, change: dict[str, object]) -> None:
    _, token = search(engine, limit=2)
    assert token is not None
    arguments: dict[str, object] = {"filter": "", "order_by": (), **change}
    with pytest.raises(InvalidArgument) as caught:
        search(engine, limit=2, page_token=token, **arguments)  # type: ignore[arg-type]
    assert caught.value.message == (
        f"Page token {token!r} was issued for a different search (other experiments, filter, "
        "order_by or view); start again without page_token."
    )


def _encode(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "token",
    [
        "garbage!",
        "abc",
        _encode([1, 2]),
        _encode({"o": -1, "q": "x", "t": 0}),
        _encode({"o": True, "q": "x", "t": 0}),
        _encode({"o": 1, "q": 5, "t": 0}),
        _encode({"o": 1, "q": "x"}),
        _encode({"o": 2**70, "q": "x", "t": 0}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_malformed_tokens_are_refused_by_name(engine: Engine, token: str) -> None:
    with pytest.raises(
        InvalidArgument, match=r"Invalid page token .*start again without page_token"
    ):
        search(engine, page_token=token)


def test_an_empty_token_starts_at_the_beginning(engine: Engine) -> None:
    assert search(engine, page_token="")[0] == DEFAULT_ORDER


def test_filter_and_order_errors_come_out_as_invalid_argument(engine: Engine) -> None:
    with pytest.raises(InvalidArgument, match="position 13: expected a comparison operator"):
        search(engine, "metrics.auc xyz 1")
    with pytest.raises(InvalidArgument, match=r"order_by item 1 \('metrics.auc UP'\)"):
        search(engine, "", ("metrics.auc UP",))


def test_values_and_keys_are_bound_not_spliced(engine: Engine) -> None:
    assert ids(engine, "tags.`x'); DROP TABLE runs; --` = 'a'") == []
    assert ids(engine, "params.model = 'x'' OR ''1''=''1'") == []
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(runs)).scalar_one() == len(DATA)


@pytest.mark.parametrize(
    ("pattern", "like", "glob"),
    [
        ("abc", "abc", "abc"),
        ("a%b_c", "a%b_c", "a*b?c"),
        ("a\\%b\\_c\\\\", "a\\%b\\_c\\\\", "a%b_c\\"),
        ("*?[]", "*?[]", "[*][?][[]]"),
        ("trailing\\", "trailing\\\\", "trailing\\"),
        ("\\x", "x", "x"),
    ],
)
def test_like_patterns(pattern: str, like: str, glob: str) -> None:
    assert like_patterns(pattern) == (like, glob)


@pytest.mark.parametrize(("walk_from", "join"), [(0, "JOIN"), (INDEX_WALK_FROM, "LEFT OUTER JOIN")])
def test_the_index_walk_is_chosen_by_experiment_size(
    engine: Engine, walk_from: int, join: str
) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        found = ids(engine, "metrics.auc > 0.5", "metrics.auc DESC", walk_from=walk_from)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert found == ["r1", "r4", "r8", "r2"]
    search_sql = statements[-1]
    assert f"FROM runs {join} metric_series AS order_0" in search_sql


def test_the_index_walk_goes_on_with_runs_without_a_value(engine: Engine) -> None:
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        # r3's auc is NaN, r7 has none: both come after the walk, NaN first.
        found = ids(engine, "", "metrics.auc DESC", walk_from=0)
        page, token = search(engine, "", ("metrics.auc DESC",), limit=5, walk_from=0)
        rest, _ = search(engine, "", ("metrics.auc DESC",), page_token=token, walk_from=0)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert found == page + rest == ["r1", "r4", "r8", "r2", "r3", "r7"]
    walks = [sql for sql in statements if "FROM runs JOIN metric_series AS order_0" in sql]
    assert walks and all("order_0.value IS NOT NULL" in sql for sql in walks)
    assert any("LEFT OUTER JOIN" in sql and "order_0.value IS NULL" in sql for sql in statements)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlMetadataStore]:
    if request.param == "sqlite":
        uri = f"sqlite:///{tmp_path / 'noria.db'}"
    else:
        uri = request.getfixturevalue("postgres_uri")
    with SqlMetadataStore(uri) as opened:
        opened.initialize()
        yield opened


def test_through_the_repos_metrics_compare_their_latest_point(store: SqlMetadataStore) -> None:
    experiment = store.experiments.create_experiment("search")
    points = {
        "falls": [(0, 0.9), (1, 0.2)],
        "rises": [(1, 0.8), (0, 0.1)],  # logged out of step order
        "ends-nan": [(0, 0.9), (2, NAN)],
    }
    made = {}
    for start, (name, series) in enumerate(points.items()):
        run = store.runs.create_run(experiment.id, name=name, user="u", start_time=start)
        metrics = [Metric("auc", value, timestamp=100, step=step) for step, value in series]
        store.runs.log_batch(run.id, metrics=metrics, params=[Param("model", name)])
        made[name] = run.id

    def names(filter: str, *order_by: str, limit: int = 100) -> list[str]:
        page = store.runs.search_runs(RunSearch((experiment.id,), filter, order_by, limit=limit))
        return [run.info.name for run in page.items]

    assert names("metrics.auc > 0.5") == ["rises"]
    assert names("metrics.auc < 0.5") == ["falls"]
    assert names("metrics.auc IS NOT NULL", "metrics.auc DESC") == ["rises", "falls", "ends-nan"]
    assert names("params.model LIKE '%s'") == ["rises", "falls"]
    first = store.runs.search_runs(RunSearch((experiment.id,), limit=2))
    assert [run.id for run in first.items] == [made["ends-nan"], made["rises"]]
    assert first.next_page_token is not None
    rest = store.runs.search_runs(
        RunSearch((experiment.id,), limit=2, page_token=first.next_page_token)
    )
    assert [run.id for run in rest.items] == [made["falls"]]
    assert rest.next_page_token is None
