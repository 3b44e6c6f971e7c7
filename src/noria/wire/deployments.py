"""Deployment shapes: a deployment with its routes, and a page of them."""

from __future__ import annotations

from pydantic import Field

from noria.domain.deployments import (
    Deployment,
    DeploymentStatus,
    PromotionPolicy,
    Route,
    RouteRole,
)
from noria.wire.common import WireModel


class RouteBody(WireModel):
    model_uri: str
    role: RouteRole
    percent: float = Field(default=0.0, ge=0, le=100)

    @classmethod
    def from_domain(cls, route: Route) -> RouteBody:
        return cls(model_uri=route.model_uri, role=route.role, percent=route.percent)

    def to_domain(self) -> Route:
        return Route(self.model_uri, self.role, self.percent)


class PromotionPolicyBody(WireModel):
    """When a challenger replaces the primary; the domain type checks the values."""

    min_requests: int = 200
    max_disagreement: float | None = 0.2
    metric: str | None = None
    min_performance_delta: float | None = None
    min_labels: int = 50
    auto_promote: bool = True

    @classmethod
    def from_domain(cls, policy: PromotionPolicy) -> PromotionPolicyBody:
        return cls(**policy.to_dict())

    def to_domain(self) -> PromotionPolicy:
        return PromotionPolicy.from_dict(self.model_dump())


class DeploymentBody(WireModel):
    """Sent to create or update one (the server sets times; ``revision`` is the one read)."""

    name: str
    routes: list[RouteBody]
    description: str = ""
    sticky_key: str | None = None
    status: DeploymentStatus = DeploymentStatus.ACTIVE
    created_by: str = ""
    created_at: int = 0
    updated_at: int = 0
    revision: int = Field(default=0, ge=0)
    promotion: PromotionPolicyBody | None = None

    @classmethod
    def from_domain(cls, deployment: Deployment) -> DeploymentBody:
        return cls(
            name=deployment.name,
            routes=[RouteBody.from_domain(route) for route in deployment.routes],
            description=deployment.description,
            sticky_key=deployment.sticky_key,
            status=deployment.status,
            created_by=deployment.created_by,
            created_at=deployment.created_at,
            updated_at=deployment.updated_at,
            revision=deployment.revision,
            promotion=(
                None
                if deployment.promotion is None
                else PromotionPolicyBody.from_domain(deployment.promotion)
            ),
        )

    def to_domain(self) -> Deployment:
        return Deployment(
            name=self.name,
            routes=tuple(route.to_domain() for route in self.routes),
            description=self.description,
            sticky_key=self.sticky_key,
            status=self.status,
            created_by=self.created_by,
            created_at=self.created_at,
            updated_at=self.updated_at,
            revision=self.revision,
            promotion=None if self.promotion is None else self.promotion.to_domain(),
        )


class DeploymentPage(WireModel):
    deployments: list[DeploymentBody]
    next_page_token: str | None = None
