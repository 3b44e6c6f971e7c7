"""The step code digest: what changes it (and what must not)."""

from __future__ import annotations

import json
import types

from noria.pipelines.code_digest import code_digest, is_local_module
from tests.unit.pipelines.workspace import Workspace

HELPERS = """
    OFFSET = 1

    def adjust(value):
        return value + OFFSET
"""

STEPS = """
    import helpers_{suffix} as helpers

    LIMIT = 10

    def clamp(value):
        return min(value, LIMIT)

    def scaled(values, factor=2):
        return [clamp(helpers.adjust(v)) * factor for v in values]

    def unrelated(values):
        return len(values)
"""


def digests(space: Workspace) -> tuple[str, str]:
    module = space.load("steps")
    return code_digest(module.scaled), code_digest(module.unrelated)


def test_same_code_same_digest(space: Workspace) -> None:
    space.write("helpers", HELPERS)
    space.write("steps", STEPS)
    first = digests(space)
    assert digests(space) == first
    assert first[0] != first[1]


def test_edits_change_only_the_digests_of_steps_that_use_them(space: Workspace) -> None:
    space.write("helpers", HELPERS)
    space.write("steps", STEPS)
    scaled, unrelated = digests(space)

    space.write("steps", STEPS.replace("* factor", "* factor + 0"))  # the step itself
    assert digests(space) == (digests(space)[0], unrelated)
    assert digests(space)[0] != scaled

    space.write("steps", STEPS.replace("min(value, LIMIT)", "max(value, LIMIT)"))  # a helper
    assert digests(space)[0] not in (scaled,) and digests(space)[1] == unrelated

    space.write("steps", STEPS.replace("LIMIT = 10", "LIMIT = 11"))  # a constant it uses
    assert digests(space)[0] != scaled and digests(space)[1] == unrelated

    space.write("steps", STEPS)
    assert digests(space) == (scaled, unrelated)
    space.write("helpers", HELPERS.replace("OFFSET = 1", "OFFSET = 2"))  # an imported module
    assert digests(space) == (digests(space)[0], unrelated)
    assert digests(space)[0] != scaled


def test_from_imports_and_imports_inside_the_function_count(space: Workspace) -> None:
    space.write("helpers", HELPERS)
    space.write(
        "steps",
        """
        from helpers_{suffix} import adjust

        def direct(value):
            return adjust(value)

        def inner(value):
            import helpers_{suffix}
            return helpers_{suffix}.adjust(value)
        """,
    )
    module = space.load("steps")
    before = code_digest(module.direct), code_digest(module.inner)
    space.write("helpers", HELPERS.replace("+ OFFSET", "- OFFSET"))
    module = space.load("steps")
    after = code_digest(module.direct), code_digest(module.inner)
    assert before[0] != after[0] and before[1] != after[1]


def test_installed_and_standard_modules_are_not_local() -> None:
    assert not is_local_module(json)
    import pytest

    assert not is_local_module(pytest)
    import noria

    assert not is_local_module(noria)
    assert not is_local_module(types.ModuleType("built_in_like"))
