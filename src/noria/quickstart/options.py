"""What a quickstart run is asked for, and the sizes that follow from it."""

from __future__ import annotations

from dataclasses import dataclass

from noria.errors import InvalidArgument
from noria.quickstart.scenario import check_drift

DEPLOYMENT = "credit-api"
EVENT = "retrain-credit"
GATE = """rules:
  - roc_auc >= 0.75
  - roc_auc >= champion.roc_auc
"""


@dataclass(frozen=True, slots=True)
class Sizes:
    """Rows of each data set, requests and labels, trials: the run's cost."""

    train_rows: int  # datasets:/credit/1, and /2 for the retraining
    holdout_rows: int  # the gate's data, of each population
    rows_per_request: int
    baseline_requests: int  # before the drift
    drifted_requests: int  # what the monitor judges
    shadow_requests: int  # what the promotion policy judges
    trials: int
    retrain_trials: int
    verify_package: bool  # a fresh virtualenv and a server: the slowest stage

    @property
    def shadow_rows(self) -> int:
        return self.shadow_requests * self.rows_per_request


FULL = Sizes(
    train_rows=4000,
    holdout_rows=1500,
    rows_per_request=10,
    baseline_requests=40,
    drifted_requests=80,
    shadow_requests=50,
    trials=6,
    retrain_trials=4,
    verify_package=True,
)
FAST = Sizes(
    train_rows=1500,
    holdout_rows=600,
    rows_per_request=10,
    baseline_requests=20,
    drifted_requests=40,
    shadow_requests=30,
    trials=3,
    retrain_trials=2,
    verify_package=False,
)


@dataclass(frozen=True, slots=True)
class QuickstartOptions:
    """``noria quickstart [--fast] [--seed N] [--drift X] [--port P]``; ``port`` None: a
    free one."""

    fast: bool = False
    seed: int = 7
    drift: float = 0.8
    port: int | None = None

    def __post_init__(self) -> None:
        check_drift(self.drift)
        if self.port is not None and not 1 <= self.port <= 65535:
            raise InvalidArgument(f"port={self.port} is not a TCP port; use 1 to 65535.")
        if self.seed < 0:
            raise InvalidArgument(f"seed={self.seed} is negative; use 0 or more.")

    @property
    def sizes(self) -> Sizes:
        return FAST if self.fast else FULL
