"""The digest of a step's code: its source, the helpers it uses, and the local modules
it imports, so that editing any of them misses the cache.

- The step's own function and the functions, classes and simple constants of its own
  module that it uses (transitively) count by their source text, so that editing one
  step of a file leaves the other steps' caches valid.
- Other *local* modules it uses (a name bound to the module, or to something defined
  there; transitively through those modules' own imports) count by their whole file.
  Local means not in the standard library or an installed distribution
  (site-packages) and not Noria itself, whose version is part of every key instead.
"""

from __future__ import annotations

import dis
import hashlib
import inspect
import linecache
import os
import sys
import sysconfig
import threading
import types
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from noria.errors import InvalidArgument
from noria.pipelines.literals import canonical_json, is_literal, literal_form

_CONSTANT_TYPES = (bool, int, float, str, type(None))
_lock = threading.Lock()
# Per code object (or class): a reloaded module brings new ones, so these never go stale.
_sources: dict[Any, str] = {}
_names_used: dict[types.CodeType, frozenset[str]] = {}
_file_digests: dict[tuple[str, int, int], str] = {}


@lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[key] for key in ("stdlib", "platstdlib", "purelib", "platlib") if key in paths}
    roots.add(os.path.dirname(os.__file__))
    return tuple(sorted(os.path.realpath(root) + os.sep for root in roots))


def _module_file(module: types.ModuleType) -> str | None:
    file = getattr(module, "__file__", None)
    if not file or not file.endswith(".py"):
        return None  # built-in, frozen, or a compiled extension: never user code
    return os.path.realpath(str(file))


def is_local_module(module: types.ModuleType) -> bool:
    """User code: a ``.py`` file outside the standard library, site-packages and Noria."""
    if module.__name__.partition(".")[0] == "noria":
        return False
    file = _module_file(module)
    if file is None:
        return False
    parts = Path(file).parts
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not file.startswith(_library_roots())


def _code_objects(code: types.CodeType) -> Iterator[types.CodeType]:
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _code_objects(constant)


def _referenced_names(code: types.CodeType) -> frozenset[str]:
    """Global names and imported module names the code (and its nested code) uses."""
    with _lock:
        found = _names_used.get(code)
    if found is None:
        names: set[str] = set()
        for each in _code_objects(code):
            names.update(each.co_names)
            for instruction in dis.get_instructions(each):
                if instruction.opname == "IMPORT_NAME":
                    names.add(str(instruction.argval))
        found = frozenset(names)
        with _lock:
            _names_used[code] = found
    return found


def _file_digest(path: str) -> str:
    stat = os.stat(path)
    key = (path, stat.st_mtime_ns, stat.st_size)
    with _lock:
        found = _file_digests.get(key)
    if found is None:
        found = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        with _lock:
            _file_digests[key] = found
    return found


def _source_of(obj: Any) -> str:
    key = getattr(obj, "__code__", obj)
    with _lock:
        found = _sources.get(key)
    if found is not None:
        return found
    file = inspect.getsourcefile(obj)
    if file:
        linecache.checkcache(file)  # see edits made since the file was first read
    try:
        found = inspect.getsource(obj)
    except (OSError, TypeError) as exc:
        name = getattr(obj, "__qualname__", repr(obj))
        raise InvalidArgument(
            f"Cannot read the source of {name} to key the step cache ({exc}): define steps in "
            "a .py file, or pass cache=False."
        ) from None
    with _lock:
        _sources[key] = found
    return found


class _Collector:
    """Walks from a step to everything its result may depend on."""

    def __init__(self, home: types.ModuleType | None) -> None:
        self.home = home
        self.parts: dict[str, str] = {}  # label → digest or text
        self._seen_objects: set[int] = set()
        self._seen_modules: set[str] = set()

    def function(self, function: Callable[..., Any]) -> None:
        target = inspect.unwrap(function)
        if id(target) in self._seen_objects:
            return
        self._seen_objects.add(id(target))
        self.parts[f"source:{target.__qualname__}"] = _source_of(target)
        code = getattr(target, "__code__", None)
        namespace = getattr(target, "__globals__", {})
        if code is not None:
            self._names(_referenced_names(code), namespace)

    def _names(self, names: frozenset[str], namespace: dict[str, Any]) -> None:
        for name in sorted(names):
            if name in namespace:
                self.value(name, namespace[name])
            elif (module := sys.modules.get(name)) is not None:
                self.module(module)  # `import pkg.mod` inside a function

    def value(self, name: str, value: Any) -> None:
        """A global name the step's own code uses."""
        if isinstance(value, types.ModuleType):
            self.module(value)
        elif isinstance(value, _CONSTANT_TYPES) or is_literal(value):
            self.parts[f"constant:{name}"] = canonical_json(literal_form(value))
        else:
            self.defined_object(value)

    def defined_object(self, value: Any) -> None:
        """A function, class or instance: follow the module that defines it."""
        wrapped = getattr(value, "__wrapped__", value)  # a Step: its function
        defined_in = sys.modules.get(getattr(wrapped, "__module__", None) or "")
        if defined_in is None:
            return
        if defined_in is self.home:
            if inspect.isfunction(wrapped) or inspect.isclass(wrapped):
                self._same_module_object(wrapped)
        elif is_local_module(defined_in):
            self.module(defined_in)

    def _same_module_object(self, obj: Any) -> None:
        if inspect.isfunction(obj):
            self.function(obj)
        elif id(obj) not in self._seen_objects:
            self._seen_objects.add(id(obj))
            self.parts[f"source:{obj.__qualname__}"] = _source_of(obj)
            for member in vars(obj).values():
                if inspect.isfunction(member):
                    self.function(member)

    def module(self, module: types.ModuleType) -> None:
        if module is self.home or not is_local_module(module):
            return
        if module.__name__ in self._seen_modules:
            return
        self._seen_modules.add(module.__name__)
        file = _module_file(module)
        if file is not None:
            self.parts[f"module:{module.__name__}"] = _file_digest(file)
        for name, value in list(vars(module).items()):
            if name.startswith("__") or isinstance(value, _CONSTANT_TYPES):
                continue  # its file's digest already covers its own constants
            if isinstance(value, types.ModuleType):
                self.module(value)
            else:
                self.defined_object(value)


def code_digest(function: Callable[..., Any]) -> str:
    """sha256 over the step's source, its same-module helpers and its local modules.

    Sources are read once per code object and files hashed once per modification time,
    so keying a step again costs a walk over names, not a read of files.
    """
    target = inspect.unwrap(function)
    collector = _Collector(sys.modules.get(target.__module__))
    collector.function(target)
    digest = hashlib.sha256()
    for label in sorted(collector.parts):
        digest.update(f"{label}\0{collector.parts[label]}\0".encode())
    return digest.hexdigest()
