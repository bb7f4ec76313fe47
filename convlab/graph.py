"""Autograd computation-graph figures, drawn from ``grad_fn`` / ``next_functions`` (chapter 3).

PyTorch records a graph while it computes: every tensor made by an operation on tensors that
require grad has a ``grad_fn`` (a backward node such as ``MulBackward0``), and each node lists the
nodes of its inputs in ``next_functions``. A leaf tensor that requires grad appears there as an
``AccumulateGrad`` node (its ``.variable`` is the leaf); an input that does not require grad (a
detached tensor, a constant) appears as ``None`` — it is not recorded, so no gradient can flow
back through it.

:func:`trace_graph` walks that structure and returns it as plain data (:class:`AutogradGraph`);
:func:`autograd_graph` draws it as an SVG figure (no graphviz needed) that Jupyter displays
inline. Requires-grad is shown by label *and* shape (solid box vs dashed box), never by colour
alone.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal

import torch

from convlab import draw

NodeKind = Literal["op", "leaf", "output", "no_grad", "unreachable"]

#: Light tints of the shared palette (:data:`convlab.draw.ROLES`): leaves like inputs (sky blue),
#: operations like kernels (orange), the output like outputs (bluish green); grey = not recorded.
#: Shape, border style and text carry the meaning too, so colour is never the only cue.
_FILL = {
    "op": "#FBE5B5",
    "leaf": "#E6F3FB",
    "output": "#CCEBE1",
    "no_grad": "#EEEEEE",
    "unreachable": "#FFFFFF",
}
_STROKE = draw.PALETTE["black"]
_MUTED = "#666666"


@dataclass(frozen=True)
class GraphNode:
    """One node of the figure.

    ``kind`` is ``"op"`` (a backward node, e.g. ``MulBackward0``), ``"leaf"`` (a leaf tensor that
    requires grad, stored as ``AccumulateGrad``), ``"output"`` (the tensor the graph was traced
    from), ``"no_grad"`` (an input recorded as ``None``: it does not require grad) or
    ``"unreachable"`` (a named tensor that the output's graph does not contain).
    """

    index: int
    kind: NodeKind
    label: str
    detail: str
    requires_grad: bool


@dataclass(frozen=True)
class GraphEdge:
    """A forward-direction edge ``src -> dst`` (input feeds consumer), used ``count`` times."""

    src: int
    dst: int
    count: int


@dataclass(frozen=True)
class AutogradGraph:
    """Nodes and edges of one traced graph (see :func:`trace_graph`)."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]

    def count(self, kind: NodeKind) -> int:
        """Number of nodes of the given kind."""
        return sum(1 for n in self.nodes if n.kind == kind)

    def labels(self, kind: NodeKind) -> list[str]:
        """Labels of the nodes of the given kind, in discovery order."""
        return [n.label for n in self.nodes if n.kind == kind]


@dataclass(frozen=True)
class GraphFigure(draw.Figure):
    """A :class:`convlab.draw.Figure` (SVG + visible caption) that also keeps the traced graph."""

    graph: AutogradGraph


def _shape(t: torch.Tensor) -> str:
    return "shape (" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


def _check_inputs(tensor: Any, names: Any) -> dict[str, torch.Tensor]:
    if not isinstance(tensor, torch.Tensor):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}")
    if names is None:
        return {}
    if not isinstance(names, dict):
        raise TypeError(f"names must be a dict mapping str to Tensor, got {type(names).__name__}")
    for key, value in names.items():
        if not isinstance(key, str):
            raise TypeError(f"names keys must be str, got {key!r} of type {type(key).__name__}")
        if not isinstance(value, torch.Tensor):
            raise TypeError(
                f"names[{key!r}] must be a torch.Tensor, got {type(value).__name__}"
            )
    return dict(names)


def _name_of(t: torch.Tensor, names: dict[str, torch.Tensor]) -> str | None:
    for key, value in names.items():
        if value is t:
            return key
    return None


def _saved_tensors(fn: Any) -> list[torch.Tensor]:
    """Tensors a backward node saved (``_saved_*`` attributes); empty once they were freed."""
    found: list[torch.Tensor] = []
    for attr in dir(fn):
        if not attr.startswith("_saved_"):
            continue
        try:
            value = getattr(fn, attr)
        except RuntimeError:  # saved tensors freed by a previous backward()
            continue
        if isinstance(value, torch.Tensor):
            found.append(value)
    return found


def trace_graph(tensor: torch.Tensor,
                names: dict[str, torch.Tensor] | None = None) -> AutogradGraph:
    """Walk ``tensor.grad_fn`` and its ``next_functions`` and return the graph as data.

    ``names`` maps display names to tensors (matched by identity, ``is``): a leaf whose
    ``AccumulateGrad.variable`` is ``names["a"]`` is labelled ``a``; an operation whose output is
    a named tensor says so in its detail line; a named tensor that does not require grad is
    recognised in a ``None`` slot when the operation saved it for backward (e.g. ``mul`` saves
    both factors; ``add`` saves neither, so its ``None`` slot is labelled ``(no grad)``). Named
    tensors that are not in the graph are returned as ``"unreachable"`` nodes.

    Every backward node reachable from ``tensor.grad_fn`` becomes exactly one node (``op`` or
    ``leaf``), every ``None`` slot one ``no_grad`` node, plus one ``output`` node for ``tensor``;
    edges point in the forward direction (input -> consumer), with ``count`` > 1 when an input is
    used several times by one operation (``a * a``).
    """
    names = _check_inputs(tensor, names)
    nodes: list[GraphNode] = []
    edges: dict[tuple[int, int], int] = {}
    placed: set[int] = set()  # id() of named tensors shown in the graph

    root_name = _name_of(tensor, names) or "output"
    placed.add(id(tensor))
    fn_root = tensor.grad_fn
    if fn_root is None:
        kind: NodeKind = "leaf" if tensor.requires_grad else "no_grad"
        detail = ("leaf · requires_grad=True" if tensor.requires_grad
                  else "requires_grad=False · no grad_fn")
        nodes.append(GraphNode(0, kind, root_name, f"{detail} · {_shape(tensor)}",
                               tensor.requires_grad))
    else:
        nodes.append(GraphNode(0, "output", root_name,
                               f"requires_grad=True · {_shape(tensor)}", True))
        index_of: dict[int, int] = {}  # id(backward node) -> node index
        keep_alive: list[Any] = []  # hold node objects so their id() stays unique
        queue: list[Any] = []

        def node_for(fn: Any) -> int:
            key = id(fn)
            if key in index_of:
                return index_of[key]
            idx = len(nodes)
            index_of[key] = idx
            keep_alive.append(fn)
            if type(fn).__name__ == "AccumulateGrad":
                var = fn.variable
                name = _name_of(var, names) or "leaf"
                placed.add(id(var))
                nodes.append(GraphNode(idx, "leaf", name,
                                       f"leaf · requires_grad=True · {_shape(var)}", True))
            else:
                outs = [k for k, v in names.items() if v.grad_fn is fn]
                for k in outs:
                    placed.add(id(names[k]))
                if fn is fn_root and root_name not in outs:
                    outs.insert(0, root_name)
                detail = " = ".join(f"{k}.grad_fn" for k in outs) if outs else "operation"
                nodes.append(GraphNode(idx, "op", fn.name(), detail, True))
            queue.append(fn)
            return idx

        root_idx = node_for(fn_root)
        edges[(root_idx, 0)] = 1
        while queue:
            fn = queue.pop(0)
            dst = index_of[id(fn)]
            slots = list(getattr(fn, "next_functions", ()))
            saved_names = []
            if any(nxt is None for nxt, _ in slots):
                saved = _saved_tensors(fn)
                for k, v in names.items():
                    if not v.requires_grad and any(v is s for s in saved):
                        saved_names.append(k)
            for nxt, _ in slots:
                if nxt is None:
                    label = saved_names.pop(0) if saved_names else "(no grad)"
                    if label in names:
                        placed.add(id(names[label]))
                        detail = f"requires_grad=False · {_shape(names[label])}"
                    else:
                        detail = "requires_grad=False · not recorded"
                    idx = len(nodes)
                    nodes.append(GraphNode(idx, "no_grad", label, detail, False))
                    edges[(idx, dst)] = 1
                else:
                    src = node_for(nxt)
                    edges[(src, dst)] = edges.get((src, dst), 0) + 1
    for key, value in names.items():
        if id(value) not in placed:
            idx = len(nodes)
            state = f"requires_grad={value.requires_grad}"
            nodes.append(GraphNode(idx, "unreachable", key, f"not in this graph · {state}",
                                   value.requires_grad))
    return AutogradGraph(tuple(nodes), tuple(GraphEdge(s, d, c) for (s, d), c in edges.items()))


# ----------------------------------------------------------------------------- layout + SVG

_LABEL_PX = 13
_DETAIL_PX = 11
_CHAR = 0.6  # monospace glyph width as a fraction of the font size
_ROW = 64
_GAP = 56
_MARGIN = 16


def _node_size(n: GraphNode) -> tuple[float, float]:
    width = max(len(n.label) * _LABEL_PX * _CHAR, len(n.detail) * _DETAIL_PX * _CHAR) + 24
    if n.kind == "op":
        width += 16  # an ellipse needs more room than a box
    return width, 40.0


def _layout(g: AutogradGraph) -> tuple[dict[int, tuple[float, float]], float, float]:
    """Columns by longest forward distance to the output; rows ordered by consumers' rows."""
    consumers: dict[int, list[int]] = {n.index: [] for n in g.nodes}
    for e in g.edges:
        consumers[e.src].append(e.dst)
    dist: dict[int, int] = {}

    def depth(i: int) -> int:
        if i not in dist:
            dist[i] = 1 + max((depth(c) for c in consumers[i]), default=-1)
        return dist[i]

    connected = [n for n in g.nodes if n.kind != "unreachable"]
    for n in connected:
        depth(n.index)
    ncols = 1 + max(dist.values(), default=0)
    columns: list[list[int]] = [[] for _ in range(ncols)]
    for n in connected:
        columns[ncols - 1 - dist[n.index]].append(n.index)
    row: dict[int, float] = {}
    for col in reversed(columns):
        col.sort(key=lambda i: (sum(row[c] for c in consumers[i]) / len(consumers[i])
                                if consumers[i] else 0.0))
        for r, i in enumerate(col):
            row[i] = r - (len(col) - 1) / 2
    sizes = {n.index: _node_size(n) for n in g.nodes}
    col_width = [max((sizes[i][0] for i in col), default=0.0) for col in columns]
    nrows = max((len(c) for c in columns), default=1)
    top = _MARGIN + 34  # room for the legend
    pos: dict[int, tuple[float, float]] = {}
    x = _MARGIN
    for c, col in enumerate(columns):
        for i in col:
            pos[i] = (x + col_width[c] / 2, top + (row[i] + (nrows - 1) / 2) * _ROW + 20)
        x += col_width[c] + _GAP
    width = max(x - _GAP + _MARGIN, 420.0)
    height = top + nrows * _ROW
    loose = [n for n in g.nodes if n.kind == "unreachable"]
    if loose:
        height += 24  # caption line
        lx = _MARGIN
        for n in loose:
            w = sizes[n.index][0]
            pos[n.index] = (lx + w / 2, height + 20)
            lx += w + 16
        width = max(width, lx + _MARGIN)
        height += _ROW
    return pos, width, height


def _text(x: float, y: float, s: str, size: int, fill: str = _STROKE,
          weight: str = "normal", anchor: str = "middle") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" '
            f'text-anchor="{anchor}" fill="{fill}">{html.escape(s)}</text>')


def _draw_node(n: GraphNode, x: float, y: float) -> str:
    w, h = _node_size(n)
    dash = ' stroke-dasharray="5 3"' if not n.requires_grad or n.kind == "unreachable" else ""
    stroke_w = 2.5 if n.kind in ("output", "leaf") else 1.5
    fill = _FILL[n.kind]
    if n.kind == "op":
        shape = (f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" '
                 f'fill="{fill}" stroke="{_STROKE}" stroke-width="{stroke_w}"{dash}/>')
    else:
        rx = 10 if n.kind == "output" else 2
        shape = (f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" '
                 f'height="{h:.1f}" rx="{rx}" fill="{fill}" stroke="{_STROKE}" '
                 f'stroke-width="{stroke_w}"{dash}/>')
    label_color = _MUTED if n.kind == "unreachable" else _STROKE
    return (f'<g class="node {n.kind}">{shape}'
            + _text(x, y - 3, n.label, _LABEL_PX, label_color, "bold")
            + _text(x, y + 12, n.detail, _DETAIL_PX, _MUTED) + "</g>")


def _legend() -> tuple[str, float]:
    parts = []
    x = _MARGIN
    items = [
        ("rect", _FILL["leaf"], "", "tensor, requires_grad=True (solid)"),
        ("rect", _FILL["no_grad"], ' stroke-dasharray="5 3"', "requires_grad=False (dashed)"),
        ("ellipse", _FILL["op"], "", "operation (grad_fn)"),
    ]
    for shape, fill, dash, text in items:
        if shape == "rect":
            parts.append(f'<rect x="{x}" y="{_MARGIN}" width="22" height="14" fill="{fill}" '
                         f'stroke="{_STROKE}" stroke-width="1.5"{dash}/>')
        else:
            parts.append(f'<ellipse cx="{x + 11}" cy="{_MARGIN + 7}" rx="11" ry="7" '
                         f'fill="{fill}" stroke="{_STROKE}" stroke-width="1.5"/>')
        parts.append(_text(x + 28, _MARGIN + 11, text, _DETAIL_PX, _STROKE, anchor="start"))
        x += 28 + len(text) * _DETAIL_PX * _CHAR + 18
    return "".join(parts), x


def _describe(g: AutogradGraph) -> str:
    by_index = {n.index: n for n in g.nodes}
    lines = []
    for e in g.edges:
        times = f" ({e.count} times)" if e.count > 1 else ""
        lines.append(f"{by_index[e.src].label} feeds {by_index[e.dst].label}{times}")
    loose = g.labels("unreachable")
    if loose:
        lines.append("not in the graph: " + ", ".join(loose))
    return "; ".join(lines)


def autograd_graph(tensor: torch.Tensor, names: dict[str, torch.Tensor] | None = None,
                   title: str | None = None, caption: str | None = None) -> GraphFigure:
    """Draw the autograd graph that ``tensor`` was computed by, as an inline SVG figure.

    Used in chapter 3. Boxes are tensors (solid border: requires_grad=True; dashed:
    requires_grad=False, i.e. not recorded), ellipses are operations (their ``grad_fn``), arrows
    point the way the data flowed forward; ``backward()`` walks them in reverse, from the output
    (right) to the leaves (left), and cannot enter a dashed box. ``names`` labels tensors (see
    :func:`trace_graph`); named tensors that the graph does not contain are drawn below it.
    The SVG's ``<title>`` is ``title``, its ``<desc>`` lists every edge in words (for screen
    readers); the visible caption is ``caption``, or a generated one naming the leaves, the
    inputs that do not require grad and the named tensors outside the graph.
    """
    g = trace_graph(tensor, names)
    pos, width, height = _layout(g)
    legend, legend_w = _legend()
    width = max(width, legend_w + _MARGIN)
    body: list[str] = []
    for e in g.edges:
        (x1, y1), (x2, y2) = pos[e.src], pos[e.dst]
        w1, w2 = _node_size(g.nodes[e.src])[0], _node_size(g.nodes[e.dst])[0]
        sx, ex = x1 + w1 / 2, x2 - w2 / 2 - 3
        dash = ' stroke-dasharray="5 3"' if not g.nodes[e.src].requires_grad else ""
        body.append(f'<line x1="{sx:.1f}" y1="{y1:.1f}" x2="{ex:.1f}" y2="{y2:.1f}" '
                    f'stroke="{_STROKE}" stroke-width="1.5" marker-end="url(#cl-arrow)"{dash}/>')
        if e.count > 1:
            body.append(_text((sx + ex) / 2, (y1 + y2) / 2 - 5, f"×{e.count}", _DETAIL_PX,
                              _STROKE, "bold"))
    if g.count("unreachable"):
        first = min(pos[n.index][1] for n in g.nodes if n.kind == "unreachable")
        body.append(_text(_MARGIN, first - 28, "named tensors that are not in this graph:",
                          _DETAIL_PX, _MUTED, anchor="start"))
    for n in g.nodes:
        body.append(_draw_node(n, *pos[n.index]))
    heading = title or "Autograd graph"
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" font-family="monospace" '
        f'style="max-width:100%;height:auto">'
        f"<title>{html.escape(heading)}</title><desc>{html.escape(_describe(g))}</desc>"
        '<defs><marker id="cl-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_STROKE}"/></marker></defs>'
        f'<rect width="100%" height="100%" fill="white"/>{legend}{"".join(body)}</svg>'
    )
    return GraphFigure(svg, caption or _caption(g, heading), g)


def _caption(g: AutogradGraph, heading: str) -> str:
    parts = [f"{heading}."]
    leaves = g.labels("leaf")
    if leaves:
        parts.append("Leaves that receive a gradient: " + ", ".join(leaves) + ".")
    no_grad = g.labels("no_grad")
    if no_grad:
        parts.append("Inputs not recorded (requires_grad=False, dashed): "
                     + ", ".join(no_grad) + ".")
    loose = g.labels("unreachable")
    if loose:
        parts.append("Not in this graph: " + ", ".join(loose) + ".")
    parts.append("Arrows show the forward computation; backward() walks them from right to left.")
    return " ".join(parts)
