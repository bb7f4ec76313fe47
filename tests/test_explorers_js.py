"""explorers.js computes in the page (route (b)): its numbers equal PyTorch's on EVERY state.

The explorers drawn by ``convlab/explorers.js`` compute their numbers in JavaScript. These
tests run that file in node, enumerate every reachable slider state (the ranges in
``convlab.explore``) and compare each number with PyTorch: 0 mismatches allowed.
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from importlib import resources

import pytest
import torch
import torch.nn.functional as F

from convlab import conv_output_size, conv_params, draw, explore

NODE = shutil.which("node")


def run_node(body: str) -> object:
    """Run ``body`` in node with ``api`` = explorers.js's exports; return what it prints (JSON)."""
    if NODE is None:
        pytest.fail("these tests need Node.js (`node`), which `make book` also needs")
    path = resources.files("convlab").joinpath("explorers.js")
    script = f"const api = require({json.dumps(str(path))});\n{body}"
    done = subprocess.run([NODE, "-e", script], capture_output=True, text=True, check=False,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


CONV_STATES = list(itertools.product(*(explore.CONV_RANGES[n] for n in "ikspd")))


@pytest.fixture(scope="module")
def conv_states() -> dict[str, dict]:
    """explorers.js's view of every convolution configuration, with the multiply-add terms of
    every output cell."""
    states = json.dumps(CONV_STATES)
    return run_node(f"""
const out = {{}};
for (const [i, k, s, p, d] of {states}) {{
  const st = api.conv(i, k, s, p, d);
  const terms = [];
  for (let r = 0; r < st.o; r++) for (let c = 0; c < st.o; c++)
    terms.push(api.convTerms(st, r, c));
  const lim = api.limits.conv({{i, k, s, p, d}});
  out[[i, k, s, p, d].join(',')] = {{o: st.o, y: st.y, xp: st.xp, w: st.w, error: st.error,
    torch: st.torch, terms, limits: [lim.row, lim.col]}};
}}
console.log(JSON.stringify(out));
""")


def test_conv_every_state_equals_torch(conv_states: dict[str, dict]) -> None:
    mismatches = []
    assert len(conv_states) == len(CONV_STATES) == 8 * 5 * 3 * 4 * 3
    for i, k, s, p, d in CONV_STATES:
        js = conv_states[f"{i},{k},{s},{p},{d}"]
        x, w = draw.example_input(i), draw.example_kernel(k)
        xp = F.pad(x, (p, p, p, p))
        if js["xp"] != xp.tolist() or js["w"] != w.tolist():
            mismatches.append((i, k, s, p, d, "input or kernel"))
        try:
            y = F.conv2d(x[None, None], w[None, None], stride=s, padding=p, dilation=d)[0, 0]
        except RuntimeError as err:
            with pytest.raises(ValueError) as rule:
                conv_output_size(i, k, s, p, d)
            if js["torch"] != str(err) or js["error"] != str(rule.value) or js["o"] != 0:
                mismatches.append((i, k, s, p, d, "refusal", js["torch"], str(err)))
            continue
        o = y.shape[-1]
        if js.get("error") is not None or js["o"] != o or js["y"] != y.tolist():
            mismatches.append((i, k, s, p, d, "output"))
        if js["limits"] != [o - 1, o - 1]:
            mismatches.append((i, k, s, p, d, "position limits"))
        # every output cell's multiply-add: its input values are torch's window (F.unfold),
        # its weights the kernel, and the products sum to the output value
        windows = F.unfold(xp[None, None], k, dilation=d, stride=s)[0].T.reshape(-1, k, k)
        pairs = torch.tensor(js["terms"]).reshape(-1, k, k, 2)
        if (pairs.shape[0] != o * o or not torch.equal(pairs[..., 1], windows)
                or not torch.equal(pairs[..., 0], w.expand(o * o, k, k))
                or not torch.equal((pairs[..., 0] * pairs[..., 1]).sum((1, 2)), y.flatten())):
            mismatches.append((i, k, s, p, d, "multiply-add terms"))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_conv_refusals_are_reachable_and_shown() -> None:
    """The ranges include configurations PyTorch refuses; their picture states the rule and
    PyTorch's message."""
    html = run_node("console.log(JSON.stringify(api.drawConv("
                    "{i: 3, k: 5, s: 1, p: 0, d: 2, row: 0, col: 0}).html));")
    assert "kernel 5 (dilated to 9) does not fit the padded input 3+2·0=3" in html
    with pytest.raises(RuntimeError) as err:
        F.conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 5, 5), dilation=2)
    assert draw._e(str(err.value)) in html


def test_conv_caption_formula_is_draws_undilated_for_d1_dilated_for_d_above_1() -> None:
    """The page-drawn explorer's caption writes draw.output_size_formula's text (checked there
    against F.conv2d): ⌊(i+2p−k)/s⌋+1 at d = 1, the dilated form only for d > 1."""
    states = [(i, k, s, p, d) for (i, k, s, p, d) in CONV_STATES
              if d * (k - 1) + 1 <= i + 2 * p]
    htmls = run_node(f"""
console.log(JSON.stringify({json.dumps(states)}.map(([i, k, s, p, d]) =>
  api.drawConv({{i, k, s, p, d, row: 0, col: 0}}).html)));
""")
    for (i, k, s, p, d), html in zip(states, htmls, strict=True):
        assert draw._e(draw.output_size_formula(i, k, s, p, d)) in html, (i, k, s, p, d)
        assert ("d(k−1)" in html) == ("with dilation" in html) == (d > 1), (i, k, s, p, d)


TRANSPOSED_STATES = list(itertools.product(*explore.TRANSPOSED_RANGES.values()))


def test_transposed_every_state_equals_torch() -> None:
    states = json.dumps(TRANSPOSED_STATES)
    got = run_node(f"""
const out = {{}};
for (const [i, k, s, p, op, d] of {states}) {{
  const st = api.transposed(i, k, s, p, op, d);
  out[[i, k, s, p, op, d].join(',')] = {{x: st.x, w: st.w, full: st.full, o: st.o,
                                         valid: st.valid, y: st.y}};
}}
console.log(JSON.stringify(out));
""")
    assert len(got) == len(TRANSPOSED_STATES) == 5 * 5 * 3 * 4 * 3 * 2
    refusals = explore.transposed_refusals(explore.TRANSPOSED_RANGES)["refused"]
    mismatches = []
    for i, k, s, p, op, d in TRANSPOSED_STATES:
        key = f"{i},{k},{s},{p},{op},{d}"
        js = got[key]
        x = torch.arange(1, i * i + 1, dtype=torch.float32).view(1, 1, i, i)
        w = draw.example_kernel(k)[None, None]
        full = F.conv_transpose2d(x, w, stride=s, dilation=d)[0, 0]
        if js["x"] != x[0, 0].tolist() or js["w"] != w[0, 0].tolist():
            mismatches.append((key, "input or kernel"))
        if js["full"] != full.tolist():
            mismatches.append((key, "full grid"))
        try:
            y = F.conv_transpose2d(x, w, stride=s, padding=p, output_padding=op,
                                   dilation=d)[0, 0]
        except RuntimeError:
            y = None
        if y is None or y.numel() == 0:  # refused by torch (or an empty output)
            if js["valid"] or key not in refusals:
                mismatches.append((key, "refusal"))
            continue
        if not js["valid"] or key in refusals or js["o"] != y.shape[-1] or js["y"] != y.tolist():
            mismatches.append((key, "output"))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_transposed_refusal_shows_the_rule_and_torchs_message() -> None:
    spec = explore.transposed_conv_explorer().convlab_spec
    html = run_node(f"console.log(JSON.stringify(api.drawTransposed("
                    f"{{i: 2, k: 3, s: 1, p: 0, op: 1, d: 1}}, {json.dumps(spec)}).html));")
    with pytest.raises(RuntimeError) as err:
        F.conv_transpose2d(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 3, 3), output_padding=1)
    assert draw._e(str(err.value)) in html
    assert "output_padding 1 must be smaller than stride 1 or dilation 1" in html


GRADIENT_STATES = list(itertools.product(*explore.GRADIENT_RANGES.values()))


def test_gradient_every_state_and_pixel_equals_autograd() -> None:
    """∂y[row, col]/∂x from explorers.js equals torch.autograd's for every configuration and
    every output pixel (the rows of the Jacobian of F.conv2d), and refusals equal torch's."""
    states = json.dumps(GRADIENT_STATES)
    got = run_node(f"""
const out = {{}};
for (const [i, k, s, p, d] of {states}) {{
  const first = api.gradient(i, k, s, p, d, 0, 0);
  const pixels = [];
  for (let r = 0; r < first.o; r++) for (let c = 0; c < first.o; c++)
    pixels.push(api.gradient(i, k, s, p, d, r, c).entries);
  out[[i, k, s, p, d].join(',')] = {{o: first.o, error: first.error || null,
                                     torch: first.torch || null, pixels}};
}}
console.log(JSON.stringify(out));
""")
    assert len(got) == len(GRADIENT_STATES) == 6 * 5 * 3 * 4 * 3
    mismatches = []
    for i, k, s, p, d in GRADIENT_STATES:
        js = got[f"{i},{k},{s},{p},{d}"]
        w = draw.gradient_kernel(k)[None, None]
        x = torch.zeros(1, 1, i, i, dtype=torch.float64)
        try:
            y = F.conv2d(x, w, stride=s, padding=p, dilation=d)
        except RuntimeError as err:
            if js["error"] is None or js["torch"] != str(err):
                mismatches.append((i, k, s, p, d, "refusal"))
            continue
        o = y.shape[-1]
        jac = torch.autograd.functional.jacobian(
            lambda t, w=w, s=s, p=p, d=d: F.conv2d(t, w, stride=s, padding=p, dilation=d)[0, 0],
            x, vectorize=True).reshape(o * o, i, i)
        dense = torch.zeros(o * o, i, i, dtype=torch.float64)
        for n, entries in enumerate(js["pixels"]):
            for a, b, g in entries:
                dense[n, a, b] = g
        if js["error"] is not None or js["o"] != o or not torch.equal(dense, jac):
            mismatches.append((i, k, s, p, d, "gradient"))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


CHANNELS_STATES = list(itertools.product(*explore.CHANNELS_RANGES.values()))


def test_channels_every_state_equals_nn_conv2d() -> None:
    """Weight shape, parameter count, refusals (PyTorch's and convlab's words) and which input
    channels each output channel reads, for every state, against nn.Conv2d / F.conv2d."""
    states = json.dumps(CHANNELS_STATES)
    got = run_node(f"""
const out = {{}};
for (const [cin, cout, k, g] of {states}) out[[cin, cout, k, g].join(',')] =
  api.channels(cin, cout, k, g);
console.log(JSON.stringify(out));
""")
    assert len(got) == len(CHANNELS_STATES) == 4 * 4 * 5 * 4
    mismatches = []
    for cin, cout, k, g in CHANNELS_STATES:
        js = got[f"{cin},{cout},{k},{g}"]
        try:
            conv = torch.nn.Conv2d(cin, cout, k, groups=g)
        except ValueError as err:
            with pytest.raises(ValueError) as rule:
                conv_params(cin, cout, k, groups=g)
            if js.get("torch") != str(err) or js.get("error") != str(rule.value):
                mismatches.append((cin, cout, k, g, "refusal", js.get("torch"), str(err)))
            continue
        params = sum(t.numel() for t in conv.parameters())
        # output channel o reads input channel c iff a signal in c alone reaches o
        reads = []
        for o in range(cout):
            reads.append([c for c in range(cin) if F.conv2d(
                torch.eye(cin)[c].view(1, cin, 1, 1).expand(1, cin, k, k),
                torch.ones(cout, cin // g, k, k), groups=g)[0, o].abs().sum().item() > 0])
        if (js.get("error") or js["weight"] != list(conv.weight.shape)
                or js["params"] != params or js["reads"] != reads):
            mismatches.append((cin, cout, k, g, "conv"))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


IMAGE_STATES = list(itertools.product(draw.IMAGE_KERNELS, *explore.IMAGE_RANGES.values()))


def test_image_every_state_equals_f_conv2d() -> None:
    """Every output value (float64 F.conv2d of the embedded photograph) and every gray drawn
    (draw.png_bytes' mapping of F.conv2d's output), for every kernel, stride, padding and
    dilation of the image kernel explorer."""
    data = explore.image_data()
    img = data["image"]
    states = json.dumps(IMAGE_STATES)
    got = run_node(f"""
const data = {json.dumps(data)};
const img = data.image, out = {{}};
for (const [name, s, p, d] of {states}) {{
  const st = api.imageConv(img.pixels, img.h, img.w, data.kernels[name], s, p, d);
  const edge = name !== 'sharpen' && data.kernels[name].flat().some(v => v < 0);
  out[[name, s, p, d].join(',')] = {{h: st.h, w: st.w, y: st.y, gray: api.imageGray(st.y, edge)}};
}}
console.log(JSON.stringify(out));
""")
    assert len(got) == len(IMAGE_STATES) == 7 * 3 * 4 * 3
    x = torch.tensor(img["pixels"], dtype=torch.float64).view(1, 1, img["h"], img["w"]) / 255
    assert torch.equal(x[0, 0].float(), draw.photo())  # the embedded grays are the photograph
    mismatches = []
    for name, s, p, d in IMAGE_STATES:
        js = got[f"{name},{s},{p},{d}"]
        w = torch.tensor(draw.IMAGE_KERNELS[name], dtype=torch.float64)[None, None]
        y = F.conv2d(x, w, stride=s, padding=p, dilation=d)[0, 0]
        shown = torch.tensor(js["y"], dtype=torch.float64)
        if [js["h"], js["w"]] != list(y.shape) or not torch.allclose(shown, y, rtol=0,
                                                                        atol=1e-12):
            mismatches.append((name, s, p, d, "output"))
            continue
        edge = any(v < 0 for row in draw.IMAGE_KERNELS[name] for v in row) and name != "sharpen"
        if edge:
            lo, hi = y.min(), y.max()
            y = (y - lo) / (hi - lo) if hi > lo else torch.zeros_like(y)
        gray = (y.clamp(0, 1) * 255).round().to(torch.int64).flatten().tolist()
        if js["gray"] != gray:
            mismatches.append((name, s, p, d, "grays"))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"
