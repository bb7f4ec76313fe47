"""explorers.js computes in the page (route (b)): its numbers equal PyTorch's on EVERY state.

The explorers drawn by ``convlab/explorers.js`` compute their numbers in JavaScript. These
tests run that file in node, enumerate every reachable slider state (the ranges in
``convlab.explore``) and compare each number with PyTorch: 0 mismatches allowed.
"""

from __future__ import annotations

import functools
import itertools
import json
import shutil
import subprocess
from importlib import resources

import pytest
import torch
import torch.nn.functional as F
from test_receptive_field import measured_fields
from torch import nn

from convlab import conv_output_size, conv_params, draw, explore, receptive_field, svg

NODE = shutil.which("node")


def run_node(body: str) -> object:
    """Run ``body`` in node with ``api`` = explorers.js's exports; return what it prints (JSON)."""
    if NODE is None:
        pytest.fail("these tests need Node.js (`node`), which `make book` also needs")
    path = resources.files("convlab").joinpath("explorers.js")
    script = f"const api = require({json.dumps(str(path))});\n{body}"
    done = subprocess.run([NODE, "-"], input=script, capture_output=True, text=True,
                          check=False, timeout=300)
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
    assert svg.esc(str(err.value)) in html


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
        assert svg.esc(draw.output_size_formula(i, k, s, p, d)) in html, (i, k, s, p, d)
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
    assert svg.esc(str(err.value)) in html
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


# ---------------------------------------------------------------------------------------------
# Receptive fields (ch4): proved compositionally
# ---------------------------------------------------------------------------------------------
#
# Five free layers of 540 kinds each, on 15 input sizes, are ~7·10¹⁴ states: too many to run.
# But explorers.js computes a stack one layer at a time (``rfStack`` calls ``rfStep`` on what
# the previous layer gives: the field r, j, start and the size n), and PyTorch too runs one
# layer after the other, stopping at the first refusal. So the proof goes by parts:
#
# 1. every layer step ``rfStep`` — every type × k × s × p × d a slider can set — from every
#    incoming size n up to the largest input (output size, refusal, PyTorch's message: against
#    F.conv2d / F.max_pool2d / F.avg_pool2d) and from every incoming field (r, j, start)
#    reachable in up to two layers (against ``receptive_field``);
# 2. whole stacks: every stack of one or two layers, and a seeded sample of 3–5-layer stacks
#    with their layer types and input sizes, against an autograd measurement (and against
#    ``receptive_field`` and the real nn modules run on the input).

RF_TYPES = explore.RF_RANGES["type"]
#: Every layer the sliders can set.
RF_LAYERS = list(itertools.product(RF_TYPES, *(explore.RF_RANGES[n] for n in "kspd")))
#: The layers PyTorch can build (nn.AvgPool2d has no dilation: a dilated avg-pool is refused).
RF_BUILT = [layer for layer in RF_LAYERS if layer[0] != "avg-pool" or layer[4] == 1]
RF_GEOMETRY = sorted({layer[1:] for layer in RF_LAYERS})  # (k, s, p, d)


def rf_module(layer: tuple) -> nn.Module:
    """The nn module of one explorer layer (type, k, s, p, d); TypeError for a dilated
    avg-pool, as PyTorch gives it."""
    kind, k, s, p, d = layer
    if kind == "conv":
        return nn.Conv2d(1, 1, k, s, p, d)
    if kind == "max-pool":
        return nn.MaxPool2d(k, s, p, d)
    return nn.AvgPool2d(k, s, p, dilation=d) if d != 1 else nn.AvgPool2d(k, s, p)


# One module per layer for the size tests, which apply it to every input size (a module's
# size rules do not depend on its random weights).
_size_module = functools.cache(rf_module)


def torch_layer(layer: tuple, n: int) -> tuple[int | None, str]:
    """Output size per side of ``layer`` (type, k, s, p, d) on an n×n input, or PyTorch's
    message. Above 16 pixels no kernel of the ranges fails for size (its dilated span is at
    most 13), so a 13-pixel-wide input measures the height and keeps this fast."""
    x = torch.zeros(1, 1, n, n if n <= 16 else 13)
    try:
        with torch.no_grad():
            y = _size_module(tuple(layer))(x)
    except (RuntimeError, TypeError) as err:
        return None, str(err)
    return y.shape[-2], ""


def test_rf_every_layer_step_size_and_refusal_equal_torch() -> None:
    """Step 1 (sizes): every layer on every incoming size 1…224 (every size a layer can get:
    the largest input is 224): output size, or the refusal with PyTorch's own message."""
    largest = max(explore.RF_RANGES["i"])
    got = run_node(f"""
const out = [];
for (const layer of {json.dumps(RF_LAYERS)}) for (let n = 1; n <= {largest}; n++) {{
  const st = api.rfStep({{r: 1, j: 1, start: 0, n}}, layer);
  out.push([st.o, st.error || null, st.torch || null]);
}}
console.log(JSON.stringify(out));
""")
    assert len(got) == len(RF_LAYERS) * largest == 540 * 224
    mismatches, refused = [], 0
    for (layer, n), (o, error, said) in zip(
            itertools.product(RF_LAYERS, range(1, largest + 1)), got, strict=True):
        size, message = torch_layer(layer, n)
        if size is None:
            refused += 1
            if o != 0 or said != message or not error:
                mismatches.append((layer, n, "refusal", said, message))
            elif layer[0] == "conv":  # the rule in words is convlab's (conv_output_size)
                with pytest.raises(ValueError) as rule:
                    conv_output_size(n, *layer[1:])
                if error != str(rule.value):
                    mismatches.append((layer, n, "rule", error, str(rule.value)))
        elif o != size or error is not None:
            mismatches.append((layer, n, "size", o, size))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"
    assert refused > 1000  # the four kinds of refusal are all reachable


def reachable_fields() -> list[tuple[int, int, int]]:
    """Every field (r, j, start) that stacks of up to two layers give, per receptive_field."""
    fields = {(1, 1, 0)}
    for a in RF_GEOMETRY:
        row = receptive_field([a])[-1]
        fields.add((row.r, row.j, row.start))
        for b in RF_GEOMETRY:
            row = receptive_field([a, b])[-1]
            fields.add((row.r, row.j, row.start))
    return sorted(fields)


def test_rf_every_layer_step_field_equals_receptive_field() -> None:
    """Step 1 (fields): every layer from every incoming field reachable in up to two layers
    (so every step of stacks of up to three layers, and the field arithmetic of every j, r and
    start those give). The incoming field (r, j, start) is what one layer (k=r, s=j, p=−start,
    d=1) gives, so the expected field is receptive_field of that layer and the step; a pooling
    layer's field is that of nn.MaxPool2d / nn.AvgPool2d (checked once per layer against the
    tuple). A dilated avg-pool is refused on every input (step 1, sizes): it has no field."""
    fields = reachable_fields()
    assert len(fields) > 2000
    got = run_node(f"""
const layers = {json.dumps(RF_LAYERS)}, fields = {json.dumps(fields)}, out = {{}};
for (const layer of layers) {{
  const rows = [];
  for (const [r, j, start] of fields) {{
    const st = api.rfStep({{r, j, start, n: 1000}}, layer);
    rows.push([st.r, st.j, st.start]);
  }}
  out[layer.join(',')] = rows;
}}
console.log(JSON.stringify(out));
""")
    expected: dict[tuple, list[list[int]]] = {}
    for k, s, p, d in RF_GEOMETRY:
        expected[(k, s, p, d)] = [
            [(row := receptive_field([(r, j, -start, 1), (k, s, p, d)])[-1]).r, row.j, row.start]
            for r, j, start in fields]
    mismatches = []
    for layer in RF_BUILT:
        geometry = layer[1:]
        (row,) = receptive_field([rf_module(layer)])
        if (row.k, row.s, row.p, row.d) != geometry:
            mismatches.append((layer, "module"))
        if got[",".join(map(str, layer))] != expected[geometry]:
            mismatches.append((layer, "field"))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_rf_one_row_measurement_is_gradient_receptive_field() -> None:
    """The one-row measurement above equals convlab.reference.gradient_receptive_field (2-D,
    field="theoretical") for every single layer and a sample of two-layer stacks."""
    import random

    from convlab.reference import gradient_receptive_field, nonzero_extent

    rng = random.Random(18)
    stacks = [[g] for g in RF_GEOMETRY] + [rng.choices(RF_GEOMETRY, k=2) for _ in range(60)]
    for layers in stacks:
        jumps = [1]
        for _, s, _, _ in layers:
            jumps.append(jumps[-1] * s)
        m = jumps[-1] * (3 * sum(jumps[:-1]) // jumps[-1] + 1)
        size = 2 * m + 13 * sum(jumps[:-1]) + 4 * jumps[-1]
        u = m // jumps[-1]
        top, left, h, w = nonzero_extent(gradient_receptive_field(layers, size, (u, u)))
        _, left2, _, _ = nonzero_extent(gradient_receptive_field(layers, size, (u, u + 1)))
        assert h == w and top == left
        assert measured_fields(layers)[-1] == (w, left2 - left, left - m), layers


def test_rf_every_stack_of_up_to_two_layers_equals_autograd() -> None:
    """Step 2: every stack of one or two layers (every k, s, p, d; the type changes only
    sizes and refusals, proved in step 1), every row: explorers.js against the autograd
    measurement and receptive_field."""
    stacks = [[a] for a in RF_GEOMETRY] + [[a, b] for a in RF_GEOMETRY for b in RF_GEOMETRY]
    got = run_node(f"""
const out = [];
for (const layers of {json.dumps(stacks)})
  out.push(api.rfStack(1000, layers.map(g => ['conv', ...g])).map(st => [st.r, st.j, st.start]));
console.log(JSON.stringify(out));
""")
    assert len(got) == 180 + 180 ** 2
    mismatches = []
    for layers, js in zip(stacks, got, strict=True):
        table = [[row.r, row.j, row.start] for row in receptive_field(layers)]
        if js != table or [tuple(row) for row in js] != measured_fields(layers):
            mismatches.append((layers, js))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:5]}"


def test_rf_sampled_deep_stacks_equal_torch() -> None:
    """Step 2: a seeded sample of 3–5-layer stacks with random types and input sizes: the
    real nn modules run on the i×i input one after the other give every output size and the
    first refusal (PyTorch's message); receptive_field of the modules and the autograd
    measurement give every r, j and start."""
    import random

    rng = random.Random(2026)
    cases = []
    sizes = explore.RF_RANGES["i"]
    for n in range(4000):  # most from the layers PyTorch builds and larger inputs: deep stacks
        pool = RF_LAYERS if n % 4 == 0 else RF_BUILT
        layers = [list(rng.choice(pool)) for _ in range(rng.randint(3, 5))]
        cases.append((rng.choice(sizes if n % 2 else sizes[len(sizes) // 2:]), layers))
    got = run_node(f"""
console.log(JSON.stringify({json.dumps(cases)}.map(([i, layers]) => api.rfStack(i, layers)
  .map(st => st.error ? [0, st.torch] : [st.o, st.r, st.j, st.start]))));
""")
    mismatches, refused = [], 0
    for (i, layers), js in zip(cases, got, strict=True):
        x, modules, expected = torch.zeros(1, 1, i, i), [], []
        with torch.no_grad():
            for layer in layers:
                try:
                    modules.append(rf_module(layer))
                    x = modules[-1](x)
                except (RuntimeError, TypeError) as err:
                    expected.append([0, str(err)])
                    refused += 1
                    break
                expected.append([x.shape[-1]])
        ran = modules[:len(expected) - (expected[-1][0] == 0)]
        if ran:
            fields = [(row.r, row.j, row.start) for row in receptive_field(ran)]
            if fields != measured_fields([tuple(layer[1:]) for layer in layers[:len(ran)]]):
                mismatches.append((i, layers, "measured"))
            for row, field in zip(expected, fields, strict=False):
                row.extend(field)
        if js != expected:
            mismatches.append((i, layers, js, expected))
    assert mismatches == [], f"{len(mismatches)} mismatches, first: {mismatches[:3]}"
    assert 300 < refused < 3700
    deep = sum(len(js) >= 4 and js[-1][0] != 0 for js in got)
    assert deep > 300, f"only {deep} stacks of 4–5 layers ran to the end"


def test_rf_picture_refusal_table_and_caption() -> None:
    """The picture shows the table rows (r, j, start per layer), PyTorch's message and the
    rule for a refused layer, and the fields reaching into the padding."""
    q = {"i": 4, "layers": 2, "layer": 1, "type": "conv", "k": 3, "s": 1, "p": 1, "d": 1,
         "stack": [["conv", 3, 1, 1, 1], ["max-pool", 3, 1, 2, 1]]}
    html = run_node(f"console.log(JSON.stringify(api.drawRf({json.dumps(q)}).html));")
    with pytest.raises(RuntimeError) as err:
        F.max_pool2d(torch.zeros(1, 1, 4, 4), 3, stride=1, padding=2)
    assert svg.esc(str(err.value)) in html
    assert "padding must be at most half its kernel, ⌊k/2⌋ = ⌊3/2⌋ = 1, but p = 2" in html
    assert "data-r='3' data-j='1' data-start='-1'" in html and "refused by PyTorch" in html
    q["stack"][1] = ["max-pool", 2, 2, 0, 2]
    html = run_node(f"console.log(JSON.stringify(api.drawRf({json.dumps(q)}).html));")
    (first, second) = receptive_field([nn.Conv2d(1, 1, 3, 1, 1), nn.MaxPool2d(2, 2, 0, 2)])
    assert f"data-o='1' data-r='{second.r}' data-j='{second.j}' data-start='{second.start}'" \
        in html
    assert "Output 0 of layer 2 sees input pixels -1…3: r = 5" in html
    assert "(1 of them outside the 4 input pixels, in the padding)" in html


def test_rf_sliders_edit_one_layer_at_a_time() -> None:
    """syncRf: the k/s/p/d/type sliders show and set the edited layer; choosing another layer
    loads its values; the edited layer snaps to the last shown."""
    spec = explore.receptive_field_explorer().convlab_spec
    got = run_node(f"""
const spec = {json.dumps(spec)}, memory = {{}}, log = [];
let q = {{i: 32, layers: 3, layer: 1, type: 'conv', k: 3, s: 1, p: 1, d: 1}};
const step = change => {{
  q = Object.assign({{}}, q, change);
  api.syncRf(q, spec, memory, (name, value) => {{ q[name] = value; }});
  log.push([q.layer, q.type, q.k, q.s, q.p, q.d, q.stack]);
}};
step({{}}); step({{k: 5}}); step({{layer: 2}}); step({{type: 'avg-pool', d: 3}});
step({{layer: 1}}); step({{layers: 1, layer: 3}}); step({{layers: 5, layer: 5}});
console.log(JSON.stringify(log));
""")
    stack = [list(layer) for layer in explore.RF_STACK]
    assert got[0] == [1, "conv", 3, 1, 1, 1, stack[:3]]
    assert got[1][:6] == [1, "conv", 5, 1, 1, 1] and got[1][6][0] == ["conv", 5, 1, 1, 1]
    assert got[2][:6] == [2, *stack[1]]  # layer 2's values loaded into the sliders
    assert got[3][:6] == [2, "avg-pool", 2, 2, 0, 3]  # refused in the picture, not snapped
    assert got[4][:6] == [1, "conv", 5, 1, 1, 1]
    assert got[5][0] == 1 and len(got[5][6]) == 1  # edited layer snaps into the stack shown
    assert got[6][:6] == [5, *stack[4]] and got[6][6][1] == ["avg-pool", 2, 2, 0, 3]
