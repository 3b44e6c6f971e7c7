"""``python -m noria.quickstart.package_check <package folder>``: verify a built package in
a fresh virtual environment (:func:`noria.packaging.verify.verify_package`) and print the
outcome as one JSON document. The quickstart runs it as a child process, so that the slow
install goes on beside the other stages and can be interrupted cleanly."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    from noria.errors import NoriaError
    from noria.packaging.verify import verify_package

    if len(argv) != 1:
        print("usage: python -m noria.quickstart.package_check PACKAGE_FOLDER", file=sys.stderr)
        return 2
    try:
        result = verify_package(Path(argv[0]))
    except NoriaError as exc:
        print(json.dumps({"ok": False, "problem": exc.message, "steps": []}))
        return 1
    steps = [{"name": s.name, "seconds": round(s.seconds, 2), "ok": s.ok} for s in result.steps]
    print(json.dumps({"ok": result.ok, "problem": result.problem, "steps": steps}))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
