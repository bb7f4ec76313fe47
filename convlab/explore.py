"""Slider explorers that work in a live kernel *and* on the static site (ch1–ch5).

Every explorer is a ``VBox`` of ipywidgets ``SelectionSlider``s and a picture. Two ways to
make the picture, both keeping the rule that every number a reader sees equals what PyTorch
computes (GUIDE.md section 3); which explorer takes which route:

* **route (b), computed in the page** — every explorer here: ``conv_explorer``,
  ``transposed_conv_explorer``, ``gradient_explorer``, ``channels_explorer``,
  ``image_kernel_explorer`` and ``receptive_field_explorer``, each a :class:`PageExplorer`.
  ``convlab/explorers.js`` (sent with the widget as a second output of the cell) reads the
  sliders, computes the numbers and draws them; ``tests/test_explorers_js.py`` runs that code
  in node on **every** state of the slider ranges (:data:`CONV_RANGES`,
  :data:`TRANSPOSED_RANGES`, :data:`GRADIENT_RANGES`, :data:`CHANNELS_RANGES`,
  :data:`IMAGE_RANGES`) and compares with PyTorch: 0 mismatches. The receptive field
  explorer's five free layers (:data:`RF_RANGES`) have too many states to run them all, so its
  proof is compositional: every single-layer step from every incoming size and every field
  reachable in two layers, every stack of up to two layers, and a seeded sample of 3–5-layer
  stacks, against PyTorch and autograd. Texts PyTorch produces are built by the script and
  proved equal to PyTorch's in the same tests, or (the transposed convolution's) computed here
  with torch and only shown by the script. Explorers refuse slider values outside the tested
  ranges.
* **frames** (the frames machinery, :class:`_Explorer`, used by
  :func:`convlab.channel_window.channel_window_explorer`): every picture is computed in Python
  when the cell runs and put into nested ``ipywidgets.Stack`` containers, one level per slider,
  ``jslink``-ed to the sliders: moving a slider flips the stacks in the browser, without a
  kernel and without custom JavaScript. Identical frames are one shared widget and a level
  where all choices look the same collapses. Frames, stacks and links are lean subclasses
  (:class:`Frame`, :class:`FrameStack`, :class:`FrameLink`) that leave default-valued traits
  out of the page.

Conventions that tests (and the browser tests of the built site) rely on:

* the root widget has the CSS class ``convlab-explorer`` (and ``convlab-explorer-<kind>`` for a
  page explorer);
* each slider is a ``SelectionSlider`` with a ``description`` label and the CSS class
  ``convlab-slider-<name>``; its readout shows the real value, read-only;
* each shown picture has an element with a ``data-frame`` attribute: space-separated
  ``name=value`` pairs, where ``name`` is a slider name and ``value`` its readout. A frame names
  only the sliders it depends on, so at any moment every ``name=value`` in a shown frame equals
  that slider's readout (a page explorer's position sliders snap back to the last cell of a
  smaller output, so their readout stays a valid value). The receptive field explorer's
  ``data-frame`` also has ``stack=type,k,s,p,d;…``, the values of every layer shown.

The root widget carries ``convlab_sliders`` (name -> slider) and ``convlab_links`` (the jslinks)
for tests. :func:`state_size` measures the bytes its embedded widget state costs on a page.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections.abc import Callable, Sequence
from importlib import resources
from typing import Any

import ipywidgets as widgets
import torch
import torch.nn.functional as F
import traitlets

from convlab import draw, i18n, svg
from convlab.arithmetic import conv_output_size, conv_transpose_output_size
from convlab.i18n import message as msg

FrameFn = Callable[[dict[str, Any]], str]


class Frame(widgets.HTML):
    """An ``HTML`` widget that syncs only what the browser needs: its value and layout.

    The traits re-declared here without ``sync`` have the same defaults in the browser's
    ``HTMLModel``, so leaving them out of the embedded state changes nothing on screen but
    roughly halves each frame's fixed cost in the page.
    """

    _dom_classes = traitlets.Tuple()
    _view_count = traitlets.Any(None)
    description = traitlets.Unicode("")
    description_allow_html = traitlets.Bool(False)
    placeholder = traitlets.Unicode("\u200b")
    style = traitlets.Any(None)
    tabbable = traitlets.Any(None)
    tooltip = traitlets.Any(None)


class FrameStack(widgets.Stack):
    """A ``Stack`` that syncs only its children, selected index and layout (see :class:`Frame`).
    """

    _dom_classes = traitlets.Tuple()
    _view_count = traitlets.Any(None)
    box_style = traitlets.Unicode("")
    tabbable = traitlets.Any(None)
    titles = traitlets.Tuple()
    tooltip = traitlets.Any(None)


class FrameLink(widgets.widget_link.Link):
    """A ``jslink`` that syncs only its source and target (see :class:`Frame`)."""

    _view_count = traitlets.Any(None)
    _view_module = traitlets.Any(None)
    _view_module_version = traitlets.Any(None)
    _view_name = traitlets.Any(None)


def _label(value: Any) -> str:
    """Readout label of a slider value (tuples as ``1,2``)."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def frame_attr(**params: Any) -> str:
    """The ``data-frame`` text for the given slider values, e.g. ``i=5 k=3``."""
    return " ".join(f"{name}={_label(v)}" for name, v in params.items())


class _Explorer:
    """Builds sliders, deduplicated frames and jslinked nested stacks for one explorer."""

    def __init__(self, lang: str = "en") -> None:
        self._ = i18n.translator(lang)  # the language of the labels and titles
        self.layout = widgets.Layout()
        self.style = widgets.widget_string.HTMLStyle()
        self.slider_style = widgets.widget_int.SliderStyle(description_width="110px")
        self.sliders: dict[str, widgets.SelectionSlider] = {}
        self.values: dict[str, tuple[Any, ...]] = {}
        self.frames: dict[str, widgets.HTML] = {}
        self.stacks: dict[tuple[Any, ...], widgets.Stack] = {}
        self.links: list[FrameLink] = []

    def slider(self, name: str, label: str, values: Sequence[Any], value: Any = None,
               labels: Sequence[str] | None = None) -> None:
        """Add a slider over ``values`` (shown with ``labels``, default their ``str``)."""
        values = tuple(values)
        if not values:
            raise ValueError(f"slider {name!r} needs at least one value")
        if value is None or value not in values:
            value = values[len(values) // 2] if value is None else values[0]
        labels = [_label(v) for v in values] if labels is None else list(labels)
        slider = widgets.SelectionSlider(
            options=list(zip(labels, range(len(values)), strict=True)),
            index=values.index(value), description=label, tooltip=label,  # else "null"
            continuous_update=True,
            style=self.slider_style, layout=widgets.Layout(width="420px"))
        slider.add_class(f"convlab-slider-{name}")
        self.sliders[name] = slider
        self.values[name] = values

    def frame(self, html: str) -> widgets.HTML:
        """One frame widget per distinct HTML text (identical frames are shared)."""
        if html not in self.frames:
            self.frames[html] = Frame(value=html, layout=self.layout)
        return self.frames[html]

    def tree(self, names: Sequence[str], make: FrameFn) -> widgets.Widget:
        """Nested stacks over the sliders ``names`` (outermost first) showing ``make(values)``.

        ``make`` returns a frame's HTML for a dict of slider values. Equal HTML becomes one
        shared widget whose ``data-frame`` names only the sliders that are the same in every
        combination showing it; a level whose choices all look the same is dropped.
        """
        names = tuple(names)
        combos = list(itertools.product(*(self.values[n] for n in names)))
        body = {c: make(dict(zip(names, c, strict=True))) for c in combos}
        groups: dict[str, list[tuple[Any, ...]]] = {}
        for c, text in body.items():
            groups.setdefault(text, []).append(c)
        tagged = {}
        for text, cs in groups.items():
            const = {n: cs[0][j] for j, n in enumerate(names) if all(c[j] == cs[0][j] for c in cs)}
            tagged[text] = f"<div data-frame='{svg.esc(frame_attr(**const))}'>{text}</div>"
        return self._nest(names, lambda c: self.frame(tagged[body[c]]), ())

    def _nest(self, names: tuple[str, ...], leaf: Callable[[tuple[Any, ...]], widgets.Widget],
              prefix: tuple[Any, ...]) -> widgets.Widget:
        if len(prefix) == len(names):
            return leaf(prefix)
        name = names[len(prefix)]
        children = [self._nest(names, leaf, (*prefix, v)) for v in self.values[name]]
        if all(child is children[0] for child in children):
            return children[0]  # this slider does not change this part: no level needed
        key = (name, tuple(id(child) for child in children))
        if key not in self.stacks:
            stack = FrameStack(children, selected_index=self.sliders[name].index,
                               layout=self.layout)
            self.links.append(FrameLink((self.sliders[name], "index"),
                                        (stack, "selected_index")))
            self.stacks[key] = stack
        return self.stacks[key]

    def root(self, title: str, parts: Sequence[widgets.Widget],
             cls: type[widgets.VBox] = widgets.VBox) -> widgets.VBox:
        """The explorer (a ``cls``): a heading, the sliders, then the parts; with class
        convlab-explorer."""
        heading = widgets.HTML(f"<b style='color:#111'>{svg.esc(title)}</b>", layout=self.layout,
                               style=self.style)
        controls = [slider if len(self.values[name]) > 1 else self._fixed(name, slider)
                    for name, slider in self.sliders.items()]
        box = cls([heading, *controls, *parts])
        box.add_class("convlab-explorer")
        box.convlab_sliders = dict(self.sliders)
        box.convlab_links = tuple(self.links)
        return box

    def _fixed(self, name: str, slider: widgets.SelectionSlider) -> widgets.HTML:
        """A parameter with a single value is stated, not offered as a slider that cannot move."""
        text = self._("{name}: {value} (fixed here)", name=slider.description, value=slider.label)
        fixed = widgets.HTML(f"<span style='color:#111'>{svg.esc(text)}</span>",
                             layout=self.layout, style=self.style)
        fixed.add_class(f"convlab-fixed-{name}")
        return fixed


# ---------------------------------------------------------------------------------------------
# Measuring what an explorer costs on a page
# ---------------------------------------------------------------------------------------------


def _referenced(value: Any) -> list[widgets.Widget]:
    if isinstance(value, widgets.Widget):
        return [value]
    if isinstance(value, list | tuple):
        return [w for v in value for w in _referenced(v)]
    if isinstance(value, dict):
        return [w for v in value.values() for w in _referenced(v)]
    return []


def all_widgets(root: widgets.Widget) -> list[widgets.Widget]:
    """Every widget reachable from ``root`` (children, layouts, styles) plus its jslinks."""
    seen: dict[str, widgets.Widget] = {}
    todo = [root, *getattr(root, "convlab_links", ())]
    while todo:
        w = todo.pop()
        if w.model_id in seen:
            continue
        seen[w.model_id] = w
        for key in w.keys:
            todo.extend(_referenced(getattr(w, key)))
    return list(seen.values())


def state_size(root: widgets.Widget) -> int:
    """Bytes of embedded widget state for ``root``'s widgets, serialised the way the notebook
    executor stores it and myst-nb writes it into the page (full state, ``json.dumps``)."""
    state = {}
    for w in all_widgets(root):
        s = w.get_state()
        for k, v in list(s.items()):
            if isinstance(v, bytes | memoryview):
                s[k] = base64.b64encode(bytes(v)).decode("ascii")
        state[w.model_id] = {"model_name": s["_model_name"], "model_module": s["_model_module"],
                             "model_module_version": s["_model_module_version"], "state": s}
    return len(json.dumps(state, default=str))


# ---------------------------------------------------------------------------------------------
# Explorers drawn in the page (route (b)): ipywidgets sliders, explorers.js computes and draws
# ---------------------------------------------------------------------------------------------


def explorers_js() -> str:
    """The explorers' JavaScript (``convlab/explorers.js``), read from the package."""
    return resources.files("convlab").joinpath("explorers.js").read_text(encoding="utf-8")


class PageExplorer(widgets.VBox):
    """An explorer whose picture ``explorers.js`` draws in the page (route (b)).

    Displaying it shows the widget (heading, sliders, the picture's placeholder) and then the
    script, as a second output of the cell: the static site runs it like any page script, a
    live kernel's front end runs it because the output is trusted. The script computes the
    numbers of the chosen slider values, draws them and keeps readouts and ``aria-valuetext``
    on the value shown. ``convlab_spec`` is the data the script reads (kind, slider values).
    """

    convlab_spec: dict[str, Any]

    def _ipython_display_(self, **kwargs: Any) -> None:
        from IPython.display import HTML, display

        display(self._repr_mimebundle_(**kwargs), raw=True)
        display(HTML(f"<script>{explorers_js()}</script>"))


def _within(name: str, values: Sequence[int], tested: tuple[int, ...]) -> tuple[int, ...]:
    """``values`` as a tuple, refused unless every one lies in the ``tested`` range."""
    values = tuple(values)
    outside = [v for v in values if v not in tested]
    if not values or outside:
        raise ValueError(
            f"slider {name!r}: values {outside or 'none'} are outside {tested[0]}…{tested[-1]}, "
            "the range whose every state the tests prove equal to PyTorch")
    return values


def page_strings(lang: str) -> dict[str, str]:
    """The explorers' texts in ``lang`` for ``explorers.js``: English text → translation, for
    every ``t("…")`` text of the script that ``lang``'s catalogue translates (none for English:
    the script then shows its own English texts)."""
    if i18n.check_language(lang) == i18n.ENGLISH:
        return {}
    table = {}
    for text, _line in i18n.js_message_ids(explorers_js()):
        translated = i18n.gettext(text, lang)
        if translated != text:
            table[text] = translated
    return table


def _page_explorer(kind: str, title: str, values: dict[str, tuple[Any, ...]],
                   defaults: dict[str, Any], labels: dict[str, str],
                   data: dict[str, Any] | None = None, lang: str = "en") -> PageExplorer:
    """Sliders over ``values`` (shown as ``labels``, starting at ``defaults``) and a
    placeholder that ``explorers.js`` replaces with the ``kind`` explorer's picture; ``data``
    (computed here, with torch) goes into the spec the script reads. ``title`` and ``labels``
    are English (message ids) shown in ``lang``; the script gets its texts in ``lang`` as the
    spec's ``strings``."""
    ex = _Explorer(lang)
    _ = ex._
    for name, options in values.items():
        # a value that is a word (the receptive field explorer's layer types) is shown in
        # ``lang``, as explorers.js shows it once it runs
        ex.slider(name, _(labels[name]), options, defaults[name],
                  labels=[_(v) if isinstance(v, str) else _label(v) for v in options])
    spec = {"kind": kind, "values": {name: list(v) for name, v in values.items()}, **(data or {})}
    strings = page_strings(lang)
    if strings:
        spec["strings"] = strings
    placeholder = _("This explorer draws with its script: run this cell (or trust the notebook).")
    picture = Frame(
        value=f"<div class='convlab-js-picture' data-spec='{svg.esc(json.dumps(spec))}'>"
        f"<p>{svg.esc(placeholder)}</p></div>", layout=ex.layout)
    explorer = ex.root(_(title), [picture], cls=PageExplorer)
    explorer.add_class(f"convlab-explorer-{kind}")
    explorer.convlab_spec = spec
    return explorer


# ---------------------------------------------------------------------------------------------
# ch1: convolution explorer
# ---------------------------------------------------------------------------------------------


#: The slider ranges whose every state ``tests/test_explorers_js.py`` proves equal to PyTorch
#: (``explorers.js`` computes in the page; an explorer refuses values outside these ranges).
CONV_RANGES: dict[str, tuple[int, ...]] = {
    "i": tuple(range(3, 11)), "k": tuple(range(1, 6)), "s": (1, 2, 3), "p": (0, 1, 2, 3),
    "d": (1, 2, 3)}


_CONV_LABELS = {"i": msg("input size i"), "k": msg("kernel size k"), "s": msg("stride s"),
                "p": msg("padding p"), "d": msg("dilation d"), "row": msg("output row"),
                "col": msg("output column")}


def _conv_sliders(tested: dict[str, tuple[int, ...]], *given: Sequence[int]
                  ) -> dict[str, tuple[int, ...]]:
    """Slider values of a convolution picture (conv and gradient explorers): i, k, s, p, d
    (``given``, within ``tested``) and the output row and column, up to the largest output."""
    values = {name: _within(name, v, tested[name])
              for name, v in zip(("i", "k", "s", "p", "d"), given, strict=True)}
    largest = max((conv_output_size(i, k, s, p, d) for i, k, s, p, d in itertools.product(
        *values.values()) if d * (k - 1) + 1 <= i + 2 * p), default=1)
    values["row"] = values["col"] = tuple(range(largest))
    return values


def conv_explorer(input_sizes: Sequence[int] = CONV_RANGES["i"],
                  kernel_sizes: Sequence[int] = CONV_RANGES["k"],
                  strides: Sequence[int] = CONV_RANGES["s"],
                  paddings: Sequence[int] = CONV_RANGES["p"],
                  dilations: Sequence[int] = CONV_RANGES["d"], *,
                  lang: str = "en") -> PageExplorer:
    """Sliders for input size i, kernel k, stride s, padding p, dilation d and the output
    position (row, col) (ch1). Shows the padded input with the kernel window at that position,
    the output with the cell highlighted, its multiply-add and
    ``o = ⌊(i+2p−d(k−1)−1)/s⌋+1`` with the numbers substituted.

    Route (b): ``explorers.js`` computes and draws in the page; ``tests/test_explorers_js.py``
    proves its numbers equal to ``F.pad``/``F.conv2d``/``F.unfold`` (and its refusals equal to
    PyTorch's messages) on every state of :data:`CONV_RANGES`. The position sliders reach the
    largest output of the ranges; past the current output they snap back to its last cell.
    A kernel that does not fit shows PyTorch's message and the rule in words.
    """
    values = _conv_sliders(CONV_RANGES, input_sizes, kernel_sizes, strides, paddings,
                           dilations)
    defaults = {"i": 6, "k": 3, "s": 1, "p": 0, "d": 1, "row": 0, "col": 0}
    return _page_explorer("conv", msg("Convolution explorer: move the sliders (or focus one and "
                                      "use the arrow keys)"), values, defaults, _CONV_LABELS,
                          lang=lang)


# ---------------------------------------------------------------------------------------------
# ch2: channels explorer
# ---------------------------------------------------------------------------------------------


#: Slider ranges of the channels explorer whose every state ``tests/test_explorers_js.py``
#: proves equal to ``nn.Conv2d`` (weight shape, parameter count, which inputs each kernel reads).
CHANNELS_RANGES: dict[str, tuple[int, ...]] = {
    "cin": (1, 2, 3, 4), "cout": (1, 2, 3, 4), "k": tuple(range(1, 6)), "g": (1, 2, 3, 4)}


def channels_explorer(in_channels: Sequence[int] = CHANNELS_RANGES["cin"],
                      out_channels: Sequence[int] = CHANNELS_RANGES["cout"],
                      kernel_sizes: Sequence[int] = CHANNELS_RANGES["k"],
                      groups: Sequence[int] = CHANNELS_RANGES["g"], *,
                      lang: str = "en") -> PageExplorer:
    """Sliders for C_in, C_out, k and groups (ch2): the kernels (one ``C_in/groups × k × k``
    kernel and one bias per output channel, coloured by group, each naming the input channels
    it reads) and the parameter count ``C_out·(C_in/groups·k·k+1)``. Groups that do not divide
    both channel counts show PyTorch's message and the rule in words.

    Route (b): ``explorers.js`` computes in the page; ``tests/test_explorers_js.py`` proves its
    weight shapes, counts, channel wiring and refusals equal to ``nn.Conv2d``/``F.conv2d`` on
    every state of :data:`CHANNELS_RANGES`.
    """
    given = {"cin": in_channels, "cout": out_channels, "k": kernel_sizes, "g": groups}
    values = {name: _within(name, v, CHANNELS_RANGES[name]) for name, v in given.items()}
    defaults = {"cin": 3, "cout": 2, "k": 3, "g": 1}
    labels = {"cin": msg("in channels C_in"), "cout": msg("out channels C_out"),
              "k": msg("kernel size k"), "g": msg("groups")}
    return _page_explorer("channels", msg("Channels explorer: one kernel (C_in/groups×k×k, plus "
                                          "one bias) per output channel"), values, defaults,
                          labels, lang=lang)


# ---------------------------------------------------------------------------------------------
# ch3: gradient of one output pixel
# ---------------------------------------------------------------------------------------------


#: Slider ranges of the gradient explorer whose every state (and every output pixel)
#: ``tests/test_explorers_js.py`` proves equal to ``torch.autograd``.
GRADIENT_RANGES: dict[str, tuple[int, ...]] = {
    "i": tuple(range(5, 11)), "k": tuple(range(1, 6)), "s": (1, 2, 3), "p": (0, 1, 2, 3),
    "d": (1, 2, 3)}


def gradient_explorer(input_sizes: Sequence[int] = GRADIENT_RANGES["i"],
                      kernel_sizes: Sequence[int] = GRADIENT_RANGES["k"],
                      strides: Sequence[int] = GRADIENT_RANGES["s"],
                      paddings: Sequence[int] = GRADIENT_RANGES["p"],
                      dilations: Sequence[int] = GRADIENT_RANGES["d"], *,
                      lang: str = "en") -> PageExplorer:
    """Backprop from one output pixel (ch3): sliders for the input size i, k, s, p, d and the
    output pixel (row, col). The picture shows the input pixels whose gradient is non-zero, their
    gradient (kernel weights 1…k²), the window, the output size and a one-line summary: the
    highlighted pixels are the pixel's receptive field.

    Route (b): ``explorers.js`` computes ∂y[row, col]/∂x in the page;
    ``tests/test_explorers_js.py`` proves it equal to ``torch.autograd`` (the full Jacobian of
    ``F.conv2d``) for every state of :data:`GRADIENT_RANGES` and every output pixel. The
    position sliders snap back to the last pixel of a smaller output; a kernel that does not fit
    shows PyTorch's message and the rule in words.
    """
    values = _conv_sliders(GRADIENT_RANGES, input_sizes, kernel_sizes, strides, paddings,
                           dilations)
    defaults = {"i": 7, "k": 3, "s": 1, "p": 0, "d": 1, "row": 1, "col": 1}
    return _page_explorer("gradient", msg("Gradient explorer: backward from one output pixel — "
                                          "which input pixels get a gradient?"), values,
                          defaults, _CONV_LABELS, lang=lang)


# ---------------------------------------------------------------------------------------------
# ch4: receptive field explorer
# ---------------------------------------------------------------------------------------------


#: Slider ranges of the receptive field explorer. ``tests/test_explorers_js.py`` proves every
#: layer step of ``explorers.js`` (each layer type, k, s, p, d, from every incoming field within
#: bounds and every incoming size up to the largest input) equal to PyTorch, and whole stacks
#: (all of up to 2 layers, a seeded sample of 3–5) equal to autograd and :func:`receptive_field`.
RF_RANGES: dict[str, tuple[Any, ...]] = {
    "i": (4, 5, 6, 7, 8, 10, 12, 16, 24, 32, 48, 64, 96, 128, 224),
    "layers": (1, 2, 3, 4, 5), "layer": (1, 2, 3, 4, 5),
    "type": ("conv", "max-pool", "avg-pool"),
    "k": tuple(range(1, 6)), "s": (1, 2, 3), "p": (0, 1, 2, 3), "d": (1, 2, 3)}

#: The five layers the receptive field explorer starts with (``layers`` shows the first three):
#: ``(type, k, s, p, d)``.
RF_STACK: tuple[tuple[str, int, int, int, int], ...] = (
    ("conv", 3, 1, 1, 1), ("max-pool", 2, 2, 0, 1), ("conv", 3, 1, 1, 2),
    ("conv", 3, 2, 1, 1), ("avg-pool", 2, 2, 0, 1))


def receptive_field_explorer(input_sizes: Sequence[int] = RF_RANGES["i"],
                             stack: Sequence[tuple[str, int, int, int, int]] = RF_STACK,
                             layers: int = 3, *, lang: str = "en") -> PageExplorer:
    """Up to five layers, each its own type (convolution, max-pool or avg-pool), kernel k,
    stride s, padding p and dilation d, on an input of size i (ch4). The sliders: input size,
    number of layers, the layer to edit, and that layer's type, k, s, p, d (they show the
    edited layer's values; choosing another layer loads its values). The picture: the field
    of output 0 of every layer on one row of the input (where it starts, how far it reaches
    into the padding) and a table of each layer's output size o, receptive field r, jump j and
    start, as :func:`convlab.receptive_field` and PyTorch give them.

    Pooling has the same field arithmetic as a convolution with the same k, s, p, d (the
    window is what matters, not what is done with it). ``nn.MaxPool2d`` has a dilation, so a
    max-pool layer uses it; ``nn.AvgPool2d`` has none, so an avg-pool layer with d > 1 is
    refused (with the ``TypeError`` PyTorch gives). A stack PyTorch refuses on the chosen input
    (that, a kernel larger than its padded input, pooling padding above half the kernel, an
    output smaller than 1) shows PyTorch's message and the rule in words, at the first layer
    that fails.

    Route (b): ``explorers.js`` computes every number in the page; ``tests/test_explorers_js.py``
    proves it compositionally (the state space of five free layers is too large to enumerate):
    every single-layer step against PyTorch (sizes and messages) and against
    :func:`receptive_field`, every stack of up to two layers and a seeded sample of 3–5-layer
    stacks against autograd.
    """
    values: dict[str, tuple[Any, ...]] = {
        "i": _within("i", input_sizes, RF_RANGES["i"]), **{
            name: RF_RANGES[name] for name in ("layers", "layer", "type", "k", "s", "p", "d")}}
    stack = [tuple(layer) for layer in stack]
    if len(stack) != 5:
        raise ValueError(f"stack: give all 5 layers (type, k, s, p, d), got {len(stack)}")
    for n, (kind, k, s, p, d) in enumerate(stack, start=1):
        for name, v in zip(("type", "k", "s", "p", "d"), (kind, k, s, p, d), strict=True):
            if v not in RF_RANGES[name]:
                raise ValueError(f"stack layer {n}: {name}={v!r} is outside "
                                 f"{list(RF_RANGES[name])}, the range the tests prove")
        if kind == "avg-pool" and d != 1:
            raise ValueError(f"stack layer {n}: avg-pool has no dilation (nn.AvgPool2d), "
                             f"so d must be 1, got {d}")
    if layers not in RF_RANGES["layers"]:
        raise ValueError(f"layers must be 1…5, got {layers!r}")
    first = stack[0]
    defaults = {"i": 32 if 32 in values["i"] else values["i"][len(values["i"]) // 2],
                "layers": layers, "layer": 1, "type": first[0], "k": first[1], "s": first[2],
                "p": first[3], "d": first[4]}
    labels = {"i": msg("input size i"), "layers": msg("layers"), "layer": msg("edit layer"),
              "type": msg("its type"), "k": msg("its kernel k"), "s": msg("its stride s"),
              "p": msg("its padding p"), "d": msg("its dilation d")}
    return _page_explorer("rf", msg("Receptive field explorer: pick a layer, then set its type, "
                                    "k, s, p and d"), values, defaults, labels,
                          {"stack": [list(layer) for layer in stack]}, lang=lang)


# ---------------------------------------------------------------------------------------------
# ch5: transposed convolution explorer
# ---------------------------------------------------------------------------------------------


def _torch_transpose_error(i: int, k: int, s: int, p: int, op: int, d: int) -> str:
    """What PyTorch does with a transposed convolution convlab refuses: its error message, or
    (for an output size of 0) the empty result it returns."""
    try:
        y = F.conv_transpose2d(torch.zeros(1, 1, i, i), torch.zeros(1, 1, k, k), stride=s,
                               padding=p, output_padding=op, dilation=d)
    except RuntimeError as err:
        return str(err).splitlines()[0]
    h, w = y.shape[-2:]
    return msg("(no error: it returns an empty {h}×{w} output)", h=h, w=w)


#: Slider ranges of the transposed convolution explorer whose every state
#: ``tests/test_explorers_js.py`` proves equal to PyTorch; output_padding takes every value
#: PyTorch accepts somewhere in them (smaller than the stride or the dilation).
TRANSPOSED_RANGES: dict[str, tuple[int, ...]] = {
    "i": tuple(range(1, 6)), "k": tuple(range(1, 6)), "s": (1, 2, 3), "p": (0, 1, 2, 3),
    "op": (0, 1, 2), "d": (1, 2)}


def transposed_refusals(values: dict[str, tuple[int, ...]], lang: str = "en") -> dict[str, Any]:
    """For every configuration of ``values`` that PyTorch refuses (or turns into an empty
    output): convlab's rule in words (in ``lang``) and PyTorch's own message (as PyTorch prints
    it), as indices into ``texts``. Computed here, with torch, for ``explorers.js`` to show
    (route (a) for the messages)."""
    texts: list[str] = []
    refused: dict[str, list[int]] = {}
    for i, k, s, p, op, d in itertools.product(*(values[n] for n in TRANSPOSED_RANGES)):
        try:
            conv_transpose_output_size(i, k, s, p, op, d)
        except ValueError as err:
            pair = []
            rule = i18n.translate(err.args[0], lang)
            said = i18n.translate(_torch_transpose_error(i, k, s, p, op, d), lang)
            for text in (str(rule), str(said)):
                if text not in texts:
                    texts.append(text)
                pair.append(texts.index(text))
            refused[f"{i},{k},{s},{p},{op},{d}"] = pair
    return {"texts": texts, "refused": refused}


def transposed_conv_explorer(input_sizes: Sequence[int] = TRANSPOSED_RANGES["i"],
                             kernel_sizes: Sequence[int] = TRANSPOSED_RANGES["k"],
                             strides: Sequence[int] = TRANSPOSED_RANGES["s"],
                             paddings: Sequence[int] = TRANSPOSED_RANGES["p"],
                             output_paddings: Sequence[int] = TRANSPOSED_RANGES["op"],
                             dilations: Sequence[int] = TRANSPOSED_RANGES["d"], *,
                             lang: str = "en") -> PageExplorer:
    """Sliders for input size, kernel, stride, padding, output_padding and dilation (ch5):
    scatter-add into the full grid, the border that padding crops, and the output with its
    size. A configuration PyTorch refuses shows PyTorch's message and the rule in words.

    Route (b) for the numbers: ``explorers.js`` computes the scatter-add in the page and
    ``tests/test_explorers_js.py`` proves it equal to ``F.conv_transpose2d`` on every state of
    :data:`TRANSPOSED_RANGES`; the refusals' texts are computed here with torch and convlab
    (:func:`transposed_refusals`) and only shown by the script.
    """
    given = {"i": input_sizes, "k": kernel_sizes, "s": strides, "p": paddings,
             "op": output_paddings, "d": dilations}
    values = {name: _within(name, v, TRANSPOSED_RANGES[name]) for name, v in given.items()}
    defaults = {"i": 2, "k": 3, "s": 2, "p": 0, "op": 0, "d": 1}
    labels = {**_CONV_LABELS, "op": "output_padding"}
    return _page_explorer("transposed", msg("Transposed convolution explorer: scatter-add, then "
                                            "crop"), values, defaults, labels,
                          transposed_refusals(values, lang), lang=lang)


# ---------------------------------------------------------------------------------------------
# ch1: kernels on a real photograph
# ---------------------------------------------------------------------------------------------


#: Slider ranges of the image kernel explorer whose every state ``tests/test_explorers_js.py``
#: proves equal to ``F.conv2d`` on the photograph (every output value and every gray drawn).
IMAGE_RANGES: dict[str, tuple[int, ...]] = {"s": (1, 2, 3), "p": (0, 1, 2, 3), "d": (1, 2, 3)}


def image_data(size: int = 64) -> dict[str, Any]:
    """What the image kernel explorer's script reads: the photograph (:func:`draw.photo`) as
    8-bit grays row by row with its height and width, and the named kernels' weights."""
    x = draw.photo(size)
    pixels = (x * 255).round().to(torch.int64)
    h, w = x.shape
    return {"image": {"h": int(h), "w": int(w), "pixels": pixels.flatten().tolist()},
            "kernels": {name: [list(row) for row in weights]
                        for name, weights in draw.IMAGE_KERNELS.items()}}


def image_kernel_explorer(kernels: Sequence[str] = tuple(draw.IMAGE_KERNELS),
                          strides: Sequence[int] = IMAGE_RANGES["s"],
                          paddings: Sequence[int] = IMAGE_RANGES["p"],
                          dilations: Sequence[int] = IMAGE_RANGES["d"],
                          size: int = 64, *, lang: str = "en") -> PageExplorer:
    """A kernel (identity, box blur, Gaussian, Sobel x/y, sharpen, Laplacian), stride, padding
    and dilation applied to a grayscale photograph from matplotlib's sample data (ch1); shows
    the input, the output image and ``F.conv2d``'s output shape.

    Route (b): the photograph is embedded once (8-bit grays, ``size`` pixels wide);
    ``explorers.js`` convolves it in the page and draws the output (edge kernels scaled from
    black to white, others clipped to [0, 1], as :func:`draw.png_bytes`);
    ``tests/test_explorers_js.py`` proves every output value and every gray drawn equal to
    ``F.conv2d`` on every state of :data:`IMAGE_RANGES` and every kernel.
    """
    kernels = tuple(kernels)
    unknown = [k for k in kernels if k not in draw.IMAGE_KERNELS]
    if not kernels or unknown:
        raise ValueError(f"kernels {unknown or 'none'}: choose among {sorted(draw.IMAGE_KERNELS)}")
    given = {"s": strides, "p": paddings, "d": dilations}
    values: dict[str, tuple[Any, ...]] = {"kernel": kernels}
    values |= {name: _within(name, v, IMAGE_RANGES[name]) for name, v in given.items()}
    defaults = {"kernel": "sobel-x", "s": 1, "p": 1, "d": 1}
    labels = {"kernel": msg("kernel"), "s": msg("stride s"), "p": msg("padding p"),
              "d": msg("dilation d")}
    return _page_explorer("image", msg("Image kernel explorer: a kernel slid over a photograph"),
                          values, defaults, labels, image_data(size), lang=lang)
