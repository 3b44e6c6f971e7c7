"""Monitor records: monitors, their per-window results (time series) and alerts.

Monitors are evaluated by the client (``client.monitors.run``, the scheduler); these routes
keep what it computes, so a monitor run against a remote server stores what a local run does.
The audit events and lineage edges around each change are written by the client's service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from noria.domain.alerts import AlertStatus
from noria.domain.paging import MAX_PAGE_SIZE
from noria.errors import InvalidArgument
from noria.server.deps import ClientDep
from noria.wire.monitors import (
    AlertBody,
    AlertPage,
    LeaseAnswer,
    LeaseBody,
    LeaseRelease,
    MarkBody,
    MarkList,
    MonitorBody,
    MonitorPage,
    ResultBody,
    ResultPage,
    SeriesBody,
)

router = APIRouter(prefix="/api/v1", tags=["monitors"])
Name = Annotated[str, Path(description="The monitor's name ('.' may be sent as %2E).")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)]
StartMs = Annotated[int | None, Query(description="Windows starting at or after (ms).")]
EndMs = Annotated[int | None, Query(description="Windows starting before (ms).")]


@router.post("/monitors", status_code=status.HTTP_201_CREATED)
def create_monitor(body: MonitorBody, client: ClientDep) -> MonitorBody:
    """409 ALREADY_EXISTS when the name is taken; 400 when a rule or field is invalid."""
    return MonitorBody.from_domain(client.metadata.monitors.create(body.to_domain()))


@router.get("/monitors")
def list_monitors(
    client: ClientDep,
    deployment: Annotated[str | None, Query(description="Only those watching it.")] = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> MonitorPage:
    """By name."""
    page = client.metadata.monitors.list_monitors(
        deployment=deployment, limit=limit, page_token=page_token
    )
    return MonitorPage(
        monitors=[MonitorBody.from_domain(m) for m in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/monitors/{name}")
def get_monitor(name: Name, client: ClientDep) -> MonitorBody:
    return MonitorBody.from_domain(client.metadata.monitors.get(name))


@router.put("/monitors/{name}")
def replace_monitor(name: Name, body: MonitorBody, client: ClientDep) -> MonitorBody:
    """A new definition, keeping the monitor's results and alerts: 404 when there is no
    such monitor, 409 CONFLICT when the deployment or window differ."""
    if body.name != name:
        raise InvalidArgument(
            f"The body names monitor {body.name!r} but the path names {name!r}: send both the same."
        )
    return MonitorBody.from_domain(client.metadata.monitors.replace(body.to_domain()))


@router.delete("/monitors/{name}")
def delete_monitor(name: Name, client: ClientDep) -> MonitorBody:
    """Removes its results and alerts too; returns what was stored."""
    return MonitorBody.from_domain(client.metadata.monitors.delete(name))


@router.post("/monitors/{name}/lease")
def claim_lease(name: Name, body: LeaseBody, client: ClientDep) -> LeaseAnswer:
    """Take the monitor's lease (see ``MonitorRepo.claim``): ``claimed`` false when another
    owner holds it. A run takes it first, so two schedulers never evaluate one monitor at once."""
    claimed = client.metadata.monitors.claim(
        name, owner=body.owner, now_ms=body.now_ms, lease_ms=body.lease_ms
    )
    return LeaseAnswer(claimed=claimed)


@router.post("/monitors/{name}/lease/release")
def release_lease(name: Name, body: LeaseRelease, client: ClientDep) -> LeaseAnswer:
    """Give the lease back if ``owner`` holds it."""
    client.metadata.monitors.release(name, owner=body.owner)
    return LeaseAnswer(claimed=False)


@router.put("/monitors/{name}/results/{window_start}")
def save_result(name: Name, window_start: int, body: ResultBody, client: ClientDep) -> ResultBody:
    """Store one window's result, replacing an earlier one of that window."""
    if (body.monitor, body.window_start) != (name, window_start):
        raise InvalidArgument(
            f"The body is monitor {body.monitor!r}'s window {body.window_start}, but the path "
            f"names {name!r}'s window {window_start}; send it to its own path."
        )
    return ResultBody.from_domain(client.metadata.monitors.save_result(body.to_domain()))


@router.get("/monitors/{name}/results")
def list_results(
    name: Name,
    client: ClientDep,
    start_ms: StartMs = None,
    end_ms: EndMs = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> ResultPage:
    """Newest window first."""
    page = client.metadata.monitors.list_results(
        name, start_ms=start_ms, end_ms=end_ms, limit=limit, page_token=page_token
    )
    return ResultPage(
        results=[ResultBody.from_domain(r) for r in page.items],
        next_page_token=page.next_page_token,
    )


@router.get("/monitors/{name}/marks")
def result_marks(
    name: Name, client: ClientDep, start_ms: StartMs = None, end_ms: EndMs = None
) -> MarkList:
    """Every evaluated window (start, labels seen, when computed), oldest first."""
    marks = client.metadata.monitors.result_marks(name, start_ms=start_ms, end_ms=end_ms)
    return MarkList(
        marks=[MarkBody(window_start=m.window_start, labels=m.labels, computed_at=m.computed_at)
               for m in marks]
    )  # fmt: skip


@router.get("/monitors/{name}/series")
def series(
    name: Name,
    client: ClientDep,
    figure: Annotated[str, Query(min_length=1, description="e.g. drift.share_drifted")],
    start_ms: StartMs = None,
    end_ms: EndMs = None,
) -> SeriesBody:
    """One figure over time, oldest window first."""
    points = client.metadata.monitors.series(name, figure, start_ms=start_ms, end_ms=end_ms)
    return SeriesBody(window_starts=[p[0] for p in points], values=[p[1] for p in points])


@router.post("/alerts", status_code=status.HTTP_201_CREATED)
def add_alert(body: AlertBody, client: ClientDep) -> AlertBody:
    """404 NOT_FOUND when its monitor does not exist."""
    return AlertBody.from_domain(client.metadata.alerts.add(body.to_domain()))


@router.get("/alerts")
def list_alerts(
    client: ClientDep,
    monitor: str | None = None,
    rule: str | None = None,
    alert_status: Annotated[AlertStatus | None, Query(alias="status")] = None,
    limit: Limit = 100,
    page_token: str | None = None,
) -> AlertPage:
    """Newest window first."""
    page = client.metadata.alerts.list_alerts(
        monitor=monitor, rule=rule, status=alert_status, limit=limit, page_token=page_token
    )
    return AlertPage(
        alerts=[AlertBody.from_domain(a) for a in page.items], next_page_token=page.next_page_token
    )


@router.get("/alerts/{alert_id}")
def get_alert(alert_id: str, client: ClientDep) -> AlertBody:
    return AlertBody.from_domain(client.metadata.alerts.get(alert_id))


@router.put("/alerts/{alert_id}")
def update_alert(alert_id: str, body: AlertBody, client: ClientDep) -> AlertBody:
    """Status, last window and value, occurrences, resolution and action outcomes."""
    if body.id != alert_id:
        raise InvalidArgument(
            f"The body is alert {body.id!r}, but the path names {alert_id!r}; send it to its own "
            "path."
        )
    return AlertBody.from_domain(client.metadata.alerts.update(body.to_domain()))
