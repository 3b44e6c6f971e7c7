"""Deployments written as YAML (``noria deploy create --file deployment.yaml``).

.. code-block:: yaml

    name: credit-api
    description: Credit risk scoring
    sticky_key: customer_id          # optional: same caller, same model
    routes:
      - model: models:/credit@champion
        role: primary                # its traffic is what the canaries leave
      - model: models:/credit@challenger
        role: canary
        traffic: 10
      - model: models:/credit/4
        role: shadow                 # a copy of every request, answers only logged
    promotion:                       # optional: when a challenger replaces the primary
      min_requests: 200
      max_disagreement: 0.2
      metric: roc_auc
      min_performance_delta: 0.0
      min_labels: 50
      auto_promote: true

Mistakes are ``InvalidArgument`` errors naming the file, the line and the field, e.g.
``deployment.yaml line 7, routes[1]: missing field 'traffic' (a canary's percentage)``.
"""

from __future__ import annotations

from typing import Any

from noria.domain.deployments import (
    POLICY_FIELDS,
    Deployment,
    PromotionPolicy,
    Route,
    RouteRole,
    split_traffic,
)
from noria.domain.yaml_errors import yaml_syntax_error
from noria.errors import InvalidArgument

_TOP_FIELDS = ("name", "description", "sticky_key", "routes", "promotion")
_ROUTE_FIELDS = ("model", "role", "traffic")


def parse_deployment(text: str, *, source: str = "deployment.yaml") -> Deployment:
    """Read a deployment; every error names ``source``, the line and the field."""
    import yaml

    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        raise yaml_syntax_error(exc, source) from None
    try:
        return _deployment(loader, root, source)
    finally:
        loader.dispose()


def _fields(loader: Any, node: Any, allowed: tuple[str, ...], where: str) -> dict[str, Any]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        line = node.start_mark.line + 1 if node is not None else 1
        raise InvalidArgument(f"{where} line {line}: expected a mapping of {', '.join(allowed)}")
    fields: dict[str, Any] = {}
    for key, value in node.value:
        name = str(key.value)
        if name not in allowed or name in fields:
            problem = (
                "is given twice" if name in fields else f"is unknown; expected {', '.join(allowed)}"
            )
            raise InvalidArgument(
                f"{where} line {key.start_mark.line + 1}: field {name!r} {problem}"
            )
        fields[name] = value
    return fields


def _text(loader: Any, node: Any, where: str, field: str) -> str:
    value = loader.construct_object(node)
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"{where} line {node.start_mark.line + 1}: {field} must be text")
    return value


def _deployment(loader: Any, root: Any, source: str) -> Deployment:
    import yaml

    fields = _fields(loader, root, _TOP_FIELDS, source)
    for required in ("name", "routes"):
        if required not in fields:
            raise InvalidArgument(f"{source} line 1: missing field {required!r}")
    name = _text(loader, fields["name"], source, "name")
    routes_node = fields["routes"]
    if not isinstance(routes_node, yaml.SequenceNode) or not routes_node.value:
        raise InvalidArgument(
            f"{source} line {routes_node.start_mark.line + 1}, routes: expected a list of "
            "routes such as `- {model: models:/credit@champion, role: primary}`"
        )
    description = ""
    if "description" in fields:
        description = _text(loader, fields["description"], source, "description")
    sticky = None
    if "sticky_key" in fields:
        sticky = _text(loader, fields["sticky_key"], source, "sticky_key")
    routes = _routes(loader, routes_node.value, name, source)
    promotion = None
    if "promotion" in fields:
        promotion = _promotion(loader, fields["promotion"], source)
    try:
        return Deployment(
            name=name,
            routes=routes,
            description=description,
            sticky_key=sticky,
            promotion=promotion,
        )
    except InvalidArgument as exc:
        raise InvalidArgument(f"{source}: {exc.message}") from None


def _routes(loader: Any, nodes: list[Any], name: str, source: str) -> tuple[Route, ...]:
    primary: tuple[str, float | None] | None = None
    canaries: dict[str, float] = {}
    shadows: list[Route] = []
    for index, node in enumerate(nodes):
        where = f"{source} line {node.start_mark.line + 1}, routes[{index}]"
        fields = _fields(loader, node, _ROUTE_FIELDS, where)
        for required in ("model", "role"):
            if required not in fields:
                raise InvalidArgument(f"{where}: missing field {required!r}")
        model = _text(loader, fields["model"], where, "model")
        role = _role(_text(loader, fields["role"], where, "role"), where)
        traffic = _traffic(loader, fields.get("traffic"), where)
        if model in canaries or (primary is not None and primary[0] == model):
            raise InvalidArgument(f"{where}: {model} has a route already; give it one route")
        if role is RouteRole.PRIMARY:
            if primary is not None:
                raise InvalidArgument(
                    f"{where}: a second primary ({model}); a deployment has one, "
                    "make this one a canary or a shadow"
                )
            _route(model, role, 0.0 if traffic is None else traffic, where)
            primary = (model, traffic)
        elif role is RouteRole.CANARY:
            if traffic is None:
                raise InvalidArgument(f"{where}: missing field 'traffic' (a canary's percentage)")
            canaries[model] = _route(model, role, traffic, where).percent
        else:
            shadows.append(_route(model, role, traffic or 0.0, where))
    if primary is None:
        raise InvalidArgument(f"{source}: routes: no route has role primary; add one")
    try:
        routes = split_traffic(name, primary[0], canaries)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{source}: {exc.message}") from None
    if primary[1] is not None and abs(primary[1] - routes[0].percent) > 1e-6:
        raise InvalidArgument(
            f"{source}: the primary's traffic is {primary[1]:g} but the canaries leave it "
            f"{routes[0].percent:g}; drop the primary's traffic or make them add up to 100"
        )
    return (*routes, *shadows)


def _route(model: str, role: RouteRole, traffic: float, where: str) -> Route:
    try:
        return Route(model, role, traffic)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc.message}") from None


def _role(text: str, where: str) -> RouteRole:
    try:
        return RouteRole(text)
    except ValueError:
        known = ", ".join(role.value for role in RouteRole)
        raise InvalidArgument(f"{where}: role {text!r} is unknown; use one of {known}") from None


def _traffic(loader: Any, node: Any, where: str) -> float | None:
    if node is None:
        return None
    value = loader.construct_object(node)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgument(
            f"{where} line {node.start_mark.line + 1}: traffic {value!r} is not a number "
            "(a percentage, 0 to 100)"
        )
    return float(value)


def _promotion(loader: Any, node: Any, source: str) -> PromotionPolicy:
    """The ``promotion:`` block; each field is checked on its own line."""
    where = f"{source} line {node.start_mark.line + 1}, promotion"
    fields = _fields(loader, node, POLICY_FIELDS, where)
    values: dict[str, Any] = {}
    for field, value_node in fields.items():
        values[field] = loader.construct_object(value_node)
        try:
            PromotionPolicy.from_dict(_with_metric(values, field))
        except InvalidArgument as exc:
            line = value_node.start_mark.line + 1
            problem = exc.message.removeprefix("Promotion policy: ")
            raise InvalidArgument(f"{source} line {line}, promotion.{field}: {problem}") from None
    try:
        return PromotionPolicy.from_dict(values)
    except InvalidArgument as exc:  # only a delta without a metric is left to refuse
        problem = exc.message.removeprefix("Promotion policy: ")
        raise InvalidArgument(f"{where}: {problem}") from None


def _with_metric(values: dict[str, Any], field: str) -> dict[str, Any]:
    """``values`` so far, checked alone: a delta read before its metric borrows a stand-in."""
    if field == "min_performance_delta" and values.get("metric") is None:
        return {**values, "metric": "accuracy"}
    return values
