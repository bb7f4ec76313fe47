"""convlab.sandbox: learner code runs in a child process that a time limit really stops."""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import convlab
from convlab import sandbox
from convlab.sandbox import Call, Rule

CONVOLUTIONS = frozenset({"conv2d", "convolution"})


def children() -> set[int]:
    """Process ids of this process's living children (every thread's)."""
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        text = (task / "children").read_text()
        pids |= {int(p) for p in text.split()}
    return pids


def test_values_of_every_kind_come_back() -> None:
    def fn(kind: str):
        return {
            "int": 7, "float": 2.5, "none": None, "bool": True, "str": "hi",
            "tensor": torch.arange(6.0).reshape(2, 3).requires_grad_(),
            "numpy": np.arange(3), "numpy scalar": np.float64(1.5),
            "nested": {"a": [1, (2, 3)], 4: {5, 6}}, "complex": 1 + 2j,
            "object": nn.ReLU(),
        }[kind]

    kinds = ["int", "float", "none", "bool", "str", "tensor", "numpy", "numpy scalar",
             "nested", "complex", "object"]
    run = sandbox.run(fn, [Call((k,)) for k in kinds], time_limit=30)
    values = dict(zip(kinds, (o.value for o in run.outcomes), strict=True))
    assert all(o.status == "returned" for o in run.outcomes)
    assert values["int"] == 7 and values["float"] == 2.5 and values["none"] is None
    assert values["bool"] is True and values["str"] == "hi" and values["complex"] == 1 + 2j
    torch.testing.assert_close(values["tensor"], torch.arange(6.0).reshape(2, 3))
    assert not values["tensor"].requires_grad
    assert isinstance(values["numpy"], np.ndarray) and values["numpy"].tolist() == [0, 1, 2]
    assert isinstance(values["numpy scalar"], np.float64) and values["numpy scalar"] == 1.5
    assert values["nested"] == {"a": [1, (2, 3)], 4: {5, 6}}
    assert isinstance(values["object"], sandbox.Unsendable)
    assert values["object"].type_name == "ReLU" and repr(values["object"]) == "ReLU()"


def test_an_exception_is_reported_with_the_learners_line() -> None:
    def fn(d):
        if d > 1:
            raise NotImplementedError("dilation later")
        return d

    run = sandbox.run(fn, [Call((1,)), Call((2,)), Call((1,))], time_limit=30)
    assert [o.status for o in run.outcomes] == ["returned", "raised", "returned"]
    error = run.outcomes[1].error
    assert error.type_name == "NotImplementedError" and error.message == "dilation later"
    assert error.is_a("RuntimeError")  # NotImplementedError's base class
    assert "raise NotImplementedError" in error.line


@pytest.mark.parametrize("body", [
    "while True:\n    pass",
    "sum(range(10**10))",          # one C call that holds the GIL
    "7 ** (7 ** 9)",               # likewise, in the big-integer code
])
def test_code_past_the_time_limit_is_killed(body: str) -> None:
    namespace: dict = {}
    exec("def fn():\n" + textwrap.indent(body, "    "), namespace)  # noqa: S102
    before = children()
    start = time.monotonic()
    run = sandbox.run(namespace["fn"], [Call(), Call()], time_limit=1.0)
    elapsed = time.monotonic() - start
    assert [o.status for o in run.outcomes] == ["timed out", "not run"]
    assert run.stopped == "timed out"
    assert elapsed < 30  # generous: only proves the wait ended (the GIL did not stop it)
    assert children() <= before  # the child is gone: no CPU burnt afterwards


def test_exits_are_reported_and_the_next_call_runs() -> None:
    def fn(how):
        if how == "sys.exit":
            sys.exit(3)
        if how == "SystemExit":
            raise SystemExit("bye")
        if how == "os._exit":
            os._exit(4)
        return how

    hows = ["sys.exit", "after", "SystemExit", "os._exit", "after"]
    run = sandbox.run(fn, [Call((h,)) for h in hows], time_limit=30)
    assert [o.status for o in run.outcomes] == ["exited", "returned", "exited", "exited",
                                                "returned"]
    assert run.outcomes[0].error.exit_code == 3
    assert run.outcomes[2].error.exit_code == "bye"
    assert run.outcomes[3].error.type_name == "os._exit"
    assert run.outcomes[3].error.exit_code == 4
    assert run.outcomes[4].value == "after"


def test_an_output_flood_is_capped_stopped_and_never_printed(capfd) -> None:
    def fn():
        while True:
            print("flood " * 50)

    run = sandbox.run(fn, [Call(), Call()], time_limit=30, output_limit=10_000)
    assert [o.status for o in run.outcomes] == ["output limit", "not run"]
    assert run.stopped == "output limit" and run.output_truncated
    assert run.output.startswith("flood flood") and len(run.output) == 10_000
    assert run.output_bytes > 10_000
    captured = capfd.readouterr()
    assert "flood" not in captured.out + captured.err


def test_output_of_python_and_of_file_descriptors_is_captured(capfd) -> None:
    def fn():
        print("from print")
        os.write(1, b"from fd 1\n")
        print("from stderr", file=sys.stderr)
        return 1

    run = sandbox.run(fn, [Call()], time_limit=30)
    assert run.outcomes[0].value == 1
    assert {"from print", "from fd 1", "from stderr"} <= set(run.output.splitlines())
    assert not run.output_truncated
    captured = capfd.readouterr()
    assert "from" not in captured.out + captured.err


def test_forbidden_calls_are_seen_however_they_are_reached() -> None:
    conv = F.conv2d  # an alias bound before the check
    x, w = torch.ones(1, 1, 4, 4), torch.ones(1, 1, 2, 2)
    routes = {
        "direct": lambda: F.conv2d(x, w),
        "lambda": (lambda c=lambda a, b: F.conv2d(a, b): lambda: c(x, w))(),
        "alias": lambda: conv(x, w),
        "module": lambda: nn.Conv2d(1, 1, 2)(x),
        "torch.conv2d": lambda: torch.conv2d(x, w),
        "aten": lambda: torch.ops.aten.convolution(x, w, None, [1, 1], [0, 0], [1, 1],
                                                   False, [0, 0], 1),
        "convlab": lambda: convlab.conv2d_loops(x, w),
        "allowed": lambda: F.pad(x, (1, 1, 1, 1)).sum(),
    }
    rules = [Rule("F.conv2d", torch_ops=CONVOLUTIONS),
             Rule("convlab's reference", functions=(convlab.reference.conv2d_loops,))]
    names = list(routes)
    run = sandbox.run(lambda name: routes[name](), [Call((n,)) for n in names], time_limit=60,
                      rules=rules)
    seen = dict(zip(names, (o.forbidden for o in run.outcomes), strict=True))
    assert all(o.status == "returned" for o in run.outcomes)
    for name in ["direct", "lambda", "alias", "module", "torch.conv2d", "aten"]:
        assert seen[name] == ("F.conv2d",), name
    assert seen["convlab"] == ("convlab's reference",)
    assert seen["allowed"] == ()


def test_a_rule_can_allow_some_calls() -> None:
    def single_channel(_op, args, kwargs):
        weight = args[1] if len(args) > 1 else kwargs["weight"]
        return weight.shape[0] == 1 and weight.shape[1] == 1

    rule = Rule("multi-channel F.conv2d", torch_ops=CONVOLUTIONS, allow=single_channel)
    x = torch.ones(1, 2, 4, 4)
    calls = [Call((x[:, :1], torch.ones(1, 1, 2, 2))), Call((x, torch.ones(1, 2, 2, 2)))]
    run = sandbox.run(F.conv2d, calls, time_limit=30, rules=[rule])
    assert [o.forbidden for o in run.outcomes] == [(), ("multi-channel F.conv2d",)]


def test_inputs_changed_in_place_are_named() -> None:
    def fn(x, w, b=None):
        x += 1
        if b is not None:
            b.append(3)
        return w

    run = sandbox.run(fn, [Call((torch.zeros(2), torch.ones(2)), {"b": [1]}),
                           Call((torch.zeros(2).expand(2, 2).clone(), torch.ones(1)))],
                      time_limit=30)
    assert run.outcomes[0].changed_inputs == ("x", "b")
    assert run.outcomes[1].changed_inputs == ("x",)


def test_observe_reports_state_from_the_child() -> None:
    model = nn.Linear(2, 1)

    def train(m):
        with torch.no_grad():
            m.weight.fill_(3.0)

    run = sandbox.run(train, [Call((model,))], time_limit=30,
                      observe=lambda call, value: call.args[0].weight)
    torch.testing.assert_close(run.outcomes[0].observed, torch.full((1, 2), 3.0))
    assert not torch.equal(model.weight, torch.full((1, 2), 3.0))  # the caller's is untouched


def test_torch_works_in_the_child_after_the_parent_used_its_threads() -> None:
    x, w = torch.randn(4, 8, 64, 64), torch.randn(8, 8, 3, 3)
    expected = F.conv2d(x, w)  # the parent's OpenMP threads exist now
    run = sandbox.run(lambda: F.conv2d(x, w) @ torch.ones(62, 62), [Call()], time_limit=60)
    assert run.outcomes[0].status == "returned"
    torch.testing.assert_close(run.outcomes[0].value, expected @ torch.ones(62, 62))


def test_bad_arguments_are_refused_with_the_rule() -> None:
    with pytest.raises(ValueError, match="time_limit must be a positive number"):
        sandbox.run(abs, [Call((1,))], time_limit=0)
    with pytest.raises(TypeError, match="list of sandbox.Call"):
        sandbox.run(abs, [(1,)], time_limit=1)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="needs a callable"):
        sandbox.run(3, [Call()], time_limit=1)  # type: ignore[arg-type]
