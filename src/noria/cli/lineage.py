"""``noria lineage <uri>``: where an entity came from and what it led to."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.tree import Tree

from noria.cli.context import open_client
from noria.cli.render import JsonFlag, console, print_json
from noria.domain.entities import EntityRef
from noria.domain.lineage import MAX_DEPTH, Direction
from noria.domain.uris import parse_entity_uri
from noria.lineage import LineageGraph
from noria.lineage.service import DEFAULT_DEPTH


def _tree(graph: LineageGraph) -> Tree:
    arrow = "←" if graph.direction is Direction.UPSTREAM else "→"
    root = Tree(f"{graph.root.uri}  [dim]({graph.direction.value})[/dim]")
    seen: set[EntityRef] = {graph.root}

    def grow(node: Tree, entity: EntityRef) -> None:
        for step in graph.children(entity):
            far = step.edge.end(graph.direction)
            label = f"{step.edge.relation.value} {arrow} {far.uri}"
            if far in seen:
                node.add(label + "  [dim](shown above)[/dim]")
                continue
            seen.add(far)
            grow(node.add(label), far)

    grow(root, graph.root)
    if not graph.steps:
        root.add("[dim]nothing recorded[/dim]")
    return root


def _as_json(graph: LineageGraph) -> dict[str, object]:
    return {
        "entity": graph.root.uri,
        "direction": graph.direction.value,
        "depth": graph.depth,
        "edges": [
            {
                "upstream": step.edge.upstream.uri,
                "relation": step.edge.relation.value,
                "downstream": step.edge.downstream.uri,
                "depth": step.depth,
                "recorded_at": step.recorded_at.isoformat(),
            }
            for step in graph.steps
        ],
    }


def show_lineage(
    ctx: typer.Context,
    uri: Annotated[str, typer.Argument(help="Entity URI, e.g. runs:/<id> or models:/name/3.")],
    up: Annotated[bool, typer.Option("--up", help="Only what it came from.")] = False,
    down: Annotated[bool, typer.Option("--down", help="Only what it led to.")] = False,
    depth: Annotated[int, typer.Option(min=1, max=MAX_DEPTH, help="Hops to follow.")] = (
        DEFAULT_DEPTH
    ),
    json: JsonFlag = False,
) -> None:
    """Show the lineage of an entity, upstream and downstream (both by default)."""
    entity = parse_entity_uri(uri)
    want_up, want_down = (up or not down), (down or not up)
    with open_client(ctx) as client:
        graphs = []
        if want_up:
            graphs.append(client.lineage.upstream(entity, depth=depth))
        if want_down:
            graphs.append(client.lineage.downstream(entity, depth=depth))
    if json:
        print_json([_as_json(graph) for graph in graphs])
        return
    out = console()
    for graph in graphs:
        out.print(_tree(graph))
