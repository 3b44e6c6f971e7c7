"""What ``search_runs`` returns: a list of runs that also converts to a DataFrame."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from noria.domain.tracking import Run
from noria.errors import Unsupported

if TYPE_CHECKING:
    import pandas


class RunList(list[Run]):
    """Runs in search order; ``next_page_token`` fetches the following page."""

    def __init__(self, runs: list[Run], next_page_token: str | None = None) -> None:
        super().__init__(runs)
        self.next_page_token = next_page_token

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per run: attributes, then ``params.*``, ``metrics.*``, ``tags.*``."""
        records = []
        for run in self:
            info = run.info
            record: dict[str, Any] = {
                "run_id": info.id,
                "experiment_id": info.experiment_id,
                "name": info.name,
                "status": info.status.value,
                "start_time": info.start_time,
                "end_time": info.end_time,
                "user": info.user,
                "parent_id": info.parent_id,
            }
            record.update({f"params.{k}": v for k, v in run.params.items()})
            record.update({f"metrics.{k}": m.value for k, m in run.metrics.items()})
            record.update({f"tags.{k}": v for k, v in run.tags.items()})
            records.append(record)
        return records

    def to_pandas(self) -> pandas.DataFrame:
        try:
            import pandas
        except ImportError:
            raise Unsupported("to_pandas needs pandas: pip install pandas.") from None
        frame = pandas.DataFrame.from_records(self.to_records())
        for column in ("start_time", "end_time"):
            if column in frame:
                frame[column] = pandas.to_datetime(frame[column], unit="ms", utc=True)
        return frame
