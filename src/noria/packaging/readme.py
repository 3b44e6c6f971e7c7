"""The README of a packaged model: what it is, how to build and run it, what it takes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from noria.models.input_example import read_example
from noria.models.manifest import ModelManifest
from noria.models.signature import TableSchema, TensorSchema
from noria.packaging.dockerfile import PORT, ImageSpec

EXAMPLE_ROWS = 5


def image_name(model_uri: str) -> str:
    """A Docker image name from the model URI: ``models:/credit@champion`` → ``credit-champion``."""
    body = model_uri.split(":", 1)[-1]
    words = "".join(ch.lower() if ch.isalnum() else " " for ch in body).split()
    return "-".join(words)[:100] or "noria-model"


def readme_text(spec: ImageSpec, manifest: ModelManifest, model_dir: Path) -> str:
    name = image_name(spec.model_uri)
    return f"""\
# {spec.model_uri}

A container build context for the {manifest.flavor} model `{spec.model_uri}`, served by
Noria {spec.noria_version} on port {PORT}. Written by `noria models package`.

| file | what it is |
|---|---|
| `Dockerfile` | `{spec.base_image}` (the model was saved with Python {spec.python_version}), \
a non-root user, a health check on `/health/ready`, entrypoint `noria serve /app/model` |
| `requirements.lock` | the exact version of every package the server and the model need |
| `wheels/` | the wheel of the Noria that packaged the model |
| `model/` | the model directory (`noria-model.yaml`, the payload, the input example) |

## Build and run

```sh
docker build -t {name} .
docker run --rm -p {PORT}:{PORT} {name}
curl http://localhost:{PORT}/health/ready
```

Without Docker, `noria models package {spec.model_uri} --out <dir> --verify` installs this
package into a fresh virtual environment, starts the image's `noria serve` command from there
and checks that the server answers the input example as the model predicts where it was
packaged.

## Inputs and outputs

{_signature_section(manifest)}

## Input example

{_example_section(manifest, model_dir)}
"""


def _signature_section(manifest: ModelManifest) -> str:
    if manifest.signature is None:
        return "The model has no signature: requests are passed to it unchecked."
    inputs = _schema_table(manifest.signature.inputs)
    outputs = (
        "Outputs: not recorded."
        if manifest.signature.outputs is None
        else f"Outputs:\n\n{_schema_table(manifest.signature.outputs)}"
    )
    return f"Inputs (checked before every prediction):\n\n{inputs}\n\n{outputs}"


def _schema_table(schema: TableSchema | TensorSchema) -> str:
    if isinstance(schema, TableSchema):
        rows = [
            f"| `{column.name}` | {column.type} | {'yes' if column.optional else 'no'} |"
            for column in schema.columns
        ]
        return "\n".join(["| column | type | optional |", "|---|---|---|", *rows])
    rows = [
        f"| {tensor.name or '-'} | {tensor.dtype} | "
        f"({', '.join('any' if size < 0 else str(size) for size in tensor.shape)}) |"
        for tensor in schema.tensors
    ]
    return "\n".join(["| tensor | dtype | shape |", "|---|---|---|", *rows])


def _example_section(manifest: ModelManifest, model_dir: Path) -> str:
    if manifest.input_example is None:
        return "The model was saved without an input example."
    example = read_example(model_dir, manifest.input_example)
    stored = f"`model/{manifest.input_example.file}`"
    return f"The first rows of the example stored in {stored}:\n\n```json\n{_preview(example)}\n```"


def _preview(example: Any) -> str:
    if hasattr(example, "columns"):  # a DataFrame: one JSON record per row
        records = json.loads(example.head(EXAMPLE_ROWS).to_json(orient="records"))
        return "\n".join(json.dumps(record) for record in records)
    if isinstance(example, dict):
        return json.dumps({name: array[:EXAMPLE_ROWS].tolist() for name, array in example.items()})
    return "\n".join(json.dumps(row) for row in example[:EXAMPLE_ROWS].tolist())
