"""``noria-model.yaml``: what a model directory holds and how to load it.

The manifest names the flavor that reads the payload (with the flavor's own record of its
files), the signature, the stored input example, the environment the model was saved in, free
metadata, when it was made and by which Noria. Reading it checks every field; a mistake is an
InvalidArgument naming the file and the field, e.g.
``…/noria-model.yaml, field 'signature.inputs.columns.0.type': Input should be 'bool', …``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from noria.errors import InvalidArgument, NotFound, Unsupported
from noria.models.environment import ModelEnvironment
from noria.models.signature import ModelSignature

MANIFEST_FILE = "noria-model.yaml"
REQUIREMENTS_FILE = "requirements.txt"
FORMAT_VERSION = 1

_HEADER = """\
# A Noria model. Load it with noria.models.format.load_model(<this directory>).
# flavor       the library that reads the payload; payload lists the flavor's files
# signature    the inputs the model takes (checked at predict) and the outputs it returns
# environment  the Python and package versions it was saved with (also in requirements.txt)
"""


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class InputExampleRef(_Record):
    """Where the input example is stored in the model directory, and how."""

    file: str
    format: Literal["parquet", "json"]


class ModelManifest(_Record):
    format_version: int = FORMAT_VERSION
    flavor: str
    payload: dict[str, JsonValue]  # the flavor's own record: its files, model class, format
    signature: ModelSignature | None = None
    input_example: InputExampleRef | None = None
    environment: ModelEnvironment
    code_paths: tuple[str, ...] = ()  # copied under code/, put on sys.path while loading
    metadata: dict[str, JsonValue] = {}
    created_at: datetime
    noria_version: str


def write_manifest(manifest: ModelManifest, directory: Path) -> Path:
    """Write ``noria-model.yaml`` (and ``requirements.txt``) into ``directory``."""
    document = manifest.model_dump(mode="json", exclude_none=True)
    signature = document.get("signature", {})
    for schema in signature.values():
        key = "columns" if schema["kind"] == "table" else "tensors"
        schema[key] = [_compact(item) for item in schema[key]]
    text = yaml.dump(document, Dumper=_dumper(), sort_keys=False, allow_unicode=True, width=100)
    path = directory / MANIFEST_FILE
    path.write_text(_HEADER + text, encoding="utf-8")
    (directory / REQUIREMENTS_FILE).write_text(
        manifest.environment.requirements_txt(), encoding="utf-8"
    )
    return path


class _FlowDict(dict[str, Any]):
    """A column or tensor prints on one line: ``- {name: age, type: int64}``."""


def _dumper() -> Any:
    dumper: Any = type("ManifestDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(
        _FlowDict,
        lambda dump, data: dump.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True),
    )
    return dumper


def _compact(item: dict[str, Any]) -> _FlowDict:
    # optional: false is the default; leaving it out lets the optional columns stand out.
    return _FlowDict({key: value for key, value in item.items() if value is not False})


def read_manifest(directory: Path) -> ModelManifest:
    """The manifest of the model in ``directory``, every field checked."""
    path = directory / MANIFEST_FILE
    if not directory.is_dir():
        raise NotFound(f"no model directory at {directory}")
    if not path.is_file():
        raise NotFound(
            f"{directory} has no {MANIFEST_FILE}, so it is not a Noria model directory "
            "(save one with noria.models.format.save_model)"
        )
    document = _parse_yaml(path)
    version = document.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise Unsupported(
            f"{path} has format_version {version}, newer than this Noria reads "
            f"({FORMAT_VERSION}); upgrade Noria to load it"
        )
    try:
        return ModelManifest.model_validate(document)
    except ValidationError as exc:
        raise InvalidArgument(f"{path} is not a valid model manifest: {_problems(exc)}") from None


def _parse_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InvalidArgument(f"{path} is not valid YAML{where}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise InvalidArgument(f"{path} is not UTF-8 text: {exc}") from None
    if not isinstance(document, dict):
        raise InvalidArgument(
            f"{path} must hold a mapping of fields (flavor, payload, environment, …); "
            f"it holds {type(document).__name__}"
        )
    return document


def _problems(error: ValidationError) -> str:
    problems = []
    for item in error.errors()[:5]:
        field = ".".join(str(part) for part in item["loc"]) or "(document)"
        problems.append(f"field {field!r}: {item['msg']}")
    more = error.error_count() - len(problems)
    return "; ".join(problems) + (f"; and {more} more" if more > 0 else "")
