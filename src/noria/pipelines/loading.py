"""Find pipelines and steps by reference: ``module:name`` or ``path/to/file.py:name``."""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from noria.domain.pipelines import StepReference
from noria.errors import InvalidArgument, NotFound

_SCRIPT_MODULE = "__noria_main__"
# Steps of the thread executor load their files at once: one import at a time, so a file
# runs once and nobody sees its module half-executed. Re-entrant: a file may import another.
_IMPORT_LOCK = threading.RLock()


def _import_failure(module: str, exc: BaseException) -> InvalidArgument:
    frames = traceback.extract_tb(exc.__traceback__)
    where = ""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f" at {exc.filename}:{exc.lineno}"
    elif frames:
        where = f" at {frames[-1].filename}:{frames[-1].lineno}"
    detail = str(exc).strip().splitlines()
    return InvalidArgument(
        f"Cannot import {module}{where}: {type(exc).__name__}: {detail[0] if detail else ''}"
    )


def _add_to_path(folder: Path) -> None:
    entry = str(folder.resolve())
    if entry not in sys.path:
        sys.path.insert(0, entry)


def import_file(path: Path, name: str | None = None) -> ModuleType:
    """Import a ``.py`` file as module ``name`` (its stem), with its folder on ``sys.path``;
    safe to call from several threads."""
    if not path.is_file():
        raise NotFound(f"File {path} does not exist.")
    with _IMPORT_LOCK:
        return _import_file(path, name or path.stem)


def _import_file(path: Path, module_name: str) -> ModuleType:
    existing = sys.modules.get(module_name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == (
        path.resolve()
    ):
        return existing
    _add_to_path(path.parent)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise InvalidArgument(f"{path} is not an importable Python file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - the user's module failed: say where
        del sys.modules[module_name]
        raise _import_failure(str(path), exc) from None
    return module


def import_module(name: str) -> ModuleType:
    """Import a dotted module the way ``python -m`` would, from the working directory."""
    _add_to_path(Path.cwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            raise InvalidArgument(
                f"Cannot import module {name!r} ({exc}): run from the folder that holds it, "
                "or name the file, e.g. pipelines/train.py:training."
            ) from None
        raise _import_failure(name, exc) from None
    except Exception as exc:  # noqa: BLE001 - the user's module failed: say where
        raise _import_failure(name, exc) from None


def _walk(module: ModuleType, qualname: str, shown: str) -> Any:
    found: Any = module
    for part in qualname.split("."):
        if not hasattr(found, part):
            names = sorted(n for n in vars(module) if not n.startswith("_"))
            raise InvalidArgument(
                f"{shown} does not exist: module {module.__name__} has no {part!r} "
                f"(it has: {', '.join(names[:20]) or 'nothing public'})."
            )
        found = getattr(found, part)
    return found


def load_object(spec: str) -> Any:
    """The object ``module:name`` or ``file.py:name`` points at."""
    target, sep, attribute = spec.rpartition(":")
    if not sep or not target or not attribute:
        raise InvalidArgument(
            f"Invalid pipeline reference {spec!r}: use module:pipeline "
            "(e.g. flows.train:training) or path/to/file.py:pipeline."
        )
    module = import_file(Path(target)) if target.endswith(".py") else import_module(target)
    return _walk(module, attribute, spec)


def load_pipeline(spec: str) -> Any:
    """The :class:`~noria.pipelines.authoring.Pipeline` that ``spec`` names."""
    from noria.pipelines.authoring import Pipeline

    found = load_object(spec)
    if not isinstance(found, Pipeline):
        raise InvalidArgument(
            f"{spec} is a {type(found).__name__}, not a pipeline: decorate the function "
            "with @noria.pipeline."
        )
    return found


def _import_root(reference: StepReference) -> Path | None:
    if reference.source_file is None:
        return None
    root = Path(reference.source_file).parent
    for _ in range(reference.module.count(".")):
        root = root.parent
    return root


def resolve_step(reference: StepReference) -> Any:
    """The step function a reference names, importing its module in this process."""
    if reference.module == "__main__":
        if reference.source_file is None:
            raise InvalidArgument(
                f"Step {reference.qualname} was defined in an interactive session: other "
                "processes cannot import it. Define it in a module."
            )
        module = import_file(Path(reference.source_file), _SCRIPT_MODULE)
    else:
        try:
            module = importlib.import_module(reference.module)
        except ModuleNotFoundError:
            root = _import_root(reference)
            if root is None:
                raise
            _add_to_path(root)
            module = importlib.import_module(reference.module)
    found = _walk(module, reference.qualname, str(reference))
    return getattr(found, "function", found)  # a Step: the function it wraps
