"""Batch scoring: a model over Parquet/CSV files, a chunk at a time, locally or on Ray.

>>> predict_batch("models:/credit-risk@champion", "applications/", "scores/", client=client)
BatchScore(files=(FileScore(...), ...), rows=30000, seconds=1.9)

Each output row is the input row's columns plus ``prediction`` (``prediction.<name>`` for
models with named outputs) and, with ``proba=True``, ``proba`` (class probabilities). Every
input's columns are checked against the model's signature before anything is scored.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from noria.errors import InvalidArgument, NoriaError, NotFound
from noria.models.signature import ModelSignature, TableSchema, TensorSchema
from noria.serving.batch_files import (
    ChunkWriter,
    ScoringTask,
    input_columns,
    plan_files,
    read_chunks,
    row_count,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from noria.client import Client
    from noria.models.format import LoadedModel

Executor = Literal["local", "ray"]
EXECUTORS: tuple[Executor, ...] = ("local", "ray")
DEFAULT_BATCH_ROWS = 65_536
PREDICTION = "prediction"
PROBA = "proba"
MANIFEST = "noria-model.yaml"


@dataclass(frozen=True, slots=True)
class ScoringOptions:
    batch_rows: int = DEFAULT_BATCH_ROWS
    proba: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.batch_rows, bool) or not isinstance(self.batch_rows, int):
            raise InvalidArgument(f"batch_rows must be an integer; got {self.batch_rows!r}.")
        if self.batch_rows < 1:
            raise InvalidArgument(f"batch_rows must be at least 1; got {self.batch_rows}.")


@dataclass(frozen=True, slots=True)
class FileScore:
    input: Path
    output: Path
    rows: int
    chunks: int


@dataclass(frozen=True, slots=True)
class BatchScore:
    files: tuple[FileScore, ...]
    rows: int
    seconds: float


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """What a job will read and write, checked before any row is scored."""

    tasks: tuple[ScoringTask, ...]
    total_rows: int | None  # None when a CSV input's size is unknown until read

    @staticmethod
    def of(source: str | Path, target: str | Path, *, overwrite: bool = False) -> BatchPlan:
        tasks = plan_files(
            Path(source).expanduser(), Path(target).expanduser(), overwrite=overwrite
        )
        counts = [row_count(task.input) for task in tasks]
        total = None if None in counts else sum(count or 0 for count in counts)
        return BatchPlan(tuple(tasks), total)


OnRows = Callable[[int], None]
OnFile = Callable[[FileScore], None]


def predict_batch(
    model: str | Path,
    source: str | Path,
    target: str | Path,
    *,
    client: Client | None = None,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    proba: bool = False,
    executor: Executor = "local",
    overwrite: bool = False,
) -> BatchScore:
    """Score ``source`` (a file or folder) with ``model`` (URI or model folder) into ``target``."""
    plan = BatchPlan.of(source, target, overwrite=overwrite)
    directory = model_folder(model, client=client)
    return run_batch(directory, plan, ScoringOptions(batch_rows, proba), executor=executor)


def is_model_uri(model: str | Path) -> bool:
    """Whether ``model`` names a logged or registered model (else it is a local folder)."""
    return isinstance(model, str) and model.startswith(("models:/", "runs:/"))


def model_folder(model: str | Path, *, client: Client | None = None) -> Path:
    """A local model folder as is; ``runs:/…`` and ``models:/…`` fetched into the cache."""
    if is_model_uri(model):
        from noria.fluent_models import model_directory

        return model_directory(str(model), client=client)
    local = Path(model).expanduser()
    if not (local / MANIFEST).is_file():
        raise NotFound(
            f"{model} is neither a model URI (models:/name@alias, models:/name/3, "
            f"runs:/<id>/model) nor a model folder (no {MANIFEST} in {local})."
        )
    return local


def run_batch(
    directory: Path,
    plan: BatchPlan,
    options: ScoringOptions,
    *,
    executor: Executor = "local",
    on_rows: OnRows | None = None,
    on_file: OnFile | None = None,
) -> BatchScore:
    """Score every task of ``plan`` with the model in ``directory``.

    Every input's columns are checked against the signature first (from the manifest, before
    the model loads); Ray workers load the model themselves.
    """
    from noria.models.format import load_model
    from noria.models.manifest import read_manifest

    if executor not in EXECUTORS:
        raise InvalidArgument(f"Unknown executor {executor!r}: use 'local' or 'ray'.")
    began = time.perf_counter()
    check_columns(read_manifest(directory).signature, plan.tasks)
    if executor == "ray":
        from noria.serving.batch_ray import score_on_ray

        files = score_on_ray(directory, plan.tasks, options, on_rows=on_rows, on_file=on_file)
    else:
        model = load_model(directory)
        files = []
        for task in plan.tasks:
            files.append(score_file(model, task, options, on_rows=on_rows))
            if on_file is not None:
                on_file(files[-1])
    rows = sum(result.rows for result in files)
    return BatchScore(tuple(files), rows, time.perf_counter() - began)


def check_columns(signature: ModelSignature | None, tasks: Sequence[ScoringTask]) -> None:
    """Every input has the columns the model requires, or one error naming file and columns."""
    required = _required_columns(signature)
    for task in tasks:
        present = input_columns(task.input)
        missing = [name for name in required if name not in present]
        if missing:
            raise InvalidArgument(
                f"{task.input} lacks column(s) {missing} that the model needs; its columns "
                f"are {present}. Add them, or score it with a model for this data."
            )


def score_file(
    model: LoadedModel, task: ScoringTask, options: ScoringOptions, *, on_rows: OnRows | None = None
) -> FileScore:
    """Score one file into its output, ``options.batch_rows`` rows per ``predict`` call."""
    writer = ChunkWriter(task.output)
    rows = chunks = 0
    try:
        for chunk in read_chunks(task.input, options.batch_rows):
            writer.write(_scored(model, chunk, options, task.input, first_row=rows))
            rows += chunk.num_rows
            chunks += 1
            if on_rows is not None:
                on_rows(chunk.num_rows)
        if chunks == 0:
            writer.write(_empty_output(task.input))
        writer.commit()
    except BaseException:
        writer.discard()
        raise
    return FileScore(task.input, task.output, rows, chunks)


def _scored(
    model: LoadedModel, chunk: pa.Table, options: ScoringOptions, path: Path, *, first_row: int
) -> pa.Table:
    where = f"{path} (rows {first_row + 1:,} to {first_row + chunk.num_rows:,})"
    data = model_input(model, chunk)
    try:
        output = model.predict(data)
        probabilities = model.predict_proba(data) if options.proba else None
    except NoriaError as exc:
        raise type(exc)(f"{where}: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - any library's failure, reported with the rows
        raise InvalidArgument(
            f"{where}: the model failed ({type(exc).__name__}: {exc}); check these rows."
        ) from None
    scored = chunk
    for name, column in output_columns(output, chunk.num_rows, where).items():
        scored = scored.append_column(name, column)
    if probabilities is not None:
        scored = scored.append_column(PROBA, _as_column(probabilities, chunk.num_rows, where))
    return scored


def model_input(model: LoadedModel, chunk: pa.Table) -> Any:
    """The chunk in the shape the model's signature takes (only the columns it uses)."""
    signature = model.signature
    if signature is None:
        return chunk.to_pandas()
    inputs = signature.inputs
    if isinstance(inputs, TableSchema):
        names = [c.name for c in inputs.columns if c.name in chunk.column_names]
        return chunk.select(names).to_pandas()
    if len(inputs.tensors) == 1 and inputs.tensors[0].name is None:
        return chunk.to_pandas().to_numpy()
    return {spec.name: chunk[spec.name].to_numpy() for spec in _named(inputs)}


def _named(inputs: TensorSchema) -> list[Any]:
    return [spec for spec in inputs.tensors if spec.name is not None]


def _required_columns(signature: ModelSignature | None) -> list[str]:
    if signature is None:
        return []
    if isinstance(signature.inputs, TableSchema):
        return [c.name for c in signature.inputs.columns if not c.optional]
    return [str(spec.name) for spec in _named(signature.inputs)]


def output_columns(output: Any, rows: int, where: str) -> dict[str, pa.Array]:
    """The model's answer as output columns: ``prediction``, or ``prediction.<name>`` each."""
    from noria.serving.predictions import PREDICTIONS, Predictions

    try:
        answer = Predictions.from_model(output, rows)
    except NoriaError as exc:
        raise InvalidArgument(f"{where}: {exc.message}") from None
    if not answer.named:
        return {PREDICTION: _as_column(answer.arrays[PREDICTIONS], rows, where)}
    return {
        f"{PREDICTION}.{name}": _as_column(array, rows, where)
        for name, array in answer.arrays.items()
    }


def _as_column(values: Any, rows: int, where: str) -> pa.Array:
    """A 1-D array as is; a 2-D one (probabilities, multi-output) as one list per row."""
    import numpy as np
    import pyarrow as pa

    array = np.asarray(values)
    if array.ndim == 0 or array.shape[0] != rows:
        raise InvalidArgument(
            f"{where}: the model returned {array.shape} for {rows} rows; it must return one "
            "value per row."
        )
    if array.ndim == 1:
        return pa.array(array if array.dtype != object else array.tolist())
    flat = pa.array(array.reshape(rows, -1).ravel())
    return pa.FixedSizeListArray.from_arrays(flat, int(np.prod(array.shape[1:])))


def _empty_output(path: Path) -> pa.Table:
    """An input with no rows: its columns, plus an empty prediction column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pq.read_schema(path) if path.name.lower().endswith((".parquet", ".pq")) else None
    base = schema.empty_table() if schema is not None else pa.table({})
    return base.append_column(PREDICTION, pa.nulls(0))


def score_in_worker(
    files: dict[str, bytes], task: ScoringTask, options: ScoringOptions
) -> FileScore | tuple[str, str]:
    """A Ray task: rebuild the model folder from ``files``, score ``task``.

    Errors come back as ``(error_code, message)``: any exception type need not survive pickling.
    """
    import tempfile

    from noria.models.format import load_model

    try:
        with tempfile.TemporaryDirectory(prefix="noria-batch-model-") as folder:
            for relative, data in files.items():
                target = Path(folder, relative)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            return score_file(load_model(folder), task, options)
    except NoriaError as exc:
        return exc.error_code, exc.message
