"""Tests for convlab.graph (chapter 3's autograd-graph figure), checked against PyTorch itself."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab.graph import autograd_graph, trace_graph


def walk(t: torch.Tensor) -> tuple[int, int, int]:
    """Independent count over PyTorch's graph: (backward nodes, None slots, non-None slots)."""
    seen: set[int] = set()
    keep = []
    stack = [t.grad_fn]
    none_slots = used_slots = 0
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        keep.append(fn)
        for nxt, _ in fn.next_functions:
            if nxt is None:
                none_slots += 1
            else:
                used_slots += 1
                stack.append(nxt)
    return len(seen), none_slots, used_slots


def test_product_sum_structure() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    y = (a * w).sum()
    g = trace_graph(y, {"a": a, "w": w, "y": y})
    assert g.labels("op") == ["SumBackward0", "MulBackward0"]
    assert sorted(g.labels("leaf")) == ["a", "w"]
    assert g.labels("output") == ["y"]
    assert g.count("no_grad") == 0 and g.count("unreachable") == 0
    by_label = {n.label: n.index for n in g.nodes}
    pairs = {(e.src, e.dst) for e in g.edges}
    assert pairs == {
        (by_label["a"], by_label["MulBackward0"]),
        (by_label["w"], by_label["MulBackward0"]),
        (by_label["MulBackward0"], by_label["SumBackward0"]),
        (by_label["SumBackward0"], by_label["y"]),
    }


def test_repeated_input_counts_twice() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    g = trace_graph((a * a).sum(), {"a": a})
    leaf = g.labels("leaf").index("a")
    leaf_index = [n.index for n in g.nodes if n.kind == "leaf"][leaf]
    (edge,) = [e for e in g.edges if e.src == leaf_index]
    assert edge.count == 2
    assert "×2" in autograd_graph((a * a).sum(), {"a": a}).svg


def test_detached_input_is_a_no_grad_node_and_cut_leaf_is_unreachable() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    h = a * 2
    b = h.detach()
    y = (b * w).sum()
    g = trace_graph(y, {"a": a, "h": h, "b": b, "w": w})
    assert g.labels("no_grad") == ["b"]
    assert [n.requires_grad for n in g.nodes if n.kind == "no_grad"] == [False]
    assert g.labels("leaf") == ["w"]
    assert g.labels("unreachable") == ["a", "h"]
    y.backward()
    assert a.grad is None and w.grad is not None  # what the figure claims, per PyTorch


def test_named_intermediate_is_marked_on_its_operation() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    h = a.sin()
    y = (h * 3).sum()
    g = trace_graph(y, {"a": a, "h": h, "y": y})
    details = {n.label: n.detail for n in g.nodes if n.kind == "op"}
    assert details["SinBackward0"] == "h.grad_fn"
    assert details["SumBackward0"] == "y.grad_fn"


def test_tensor_without_grad_fn() -> None:
    a = torch.tensor([1.0], requires_grad=True)
    g = trace_graph(a, {"a": a})
    assert [(n.kind, n.label) for n in g.nodes] == [("leaf", "a")] and g.edges == ()
    c = torch.tensor([1.0])
    g = trace_graph(c)
    assert [(n.kind, n.requires_grad) for n in g.nodes] == [("no_grad", False)]


def test_bad_arguments() -> None:
    a = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="tensor must be a torch.Tensor"):
        trace_graph([1.0])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="names must be a dict"):
        trace_graph(a, [a])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"names\['a'\] must be a torch.Tensor"):
        trace_graph(a, {"a": 1.0})  # type: ignore[dict-item]


def test_svg_is_well_formed_and_described() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = (a * 2).detach()
    y = (a * b).sum()
    fig = autograd_graph(y, {"a": a, "b": b, "y": y}, title="y = sum(a * b)")
    root = ET.fromstring(fig.svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "y = sum(a * b)"
    desc = root.find(f"{ns}desc").text
    assert "a feeds MulBackward0" in desc and "b feeds MulBackward0" in desc
    groups = [g for g in root.iter(f"{ns}g") if "node" in g.get("class", "")]
    assert len(groups) == len(fig.graph.nodes)
    assert fig._repr_svg_() == fig.svg
    assert root.get("role") == "img"
    assert "Leaves that receive a gradient: a." in fig.caption
    assert "Inputs not recorded (requires_grad=False, dashed): b." in fig.caption
    assert fig.svg in fig._repr_html_() and "<figcaption" in fig._repr_html_()


OPS = ["add", "mul", "sin", "detach", "mean_keep"]


@settings(max_examples=60, deadline=None)
@given(
    flags=st.lists(st.booleans(), min_size=2, max_size=4),
    program=st.lists(
        st.tuples(st.sampled_from(OPS), st.integers(0, 50), st.integers(0, 50)),
        min_size=1, max_size=7,
    ),
)
def test_graph_matches_pytorch(flags: list[bool], program: list[tuple[str, int, int]]) -> None:
    """Random expressions: node/edge counts equal PyTorch's graph; leaves = tensors given .grad."""
    torch.manual_seed(0)
    names: dict[str, torch.Tensor] = {}
    pool: list[torch.Tensor] = []
    for i, rg in enumerate(flags):
        t = torch.randn(3, requires_grad=rg)
        names[f"x{i}"] = t
        pool.append(t)
    for op, i, j in program:
        u, v = pool[i % len(pool)], pool[j % len(pool)]
        if op == "add":
            r = u + v
        elif op == "mul":
            r = u * v
        elif op == "sin":
            r = u.sin()
        elif op == "detach":
            r = u.detach()
        else:
            r = u.mean(0, keepdim=True).expand(3)
        pool.append(r)
        names[f"t{len(pool)}"] = r
    out = (pool[-1] * pool[0]).sum()
    if out.grad_fn is None:
        return  # nothing requires grad: no graph to compare (covered by the test above)
    g = trace_graph(out, names)
    n_fn, none_slots, used_slots = walk(out)
    assert g.count("op") + g.count("leaf") == n_fn
    assert g.count("no_grad") == none_slots
    assert g.count("output") == 1
    assert sum(e.count for e in g.edges) == used_slots + none_slots + 1
    assert len(g.nodes) == len({n.index for n in g.nodes})
    leaves_in_figure = set(g.labels("leaf"))
    out.backward()
    given_grad = {k for k, t in names.items() if t.is_leaf and t.grad is not None}
    assert leaves_in_figure == given_grad
    fig = autograd_graph(out, names)
    ET.fromstring(fig.svg)


@pytest.mark.parametrize(("make", "label"), [
    (lambda a: a * 2, "constant 2"),                    # mul saves the wrapped 0-d scalar
    (lambda a: torch.tensor(2.5) * a, "constant 2.5"),  # an unnamed 0-d tensor, first input
    (lambda a: a + 3, "constant"),                      # add saves neither input: no value
    (lambda a: a * torch.ones(2), "constant"),          # not a scalar: no value written
])
def test_unnamed_constant_is_labelled_constant(make, label) -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    y = make(a).sum()
    (slot,) = [nxt for nxt, _ in y.grad_fn.next_functions[0][0].next_functions if nxt is None]
    assert slot is None  # PyTorch did not record the constant
    g = trace_graph(y, {"a": a})
    assert g.labels("no_grad") == [label]
    fig = autograd_graph(y, {"a": a})
    assert "(no grad)" not in fig.svg and f">{label}</text>" in fig.svg


def test_node_text_is_at_least_13_px() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    fig = autograd_graph((a * 2).sum(), {"a": a})
    sizes = [float(t.get("font-size"))
             for t in ET.fromstring(fig.svg).iter("{http://www.w3.org/2000/svg}text")]
    assert sizes and min(sizes) >= 13
