"""Contract every store's logged-model repo must pass (MLflow 3 logged models).

Subclass :class:`LoggedModelContract` in a ``Test*`` class with a ``store`` fixture
yielding an initialized metadata store.
"""

from __future__ import annotations

import uuid

import pytest

from noria.domain.logged_models import LoggedModelStatus, NewLoggedModel, is_model_id
from noria.domain.tracking import RunArtifact
from noria.errors import InvalidArgument, NotFound
from noria.ports.logged_models import LoggedModelSearch
from noria.ports.metadata import MetadataStore

DIGEST = "sha256:" + "ab" * 32


class LoggedModelContract:
    @pytest.fixture
    def experiment_id(self, store: MetadataStore) -> str:
        return store.experiments.create_experiment(f"logged-{uuid.uuid4().hex[:10]}").id

    @staticmethod
    def run_id(store: MetadataStore, experiment_id: str) -> str:
        run = store.runs.create_run(experiment_id, name="train", user="ana", start_time=1)
        return run.info.id

    def test_create_get_finalize_and_entries(
        self, store: MetadataStore, experiment_id: str
    ) -> None:
        run = self.run_id(store, experiment_id)
        new = NewLoggedModel(experiment_id, "model", run, "sklearn", {"flavor": "sk"}, {"C": "1.0"})
        created = store.logged_models.create(new)
        assert is_model_id(created.id) and created.uri == f"models:/{created.id}"
        assert created.status is LoggedModelStatus.PENDING and created.source_run_id == run
        assert (created.tags, created.params) == ({"flavor": "sk"}, {"C": "1.0"})
        ready = store.logged_models.update(
            created.id,
            status=LoggedModelStatus.READY,
            set_tags={"stage": "ok"},
            delete_tags=["flavor"],
            params={"C": "1.0", "max_iter": "100"},
        )
        assert ready.status is LoggedModelStatus.READY and ready.tags == {"stage": "ok"}
        assert ready.params == {"C": "1.0", "max_iter": "100"}
        assert store.logged_models.get(created.id) == ready
        with pytest.raises(InvalidArgument, match="'C'"):
            store.logged_models.update(created.id, params={"C": "2.0"})

    def test_unknown_references_are_refused(self, store: MetadataStore, experiment_id: str) -> None:
        with pytest.raises(NotFound, match="'nope'"):
            store.logged_models.get("nope")
        with pytest.raises(NotFound):
            store.logged_models.create(NewLoggedModel("999999999", "model"))
        with pytest.raises(NotFound, match="'f00'"):
            store.logged_models.create(NewLoggedModel(experiment_id, "model", "f00"))
        with pytest.raises(InvalidArgument, match="a/b"):
            store.logged_models.create(NewLoggedModel(experiment_id, "a/b"))

    def test_search_by_name_and_run_newest_first(
        self, store: MetadataStore, experiment_id: str
    ) -> None:
        run = self.run_id(store, experiment_id)
        first = store.logged_models.create(NewLoggedModel(experiment_id, "model", run))
        second = store.logged_models.create(NewLoggedModel(experiment_id, "model"))
        other = store.logged_models.create(NewLoggedModel(experiment_id, "scaler", run))
        everything = LoggedModelSearch((experiment_id,))
        assert [m.id for m in store.logged_models.search(everything).items] == [
            other.id,
            second.id,
            first.id,
        ]
        named = LoggedModelSearch((experiment_id,), name="model", source_run_id=run)
        assert [m.id for m in store.logged_models.search(named).items] == [first.id]
        page = store.logged_models.search(everything, limit=2)
        assert len(page.items) == 2 and page.next_page_token
        rest = store.logged_models.search(everything, limit=2, page_token=page.next_page_token)
        assert [m.id for m in rest.items] == [first.id] and rest.next_page_token is None
        store.logged_models.delete(second.id)
        assert second.id not in [m.id for m in store.logged_models.search(everything).items]
        with pytest.raises(NotFound):
            store.logged_models.get(second.id)
        assert store.logged_models.get(second.id, allow_deleted=True).deleted

    def test_files_by_folder(self, store: MetadataStore, experiment_id: str) -> None:
        model = store.logged_models.create(NewLoggedModel(experiment_id, "model"))
        files = [
            RunArtifact("MLmodel", DIGEST, 10, "text/yaml"),
            RunArtifact("data/model.pkl", DIGEST, 20, "application/octet-stream"),
            RunArtifact("data/extra/x.txt", DIGEST, 3, "text/plain"),
        ]
        store.logged_models.record_files(model.id, files)
        store.logged_models.record_files(model.id, [RunArtifact("MLmodel", DIGEST, 11, "t")])
        assert [f.path for f in store.logged_models.list_files(model.id)] == [
            "MLmodel",
            "data/extra/x.txt",
            "data/model.pkl",
        ]
        assert [f.path for f in store.logged_models.list_files(model.id, "data")] == [
            "data/extra/x.txt",
            "data/model.pkl",
        ]
        found = store.logged_models.find_file(model.id, "MLmodel")
        assert found is not None and (found.size, found.media_type) == (11, "t")
        assert store.logged_models.find_file(model.id, "absent") is None
        with pytest.raises(NotFound):
            store.logged_models.find_file("m-" + "0" * 32, "MLmodel")
        with pytest.raises(InvalidArgument, match=r"'\.\./x'"):
            store.logged_models.record_files(model.id, [RunArtifact("../x", DIGEST, 1, "t")])
