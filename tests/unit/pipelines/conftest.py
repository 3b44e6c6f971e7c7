from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.pipelines.workspace import Workspace, workspace


@pytest.fixture
def space(tmp_path: Path) -> Iterator[Workspace]:
    with workspace(tmp_path / "flows") as created:
        yield created
