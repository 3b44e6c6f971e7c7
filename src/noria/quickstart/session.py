"""What the stages of one quickstart run share."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from noria.quickstart.earlier import Earlier
from noria.quickstart.options import QuickstartOptions, Sizes
from noria.quickstart.summary import Facts

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from noria.client import Client
    from noria.quickstart.container import BackgroundVerify
    from noria.quickstart.narration import Narrator
    from noria.quickstart.traffic import Traffic


@dataclass
class Session:
    client: Client
    options: QuickstartOptions
    say: Narrator
    earlier: Earlier = field(default_factory=Earlier)  # what earlier runs left here
    facts: Facts = field(default_factory=Facts)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # generated populations
    versions: dict[str, int] = field(default_factory=dict)  # "first", "retrained"
    http: httpx.Client | None = None  # to the background model server
    verify: BackgroundVerify | None = None
    bursts: dict[str, Traffic] = field(default_factory=dict)  # "baseline", "drifted"

    @property
    def sizes(self) -> Sizes:
        return self.options.sizes

    @property
    def home(self) -> Path:
        return self.client.settings.home.expanduser().absolute()

    def seed(self, offset: int) -> int:
        """A distinct, reproducible seed per population drawn."""
        return self.options.seed * 100 + offset

    def require_http(self) -> httpx.Client:
        if self.http is None:
            raise RuntimeError("the model server is not running")
        return self.http
