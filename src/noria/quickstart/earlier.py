"""What an earlier quickstart run left in this home: check it is the quickstart's, then
bring it back to the starting shape, so that running the quickstart again adds new runs and
versions the way running an example again does elsewhere.

The quickstart marks what it makes — the registered model ``credit-risk`` carries the tag
``noria.quickstart``, the deployment ``credit-api`` and its monitor a description starting
with :data:`MARK`, the schedule ``retrain-credit`` runs the quickstart's own pipeline — and
refuses, in one line and before changing anything, a home where one of these names belongs
to something else: it never changes what a user built.

>>> earlier = inspect(client)  # AlreadyExists when a name is taken by a user's object
>>> claim_model(client, earlier)  # the model, marked, before the first version is registered
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from noria.domain.deployments import DeploymentStatus, split_traffic
from noria.errors import AlreadyExists, NotFound
from noria.quickstart import flows
from noria.quickstart.options import DEPLOYMENT, EVENT

if TYPE_CHECKING:
    from noria.client import Client
    from noria.domain.deployments import Deployment, PromotionPolicy
    from noria.domain.monitors import Monitor
    from noria.domain.registry import RegisteredModel
    from noria.domain.schedules import Schedule

MARK = "Made by `noria quickstart`"
MARK_TAG = "noria.quickstart"
PIPELINE = f"{flows.__name__}:training"
PRIMARY = f"models:/{flows.MODEL_NAME}@champion"
RESET_ACTION = "deployment.routes_reset"
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Earlier:
    """The quickstart's objects already in this home (None: not there)."""

    model: RegisteredModel | None = None
    deployment: Deployment | None = None
    schedule: Schedule | None = None
    monitor: Monitor | None = None

    @property
    def found(self) -> bool:
        left = (self.model, self.deployment, self.schedule, self.monitor)
        return any(thing is not None for thing in left)

    @property
    def versions(self) -> int:
        """The newest ``credit-risk`` version earlier runs registered (0: none)."""
        return 0 if self.model is None else self.model.latest_version or 0


def inspect(client: Client) -> Earlier:
    """What earlier runs left; ``AlreadyExists`` (one line) for a name the quickstart did not
    take, so nothing of the user's is changed."""
    model = _lookup(lambda: client.registry.get_model(flows.MODEL_NAME))
    deployment = _lookup(lambda: client.deployments.get(DEPLOYMENT))
    schedule = _lookup(lambda: client.schedules.get(EVENT))
    monitor = _lookup(lambda: client.monitors.get(DEPLOYMENT))
    foreign = []
    if model is not None and MARK_TAG not in model.tags:
        foreign.append(f"model '{flows.MODEL_NAME}' (it has no tag {MARK_TAG})")
    if deployment is not None and not deployment.description.startswith(MARK):
        foreign.append(f"deployment '{DEPLOYMENT}' (its description does not start with {MARK!r})")
    if schedule is not None and schedule.pipeline != PIPELINE:
        foreign.append(f"schedule '{EVENT}' (it runs {schedule.pipeline}, not {PIPELINE})")
    if monitor is not None and not monitor.description.startswith(MARK):
        foreign.append(f"monitor '{DEPLOYMENT}' (its description does not start with {MARK!r})")
    if foreign:
        home = client.settings.home.expanduser().absolute()
        raise AlreadyExists(
            f"{home} holds a {' and a '.join(foreign)} that the quickstart did not make, and "
            "it never changes what a user built; run it in another home: "
            "`noria --home /tmp/noria-quickstart quickstart`."
        )
    return Earlier(model=model, deployment=deployment, schedule=schedule, monitor=monitor)


def claim_model(client: Client, earlier: Earlier) -> None:
    """Create ``credit-risk`` with the quickstart's mark, unless an earlier run did."""
    if earlier.model is None:
        client.registry.create_model(
            flows.MODEL_NAME,
            description=f"{MARK}: a credit-risk classifier of generated customers.",
            tags={MARK_TAG: "1"},
        )


def reset_deployment(client: Client, current: Deployment, policy: PromotionPolicy) -> list[str]:
    """Bring an earlier run's deployment back to the starting shape — the champion alone as
    primary, ``policy``, active — by audited updates (its history stays); what changed."""
    changed: list[str] = []
    routes = split_traffic(current.name, PRIMARY, {})
    if current.routes != routes:
        left = [f"{r.role.value} {r.model_uri}" for r in current.routes if r not in routes]
        current = client.deployments.set_routes(current, routes, action=RESET_ACTION)
        changed.append(f"routes back to the primary {PRIMARY} alone (was also: {', '.join(left)})")
    if current.promotion != policy:
        current = client.deployments.set_promotion_policy(current.name, policy)
        changed.append("the promotion policy set again")
    if current.status is not DeploymentStatus.ACTIVE:
        client.deployments.set_status(current.name, DeploymentStatus.ACTIVE)
        changed.append(f"status {current.status.value} → active")
    return changed


def restart_schedule(client: Client, found: Schedule | None, params: Mapping[str, Any]) -> str:
    """The retraining schedule, answering only events raised from now on. An earlier run's
    asking for the same is paused and resumed (its firings stay), otherwise replaced; what
    was done to it ("" for a new one)."""
    wanted = {key: value if isinstance(value, str) else json.dumps(value)
              for key, value in params.items()}  # fmt: skip
    if found is not None and found.event == EVENT and dict(found.params) == wanted:
        if found.enabled:
            client.schedules.pause(EVENT)
        client.schedules.resume(EVENT)
        return "paused and resumed: only events from now on fire it, its firings stay"
    if found is not None:
        client.schedules.remove(EVENT)
    client.schedules.add(PIPELINE, event=EVENT, name=EVENT, params=params)
    return "" if found is None else "made again with this run's parameters"


def _lookup(get: Callable[[], T]) -> T | None:
    try:
        return get()
    except NotFound:
        return None
