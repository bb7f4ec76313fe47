"""The backward pass drawn the way it runs: from the output to the leaves, with the gradient
that flows along every edge (chapter 3).

:func:`trace_backward` walks ``output.grad_fn`` and its ``next_functions`` (like
:func:`convlab.graph.trace_graph`), registers a hook on every backward node, and runs
``torch.autograd.grad(output, leaves)``: each node's hook receives the gradients it sends to
its inputs, in the order of its ``next_functions``, so every edge's gradient is the value
autograd itself computed. Leaves' ``.grad`` are not touched (``autograd.grad`` returns the
gradients instead of accumulating them), and each leaf's total — the sum of its incoming
edges — is checked equal to what ``autograd.grad`` returned. :func:`backward_graph` draws it:
the output on top, arrows pointing *down* in the direction gradients flow, each labelled with
its gradient.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Literal

import torch

from convlab import draw, i18n, svg
from convlab.i18n import message as msg

Kind = Literal["output", "op", "leaf"]

_FILL = {"output": svg.TINT["output"], "op": svg.TINT["kernel"], "leaf": svg.TINT["input"]}
_STROKE = {"output": draw.ROLES["output"], "op": draw.ROLES["kernel"],
           "leaf": draw.ROLES["input"]}
_FLOW = draw.ROLES["current"]
_PX, _M, _NODE_H, _ROW_GAP, _COL_GAP = 13, 12, 40, 58, 36
_LEGEND = msg("arrows: the gradient flowing backward, from the output to the leaves")


@dataclass(frozen=True)
class BackwardNode:
    """A node: the output tensor, a backward operation (``MulBackward0``) or a leaf."""

    index: int
    kind: Kind
    label: str
    depth: int  # row in the figure: longest path from the output


@dataclass(frozen=True)
class BackwardEdge:
    """Gradient flowing from node ``src`` to node ``dst`` (backward direction), one tensor
    per use (``a * a`` sends two gradients to ``a``)."""

    src: int
    dst: int
    grads: tuple[torch.Tensor, ...]


@dataclass(frozen=True)
class BackwardTrace:
    """Nodes, edges and each named leaf's gradient (as ``autograd.grad`` returned it)."""

    nodes: tuple[BackwardNode, ...]
    edges: tuple[BackwardEdge, ...]
    leaf_grads: dict[str, torch.Tensor]


def _name_of(t: torch.Tensor, names: dict[str, torch.Tensor]) -> str | None:
    return next((k for k, v in names.items() if v is t), None)


def trace_backward(output: torch.Tensor,
                   names: dict[str, torch.Tensor] | None = None, *,
                   lang: str = "en") -> BackwardTrace:
    """Run the backward pass of a one-element ``output`` and record every edge's gradient.

    ``names`` maps display names to tensors (matched with ``is``): leaves and the output are
    labelled with them. Raises ``TypeError``/``ValueError`` naming the rule when ``output`` is
    not a one-element tensor with a ``grad_fn``.
    """
    _ = i18n.translator(lang)
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"output must be a torch.Tensor, got {type(output).__name__}")
    if output.grad_fn is None:
        raise ValueError("output has no grad_fn: it was not computed from tensors that "
                         "require grad, so there is no backward graph to draw")
    if output.numel() != 1:
        raise ValueError(f"output must have one element (a loss), got shape "
                         f"{tuple(output.shape)}: backward() needs a gradient argument "
                         "otherwise")
    names = dict(names or {})
    for k, v in names.items():
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"names[{k!r}] must be a torch.Tensor, got {type(v).__name__}")

    fns: list[Any] = []  # backward nodes in discovery order (index = position + 1)
    index: dict[int, int] = {}
    slots: list[tuple[int, int, int]] = []  # (consumer index, slot, producer index)

    def node(fn: Any) -> int:
        if id(fn) not in index:
            fns.append(fn)
            index[id(fn)] = len(fns)
        return index[id(fn)]

    queue = [output.grad_fn]
    node(output.grad_fn)
    while queue:
        fn = queue.pop(0)
        for slot, (nxt, _input_nr) in enumerate(fn.next_functions):
            if nxt is None:
                continue  # an input that does not require grad receives nothing
            new = id(nxt) not in index
            slots.append((index[id(fn)], slot, node(nxt)))
            if new:
                queue.append(nxt)

    received: dict[int, tuple[torch.Tensor | None, ...]] = {}
    handles = []
    for fn in fns:
        if type(fn).__name__ != "AccumulateGrad":
            def hook(grad_inputs: Any, grad_outputs: Any, i: int = index[id(fn)]) -> None:
                received[i] = tuple(g.detach().clone() if g is not None else None
                                    for g in grad_inputs)
            handles.append(fn.register_hook(hook))
    leaves = [fn.variable for fn in fns if type(fn).__name__ == "AccumulateGrad"]
    try:
        totals = torch.autograd.grad(output, leaves, retain_graph=True, allow_unused=True)
    finally:
        for h in handles:
            h.remove()

    edges: dict[tuple[int, int], list[torch.Tensor]] = {
        (0, 1): [torch.ones_like(output).detach()]}
    for consumer, slot, producer in slots:
        g = received[consumer][slot]
        if g is not None:
            edges.setdefault((consumer, producer), []).append(g)

    depth = {0: 0, 1: 1}
    changed = True
    while changed:  # longest path from the output (the graph is acyclic)
        changed = False
        for (src, dst) in edges:
            if src in depth and depth.get(dst, -1) < depth[src] + 1:
                depth[dst] = depth[src] + 1
                changed = True

    nodes = [BackwardNode(0, "output", _name_of(output, names) or "output", 0)]
    leaf_grads: dict[str, torch.Tensor] = {}
    leaf_no = 0
    for fn in fns:
        i = index[id(fn)]
        if type(fn).__name__ == "AccumulateGrad":
            label = _name_of(fn.variable, names) or _("leaf {leaf_no}", leaf_no=leaf_no)
            total = sum(g for (s, d), gs in edges.items() if d == i for g in gs)
            torch.testing.assert_close(total, totals[leaf_no])  # edges add up to autograd's
            leaf_grads[label] = totals[leaf_no]
            leaf_no += 1
            nodes.append(BackwardNode(i, "leaf", label, depth[i]))
        else:
            nodes.append(BackwardNode(i, "op", fn.name(), depth[i]))
    return BackwardTrace(tuple(nodes),
                         tuple(BackwardEdge(s, d, tuple(gs)) for (s, d), gs in edges.items()),
                         leaf_grads)


def grad_text(g: torch.Tensor, *, lang: str = "en") -> str:
    """A gradient as the figure writes it: ``2``, ``[1, 2, 3]``, or its shape when large."""
    _ = i18n.translator(lang)
    if g.numel() == 1:
        return draw.num(g.reshape(()))
    if g.numel() <= 6:
        return "[" + ", ".join(draw.num(v) for v in g.flatten().tolist()) + "]"
    return _("shape ({dims})", dims=", ".join(str(s) for s in g.shape))


def _edge_text(e: BackwardEdge) -> str:
    return " + ".join(grad_text(g) for g in e.grads)


@dataclass(frozen=True)
class BackwardFigure(draw.Figure):
    """A :class:`convlab.draw.Figure` that also keeps the traced gradients."""

    trace: BackwardTrace


def _box_w(text: str) -> int:
    return max(70, draw.text_width(text, _PX) + 16)


def backward_graph(output: torch.Tensor, names: dict[str, torch.Tensor] | None = None,
                   title: str | None = None, *, lang: str = "en") -> BackwardFigure:
    """Draw the backward pass of ``output`` (chapter 3): the output on top, the leaves at the
    bottom, every arrow pointing the way the gradient flows and labelled with its value.

    Leaves show their gradient (what ``.grad`` would hold after ``backward()``), the sum of
    their incoming edges. Every number is recorded from autograd by :func:`trace_backward`;
    gradient texts carry the class ``cl-grad`` and leaf totals ``cl-leaf-grad`` (tests read
    them). ``names`` labels the output and the leaves.
    """
    _ = i18n.translator(lang)
    tr = trace_backward(output, names, lang=lang)
    leaf_label = {n.index: _("{label}.grad = {grad_text}",
                             label=n.label, grad_text=grad_text(tr.leaf_grads[n.label], lang=lang))
                  for n in tr.nodes if n.kind == "leaf"}
    text_of = {n.index: leaf_label.get(n.index, n.label) for n in tr.nodes}
    rows: dict[int, list[BackwardNode]] = {}
    for n in tr.nodes:
        rows.setdefault(n.depth, []).append(n)
    widths = {n.index: _box_w(text_of[n.index]) for n in tr.nodes}
    row_w = {d: sum(widths[n.index] for n in ns) + _COL_GAP * (len(ns) - 1)
             for d, ns in rows.items()}
    depth_of = {n.index: n.depth for n in tr.nodes}
    skips = [e for e in tr.edges if depth_of[e.dst] - depth_of[e.src] > 1]
    side = 120 if skips else 0  # room on the left for arrows that pass rows by
    legend = _(_LEGEND)
    heading_w = draw.text_width(legend, 12) + 2 * _M
    width = max(side + max(row_w.values()) + 2 * _M, heading_w)
    parents: dict[int, list[int]] = {}
    for e in tr.edges:
        parents.setdefault(e.dst, []).append(e.src)
    pos: dict[int, tuple[float, float]] = {}
    top = _M + 34
    for d, ns in sorted(rows.items()):
        # order a row by where its parents are (fewer crossings), then centre it
        ns = sorted(ns, key=lambda n: sum(pos[p][0] for p in parents.get(n.index, []))
                    / max(1, len(parents.get(n.index, []))))
        x = side + (width - side - row_w[d]) / 2
        for n in ns:
            pos[n.index] = (x + widths[n.index] / 2, top + d * (_NODE_H + _ROW_GAP))
            x += widths[n.index] + _COL_GAP
    height = top + (max(rows) + 1) * (_NODE_H + _ROW_GAP) - _ROW_GAP + _M
    body = [f"<text x='{_M}' y='{_M + 12}' text-anchor='start' fill='{svg.GREY_TEXT}'>"
            f"{html.escape(legend)}</text>"]
    for e in tr.edges:
        (x1, y1), (x2, y2) = pos[e.src], pos[e.dst]
        y1, y2 = y1 + _NODE_H / 2, y2 - _NODE_H / 2 - 3
        if e in skips:  # around the rows in between, on the left
            between = [pos[n.index][0] - widths[n.index] / 2 for n in tr.nodes
                       if depth_of[e.src] < n.depth < depth_of[e.dst]]
            xs = max(_M + 50, min(between) - 50)
            c1, c2 = y1 + (y2 - y1) / 3, y1 + 2 * (y2 - y1) / 3
            d_attr = f"M{x1:.1f} {y1:.1f}C{xs:.1f} {c1:.1f} {xs:.1f} {c2:.1f} {x2:.1f} {y2:.1f}"
            mx, my = (x1 + 6 * xs + x2) / 8, (y1 + y2) / 2
        else:
            d_attr = f"M{x1:.1f} {y1:.1f}L{x2:.1f} {y2:.1f}"
            mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        body.append(f"<path d='{d_attr}' stroke='{_FLOW}' stroke-width='2' fill='none' "
                    "marker-end='url(#cl-grad-arrow)'/>")
        label = _edge_text(e)
        w = draw.text_width(label, 12)
        body.append(f"<rect x='{mx - w / 2:.1f}' y='{my - 10:.1f}' width='{w}' height='18' "
                    f"fill='#fff' stroke='{_FLOW}' rx='3'/>")
        body.append(f"<text class='cl-grad' x='{mx:.1f}' y='{my + 3:.1f}' fill='#111' "
                    f"font-family='monospace'>{html.escape(label)}</text>")
    for n in tr.nodes:
        x, y = pos[n.index]
        w = widths[n.index]
        shape = (f"<ellipse cx='{x:.1f}' cy='{y:.1f}' rx='{w / 2:.1f}' ry='{_NODE_H / 2}' "
                 if n.kind == "op" else
                 f"<rect x='{x - w / 2:.1f}' y='{y - _NODE_H / 2:.1f}' width='{w}' "
                 f"height='{_NODE_H}' rx='4' ")
        body.append(shape + f"fill='{_FILL[n.kind]}' stroke='{_STROKE[n.kind]}' "
                    "stroke-width='1.5'/>")
        cls = " class='cl-leaf-grad'" if n.kind == "leaf" else ""
        body.append(f"<text{cls} x='{x:.1f}' y='{y + 5:.1f}' font-family='monospace' "
                    f"font-size='{_PX}' fill='#111'>{html.escape(text_of[n.index])}</text>")
    defs = (f"<defs><marker id='cl-grad-arrow' viewBox='0 0 10 10' refX='9' refY='5' "
            f"markerWidth='7' markerHeight='7' orient='auto-start-reverse'>"
            f"<path d='M0,0 L10,5 L0,10 z' fill='{_FLOW}'/></marker></defs>")
    heading = _(title) if title else _("The backward pass, with the gradient on every edge")
    desc = _("; ").join(_("{text_of} sends {edge_text} to {text_of2}",
                       text_of=text_of[e.src], edge_text=_edge_text(e), text_of2=text_of[e.dst])
                     for e in tr.edges)
    picture = draw.svg_doc(round(width), round(height), heading, desc, defs + "".join(body))
    caption = (_("{heading}. Read from the top: backward() starts with gradient 1 at the "
                 "output and each operation sends a gradient to each of its inputs (the number "
                 "on the arrow, recorded by a hook on that node); a leaf's gradient is the sum "
                 "of the arrows that reach it: {leaves}.", heading=heading,
                 leaves=", ".join(leaf_label[i] for i in sorted(leaf_label))))
    return BackwardFigure(picture, caption, tr)
