"""convlab.backward_graph (ch3): the gradient on every edge is autograd's."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import backward_graph as bg

SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str, cls: str) -> list[str]:
    return ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")
            if t.get("class") == cls]


def _edge(trace: bg.BackwardTrace, src: str, dst: str) -> bg.BackwardEdge:
    label = {n.index: n.label for n in trace.nodes}
    (edge,) = [e for e in trace.edges if label[e.src] == src and label[e.dst] == dst]
    return edge


def test_edges_carry_the_gradients_retain_grad_sees() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    x = torch.tensor([5.0, 6.0])
    m = a * b
    s = m + a
    y = (s * x).sum()
    fig = bg.backward_graph(y, {"a": a, "b": b, "y": y})
    tr = fig.trace
    assert a.grad is None and b.grad is None  # drawing does not accumulate into .grad
    # the same computation, observed the usual way: retain_grad on the intermediates
    a2, b2 = a.detach().clone().requires_grad_(), b.detach().clone().requires_grad_()
    m2 = a2 * b2
    m2.retain_grad()
    s2 = m2 + a2
    s2.retain_grad()
    p2 = s2 * x
    p2.retain_grad()
    (p2.sum()).backward()
    torch.testing.assert_close(_edge(tr, "y", "SumBackward0").grads[0], torch.tensor(1.0))
    torch.testing.assert_close(_edge(tr, "SumBackward0", "MulBackward0").grads[0], p2.grad)
    torch.testing.assert_close(_edge(tr, "MulBackward0", "AddBackward0").grads[0], s2.grad)
    torch.testing.assert_close(_edge(tr, "AddBackward0", "a").grads[0], s2.grad)
    torch.testing.assert_close(tr.leaf_grads["a"], a2.grad)
    torch.testing.assert_close(tr.leaf_grads["b"], b2.grad)
    # what the figure writes is those numbers
    drawn = _texts(fig.svg, "cl-grad")
    assert bg.grad_text(s2.grad) in drawn and bg.grad_text(m2.grad * b2) in drawn
    assert sorted(_texts(fig.svg, "cl-leaf-grad")) == [
        f"a.grad = {bg.grad_text(a2.grad)}", f"b.grad = {bg.grad_text(b2.grad)}"]
    assert len(drawn) == len(tr.edges)


def test_a_tensor_used_twice_gets_two_gradients_that_add_up() -> None:
    a = torch.tensor(3.0, requires_grad=True)
    y = a * a
    fig = bg.backward_graph(y, {"a": a})
    edge = _edge(fig.trace, "MulBackward0", "a")
    assert [float(g) for g in edge.grads] == [3.0, 3.0]
    assert "3 + 3" in _texts(fig.svg, "cl-grad")
    (expected,) = torch.autograd.grad(a * a, a)
    assert _texts(fig.svg, "cl-leaf-grad") == [f"a.grad = {bg.grad_text(expected)}"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-3, 3, allow_nan=False), min_size=1, max_size=4),
       st.sampled_from(["exp", "tanh", "square", "sin"]))
def test_leaf_gradients_equal_autograd(values: list[float], op: str) -> None:
    w = torch.tensor(values, requires_grad=True)
    c = torch.tensor(values[::-1], requires_grad=True)
    y = (getattr(torch, op)(w) * c + w).mean()
    tr = bg.trace_backward(y, {"w": w, "c": c})
    gw, gc = torch.autograd.grad((getattr(torch, op)(w) * c + w).mean(), (w, c))
    torch.testing.assert_close(tr.leaf_grads["w"], gw)
    torch.testing.assert_close(tr.leaf_grads["c"], gc)


def test_a_detached_input_receives_no_edge() -> None:
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    y = (a * a.detach()).sum()
    tr = bg.trace_backward(y, {"a": a})
    assert [n.label for n in tr.nodes if n.kind == "leaf"] == ["a"]
    torch.testing.assert_close(tr.leaf_grads["a"], torch.tensor([1.0, 2.0]))


@pytest.mark.parametrize("output, error, rule", [
    ([1.0], TypeError, "must be a torch.Tensor"),
    (torch.ones(2), ValueError, "no grad_fn"),
    (torch.ones(2, requires_grad=True) * 2, ValueError, "one element"),
])
def test_bad_input_names_the_rule(output: object, error: type, rule: str) -> None:
    with pytest.raises(error, match=rule):
        bg.trace_backward(output)  # type: ignore[arg-type]


def test_grad_text() -> None:
    assert bg.grad_text(torch.tensor(2.0)) == "2"
    assert bg.grad_text(torch.tensor([0.5, -1.0])) == "[0.5, -1]"
    assert bg.grad_text(torch.zeros(3, 3)) == "shape (3, 3)"
