"""Monitors, their results and alerts over REST (``/api/v1/monitors``, ``/api/v1/alerts``)."""

from __future__ import annotations

from noria.backends.http.paging import page_params
from noria.backends.http.tracking import segment
from noria.backends.http.transport import HttpTransport
from noria.domain.alerts import Alert, AlertStatus
from noria.domain.monitors import Monitor, MonitorResult, ResultMark
from noria.domain.paging import Page
from noria.wire.monitors import (
    AlertBody,
    AlertPage,
    LeaseAnswer,
    LeaseBody,
    MarkList,
    MonitorBody,
    MonitorPage,
    ResultBody,
    ResultPage,
    SeriesBody,
)

MONITORS = "/api/v1/monitors"
ALERTS = "/api/v1/alerts"


def _path(name: str, *rest: str) -> str:
    return "/".join([MONITORS, segment(name), *rest])


def _window(start_ms: int | None, end_ms: int | None) -> dict[str, int]:
    bounds = {"start_ms": start_ms, "end_ms": end_ms}
    return {key: value for key, value in bounds.items() if value is not None}


class HttpMonitorRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def create(self, monitor: Monitor) -> Monitor:
        body = MonitorBody.from_domain(monitor).model_dump(mode="json")
        return MonitorBody.model_validate(self._http.json("POST", MONITORS, json=body)).to_domain()

    def get(self, name: str) -> Monitor:
        return MonitorBody.model_validate(self._http.json("GET", _path(name))).to_domain()

    def list_monitors(
        self, *, deployment: str | None = None, limit: int = 100, page_token: str | None = None
    ) -> Page[Monitor]:
        params = page_params(limit, page_token, deployment=deployment)
        page = MonitorPage.model_validate(self._http.json("GET", MONITORS, params=params))
        return Page([body.to_domain() for body in page.monitors], page.next_page_token)

    def replace(self, monitor: Monitor) -> Monitor:
        body = MonitorBody.from_domain(monitor).model_dump(mode="json")
        answer = self._http.json("PUT", _path(monitor.name), json=body)
        return MonitorBody.model_validate(answer).to_domain()

    def delete(self, name: str) -> Monitor:
        return MonitorBody.model_validate(self._http.json("DELETE", _path(name))).to_domain()

    def claim(self, name: str, *, owner: str, now_ms: int, lease_ms: int) -> bool:
        body = LeaseBody(owner=owner, now_ms=now_ms, lease_ms=lease_ms).model_dump()
        answer = self._http.json("POST", _path(name, "lease"), json=body)
        return LeaseAnswer.model_validate(answer).claimed

    def release(self, name: str, *, owner: str) -> None:
        self._http.json("POST", _path(name, "lease", "release"), json={"owner": owner})

    def save_result(self, result: MonitorResult) -> MonitorResult:
        body = ResultBody.from_domain(result).model_dump(mode="json")
        path = _path(result.monitor, "results", str(result.window_start))
        return ResultBody.model_validate(self._http.json("PUT", path, json=body)).to_domain()

    def list_results(
        self,
        monitor: str,
        *,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[MonitorResult]:
        params = page_params(limit, page_token, start_ms=start_ms, end_ms=end_ms)
        answer = self._http.json("GET", _path(monitor, "results"), params=params)
        page = ResultPage.model_validate(answer)
        return Page([body.to_domain() for body in page.results], page.next_page_token)

    def result_marks(
        self, monitor: str, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[ResultMark]:
        answer = self._http.json("GET", _path(monitor, "marks"), params=_window(start_ms, end_ms))
        return [mark.to_domain() for mark in MarkList.model_validate(answer).marks]

    def series(
        self, monitor: str, figure: str, *, start_ms: int | None = None, end_ms: int | None = None
    ) -> list[tuple[int, float]]:
        params = {"figure": figure, **_window(start_ms, end_ms)}
        answer = SeriesBody.model_validate(
            self._http.json("GET", _path(monitor, "series"), params=params)
        )
        return list(zip(answer.window_starts, answer.values, strict=True))


class HttpAlertRepo:
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    def add(self, alert: Alert) -> Alert:
        body = AlertBody.from_domain(alert).model_dump(mode="json")
        return AlertBody.model_validate(self._http.json("POST", ALERTS, json=body)).to_domain()

    def update(self, alert: Alert) -> Alert:
        body = AlertBody.from_domain(alert).model_dump(mode="json")
        path = f"{ALERTS}/{segment(alert.id)}"
        return AlertBody.model_validate(self._http.json("PUT", path, json=body)).to_domain()

    def get(self, alert_id: str) -> Alert:
        path = f"{ALERTS}/{segment(alert_id)}"
        return AlertBody.model_validate(self._http.json("GET", path)).to_domain()

    def list_alerts(
        self,
        *,
        monitor: str | None = None,
        rule: str | None = None,
        status: AlertStatus | None = None,
        limit: int = 100,
        page_token: str | None = None,
    ) -> Page[Alert]:
        shown_status = None if status is None else AlertStatus(status).value
        params = page_params(limit, page_token, monitor=monitor, rule=rule, status=shown_status)
        page = AlertPage.model_validate(self._http.json("GET", ALERTS, params=params))
        return Page([body.to_domain() for body in page.alerts], page.next_page_token)
