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

from convlab import draw, i18n
from convlab.i18n import message as msg

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


def _shape(t: torch.Tensor, *, lang: str = "en") -> str:
    _ = i18n.translator(lang)
    dims = ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "")
    return _("shape ({dims})", dims=dims)


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


def _constant_label(fn: Any, slot: int, *, lang: str = "en") -> str:
    """Label of an unnamed input that is not recorded (a ``None`` slot of ``fn``): ``constant``,
    with its value if ``fn`` saved it as a 0-d tensor (``_saved_self`` for slot 0,
    ``_saved_other`` for slot 1, as binary operations name their inputs)."""
    _ = i18n.translator(lang)
    attr = {0: "_saved_self", 1: "_saved_other"}.get(slot)
    try:
        value = getattr(fn, attr, None) if attr else None
    except RuntimeError:  # saved tensors freed by a previous backward()
        value = None
    if isinstance(value, torch.Tensor) and value.dim() == 0 and not value.requires_grad:
        return _("constant {num}", num=draw.num(value))
    return "constant"


def trace_graph(tensor: torch.Tensor,
                names: dict[str, torch.Tensor] | None = None, *, lang: str = "en") -> AutogradGraph:
    """Walk ``tensor.grad_fn`` and its ``next_functions`` and return the graph as data.

    ``names`` maps display names to tensors (matched by identity, ``is``): a leaf whose
    ``AccumulateGrad.variable`` is ``names["a"]`` is labelled ``a``; an operation whose output is
    a named tensor says so in its detail line; a named tensor that does not require grad is
    recognised in a ``None`` slot when the operation saved it for backward (e.g. ``mul`` saves
    both factors). Any other ``None`` slot is a constant: labelled with its value when the
    operation saved it as a 0-d tensor (``a * 2`` -> ``constant 2``), else ``constant`` (``add``
    saves neither input). Named
    tensors that are not in the graph are returned as ``"unreachable"`` nodes.

    Every backward node reachable from ``tensor.grad_fn`` becomes exactly one node (``op`` or
    ``leaf``), every ``None`` slot one ``no_grad`` node, plus one ``output`` node for ``tensor``;
    edges point in the forward direction (input -> consumer), with ``count`` > 1 when an input is
    used several times by one operation (``a * a``).
    """
    _ = i18n.translator(lang)
    names = _check_inputs(tensor, names)
    nodes: list[GraphNode] = []
    edges: dict[tuple[int, int], int] = {}
    placed: set[int] = set()  # id() of named tensors shown in the graph

    root_name = _name_of(tensor, names) or "output"
    placed.add(id(tensor))
    fn_root = tensor.grad_fn
    if fn_root is None:
        kind: NodeKind = "leaf" if tensor.requires_grad else "no_grad"
        detail = (_("leaf · requires_grad=True") if tensor.requires_grad
                  else _("requires_grad=False · no grad_fn"))
        nodes.append(GraphNode(0, kind, root_name, f"{detail} · {_shape(tensor, lang=lang)}",
                               tensor.requires_grad))
    else:
        nodes.append(GraphNode(0, "output", root_name,
                               _("requires_grad=True · {shape}",
                                 shape=_shape(tensor, lang=lang)), True))
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
                name = _name_of(var, names) or _("leaf")
                placed.add(id(var))
                nodes.append(GraphNode(idx, "leaf", name,
                                       _("leaf · requires_grad=True · {shape}",
                                         shape=_shape(var, lang=lang)), True))
            else:
                outs = [k for k, v in names.items() if v.grad_fn is fn]
                for k in outs:
                    placed.add(id(names[k]))
                if fn is fn_root and root_name not in outs:
                    outs.insert(0, root_name)
                detail = " = ".join(f"{k}.grad_fn" for k in outs) if outs else _("operation")
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
            for slot, (nxt, _input_nr) in enumerate(slots):
                if nxt is None:
                    label = (saved_names.pop(0) if saved_names
                             else _constant_label(fn, slot, lang=lang))
                    if label in names:
                        placed.add(id(names[label]))
                        detail = _("requires_grad=False · {shape}",
                                   shape=_shape(names[label], lang=lang))
                    else:
                        detail = _("requires_grad=False · not recorded")
                    idx = len(nodes)
                    nodes.append(GraphNode(idx, "no_grad", label, detail, False))
                    edges[(idx, dst)] = 1
                else:
                    src = node_for(nxt)
                    edges[(src, dst)] = edges.get((src, dst), 0) + 1
    for key, value in names.items():
        if id(value) not in placed:
            idx = len(nodes)
            origin = (_("leaf") if value.grad_fn is None
                      else f"grad_fn={value.grad_fn.name()}")
            nodes.append(GraphNode(idx, "unreachable", key,
                                   _("requires_grad={requires_grad} · {origin}",
                                     requires_grad=value.requires_grad, origin=origin),
                                   value.requires_grad))
    return AutogradGraph(tuple(nodes), tuple(GraphEdge(s, d, c) for (s, d), c in edges.items()))


# ----------------------------------------------------------------------------- layout + SVG

_LABEL_PX = 14
_DETAIL_PX = 13
_CHAR = 0.6  # monospace glyph width as a fraction of the font size
_LINE = 16  # pixels per detail line
_HGAP = 22  # horizontal gap between nodes in a row
_VGAP = 34  # vertical gap between rows (room for the arrows)
_MARGIN = 12
_LEGEND = [
    ("rect", "leaf", "", msg("tensor, requires_grad=True (solid border)")),
    ("rect", "no_grad", ' stroke-dasharray="5 3"', msg("requires_grad=False (dashed border)")),
    ("ellipse", "op", "", msg("operation: a grad_fn node")),
]


def _lines(n: GraphNode) -> list[str]:
    """The detail text of a node, one fact per line."""
    return n.detail.split(" · ")


def _node_size(n: GraphNode) -> tuple[float, float]:
    lines = _lines(n)
    width = max([len(n.label) * _LABEL_PX * _CHAR] + [len(t) * _DETAIL_PX * _CHAR for t in lines])
    width += 36 if n.kind == "op" else 16  # an ellipse needs more room than a box
    return width, 24.0 + _LINE * len(lines)


def _layout(g: AutogradGraph, lang: str = "en",
            ) -> tuple[dict[int, tuple[float, float]], float, float]:
    """Rows by longest forward distance to the output (leaves on top, output at the bottom);
    within a row, nodes are ordered by the mean position of the nodes they feed."""
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
    nrows = 1 + max(dist.values(), default=0)
    rows: list[list[int]] = [[] for _ in range(nrows)]
    for n in connected:
        rows[nrows - 1 - dist[n.index]].append(n.index)
    sizes = {n.index: _node_size(n) for n in g.nodes}
    order: dict[int, float] = {}
    for row in reversed(rows):
        row.sort(key=lambda i: (sum(order[c] for c in consumers[i]) / len(consumers[i])
                                if consumers[i] else 0.0))
        for r, i in enumerate(row):
            order[i] = r - (len(row) - 1) / 2
    row_width = [sum(sizes[i][0] for i in row) + _HGAP * (len(row) - 1) for row in rows]
    graph_w = max(row_width, default=0.0)
    top = _MARGIN + 20 * len(_LEGEND) + 10
    pos: dict[int, tuple[float, float]] = {}
    y = top
    for row, rw in zip(rows, row_width, strict=True):
        h = max(sizes[i][1] for i in row)
        x = _MARGIN + (graph_w - rw) / 2
        for i in row:
            pos[i] = (x + sizes[i][0] / 2, y + h / 2)
            x += sizes[i][0] + _HGAP
        y += h + _VGAP
    width = _MARGIN + graph_w + _MARGIN
    height = y - _VGAP + _MARGIN
    loose = [n for n in g.nodes if n.kind == "unreachable"]
    if loose:
        lx = width + 2 * _HGAP
        ly = top + 20  # below the "not in this graph" heading
        w = max(max(sizes[n.index][0] for n in loose), 200.0)
        for n in loose:
            pos[n.index] = (lx + w / 2, ly + sizes[n.index][1] / 2)
            ly += sizes[n.index][1] + 12
        width = lx + w + _MARGIN
        height = max(height, ly + _MARGIN)
    legend_w = _MARGIN + 30 + max(i18n.display_width(i18n.translate(t, lang))
                                  for *_, t in _LEGEND) * _DETAIL_PX * _CHAR + _MARGIN
    return pos, max(width, legend_w), height


def _text(x: float, y: float, s: str, size: int, fill: str = _STROKE,
          weight: str = "normal", anchor: str = "middle") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" '
            f'text-anchor="{anchor}" fill="{fill}">{html.escape(s)}</text>')


def _draw_node(n: GraphNode, x: float, y: float) -> str:
    w, h = _node_size(n)
    dash = ' stroke-dasharray="5 3"' if not n.requires_grad else ""
    stroke_w = 2.5 if n.kind in ("output", "leaf") else 1.5
    stroke = _MUTED if n.kind == "unreachable" else _STROKE
    fill = _FILL[n.kind]
    if n.kind == "op":
        shape = (f'<ellipse cx="{x:.1f}" cy="{y:.1f}" rx="{w / 2:.1f}" ry="{h / 2:.1f}" '
                 f'fill="{fill}" stroke="{stroke}" stroke-width="{stroke_w}"{dash}/>')
    else:
        rx = 10 if n.kind == "output" else 2
        shape = (f'<rect x="{x - w / 2:.1f}" y="{y - h / 2:.1f}" width="{w:.1f}" '
                 f'height="{h:.1f}" rx="{rx}" fill="{fill}" stroke="{stroke}" '
                 f'stroke-width="{stroke_w}"{dash}/>')
    label_color = _MUTED if n.kind == "unreachable" else _STROKE
    lines = _lines(n)
    first = y - h / 2 + 17
    texts = _text(x, first, n.label, _LABEL_PX, label_color, "bold")
    for k, line in enumerate(lines):
        texts += _text(x, first + _LINE * (k + 1), line, _DETAIL_PX, _MUTED)
    return f'<g class="node {n.kind}">{shape}{texts}</g>'


def _legend(lang: str = "en") -> str:
    parts = []
    for row, (shape, kind, dash, text) in enumerate(_LEGEND):
        y = _MARGIN + 20 * row
        if shape == "rect":
            parts.append(f'<rect x="{_MARGIN}" y="{y}" width="22" height="13" '
                         f'fill="{_FILL[kind]}" stroke="{_STROKE}" stroke-width="1.5"{dash}/>')
        else:
            parts.append(f'<ellipse cx="{_MARGIN + 11}" cy="{y + 6.5}" rx="11" ry="6.5" '
                         f'fill="{_FILL[kind]}" stroke="{_STROKE}" stroke-width="1.5"/>')
        parts.append(_text(_MARGIN + 30, y + 11, i18n.translate(text, lang), _DETAIL_PX,
                           _STROKE, anchor="start"))
    return "".join(parts)


def _describe(g: AutogradGraph, *, lang: str = "en") -> str:
    _ = i18n.translator(lang)
    by_index = {n.index: n for n in g.nodes}
    lines = []
    for e in g.edges:
        times = _(" ({count} times)", count=e.count) if e.count > 1 else ""
        lines.append(_("{label} feeds {label2}{times}",
                       label=by_index[e.src].label, label2=by_index[e.dst].label, times=times))
    loose = g.labels("unreachable")
    if loose:
        lines.append(_("not in the graph: {names}", names=", ".join(loose)))
    return _("; ").join(lines)


def autograd_graph(tensor: torch.Tensor, names: dict[str, torch.Tensor] | None = None,
                   title: str | None = None, caption: str | None = None, *,
                   lang: str = "en") -> GraphFigure:
    """Draw the autograd graph that ``tensor`` was computed by, as an inline SVG figure.

    Used in chapter 3. Boxes are tensors (solid border: requires_grad=True; dashed:
    requires_grad=False, i.e. not recorded), ellipses are operations (their ``grad_fn``), arrows
    point the way the data flowed forward, from the leaves (top) to the output (bottom);
    ``backward()`` walks them in reverse and cannot enter a dashed box. ``names`` labels tensors
    (see :func:`trace_graph`); named tensors that the graph does not contain are listed to the
    right of it. The SVG's ``<title>`` is ``title``, its ``<desc>`` lists every edge in words
    (for screen readers); the visible caption is ``caption``, or a generated one naming the
    leaves, the inputs that do not require grad and the named tensors outside the graph.
    """
    _ = i18n.translator(lang)
    g = trace_graph(tensor, names, lang=lang)
    pos, width, height = _layout(g, lang)
    body: list[str] = []
    for e in g.edges:
        (x1, y1), (x2, y2) = pos[e.src], pos[e.dst]
        sy = y1 + _node_size(g.nodes[e.src])[1] / 2
        ey = y2 - _node_size(g.nodes[e.dst])[1] / 2 - 2
        dash = ' stroke-dasharray="5 3"' if not g.nodes[e.src].requires_grad else ""
        body.append(f'<line x1="{x1:.1f}" y1="{sy:.1f}" x2="{x2:.1f}" y2="{ey:.1f}" '
                    f'stroke="{_STROKE}" stroke-width="1.5" marker-end="url(#cl-arrow)"{dash}/>')
        if e.count > 1:
            body.append(_text((x1 + x2) / 2 + 14, (sy + ey) / 2 + 4, f"×{e.count}", _LABEL_PX,
                              _STROKE, "bold"))
    loose = [n for n in g.nodes if n.kind == "unreachable"]
    if loose:
        left = min(pos[n.index][0] - _node_size(n)[0] / 2 for n in loose)
        first = min(pos[n.index][1] - _node_size(n)[1] / 2 for n in loose)
        body.append(_text(left, first - 8, _("not in this graph:"), _DETAIL_PX, _MUTED,
                          anchor="start"))
    for n in g.nodes:
        body.append(_draw_node(n, *pos[n.index]))
    heading = _(title) if title else _("Autograd graph")
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" font-family="monospace" '
        f'style="max-width:100%;height:auto">'
        f"<title>{html.escape(heading)}</title><desc>{html.escape(_describe(g, lang=lang))}</desc>"
        '<defs><marker id="cl-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        f'fill="{_STROKE}"/></marker></defs>'
        f'<rect width="100%" height="100%" fill="white"/>{_legend(lang)}{"".join(body)}</svg>'
    )
    return GraphFigure(svg, _(caption) if caption else _caption(g, heading, lang=lang), g)


def _caption(g: AutogradGraph, heading: str, *, lang: str = "en") -> str:
    _ = i18n.translator(lang)
    parts = [_("{heading}.", heading=heading)]
    leaves = g.labels("leaf")
    if leaves:
        parts.append(_("Leaves that receive a gradient: {names}.", names=", ".join(leaves)))
    no_grad = g.labels("no_grad")
    if no_grad:
        parts.append(_("Inputs not recorded (requires_grad=False, dashed): {names}.",
                       names=", ".join(no_grad)))
    loose = g.labels("unreachable")
    if loose:
        parts.append(_("Not in this graph: {names}.", names=", ".join(loose)))
    parts.append(_("Arrows show the forward computation (top to bottom); backward() walks them "
                   "in reverse, from the output up to the leaves."))
    return _.sentences(*parts)
