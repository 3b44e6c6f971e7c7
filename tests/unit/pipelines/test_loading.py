"""Loading pipeline files: concurrent imports of one file run it once, fully."""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path
from types import ModuleType

from noria.pipelines.loading import import_file


def test_threads_importing_one_file_run_it_once_and_see_it_whole(tmp_path: Path) -> None:
    name = f"slow_steps_{uuid.uuid4().hex}"
    runs = tmp_path / "runs.txt"
    source = tmp_path / f"{name}.py"
    source.write_text(
        "import time\n"
        f"with open({str(runs)!r}, 'a') as runs:\n"
        "    runs.write('run\\n')\n"
        "time.sleep(0.3)  # a slow import: the others arrive while it runs\n"
        "READY = True\n"
    )
    got: list[ModuleType] = []
    whole: list[bool] = []
    start = threading.Barrier(4)

    def load() -> None:
        start.wait()
        module = import_file(source)
        whole.append(getattr(module, "READY", False))  # as it was when handed over
        got.append(module)

    threads = [threading.Thread(target=load) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(got) == 4
        assert whole == [True] * 4
        assert len({id(module) for module in got}) == 1
        assert runs.read_text() == "run\n"
    finally:
        sys.modules.pop(name, None)
