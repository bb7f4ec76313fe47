"""Explorers drawn in the page (route (b), ``convlab/explorers.js``) on the built site.

For each such explorer, on its chapter in both editions: every slider is moved across its
whole range with the keyboard; at every state visited, the readout, the handle's ``aria-valuetext``
and the picture's ``data-frame`` agree, the numbers drawn equal PyTorch's, no SVG text runs
past its frame, and the sliders stay where they were. Screenshots of the largest
configurations go to ``_build/screenshots/``. The explorers page shows the chapters' own
explorers, widget for widget (checked from the built pages, without a browser).

They run on the shared load of each page (the ``visit`` fixture, ``tests/conftest.py``), after
other tests of that page, so they move sliders relative to where they are (or to their ends);
what each explorer shows at its default settings is measured on the page as loaded
(``on_load``). The traversal leaves its explorer in a refused configuration, so it runs last on
its page (``last_on_page``).
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from convlab import draw, i18n, receptive_field, svg

from conftest import SCREENSHOTS, SITE, UNDER_SUBPATH, Visit, in_every_edition, on_load

pytestmark = [pytest.mark.site, pytest.mark.browser]

#: kind -> the chapter that shows it (every explorer is also on book/explorers.html)
CHAPTER = {"conv": "book/01_convolution.html", "channels": "book/02_multichannel_kernels.html",
           "image": "book/01_convolution.html",
           "gradient": "book/03_detach_and_autograd.html",
           "rf": "book/04_receptive_fields.html",
           "transposed": "book/05_transposed_convolution.html"}
#: The explorers traversed, on their chapter in each edition. The explorers page shows each
#: chapter's explorer as it is, widget for widget (test_built_site.py, without a browser), run
#: by the same script in the same column: its traversal would repeat the chapter's. Every
#: slider of the explorers page still moves what it shows, and its pictures match their
#: sliders (test_site.py runs those on every page with widgets).
EXPLORER_PAGES = [(kind, page) for kind, chapter in sorted(CHAPTER.items())
                  for page in in_every_edition(chapter)]

# What the reader sees in one explorer: slider readouts and handles, the picture's data-frame,
# the drawn output numbers, the multiply-add's result, a refusal, texts outside their SVG.
SEEN = """async root => {
  const sliders = {};
  for (const box of root.querySelectorAll('[class*="convlab-slider-"]')) {
    const name = Array.from(box.classList).find(c => c.startsWith('convlab-slider-'))
      .slice('convlab-slider-'.length);
    const handle = box.querySelector('.noUi-handle');
    const readout = box.querySelector('.widget-readout');
    sliders[name] = {readout: readout.textContent.trim(), editable: readout.isContentEditable,
                     valuetext: handle.getAttribute('aria-valuetext'),
                     top: handle.getBoundingClientRect().top};
  }
  const picture = root.querySelector('.convlab-js-picture');
  const outside = [];
  for (const svg of picture.querySelectorAll('svg')) {
    const [, , w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
    for (const t of svg.querySelectorAll('text')) {
      const b = t.getBBox();
      if (b.x < -0.5 || b.y < -0.5 || b.x + b.width > w + 0.5 || b.y + b.height > h + 0.5)
        outside.push(t.textContent);
    }
  }
  const sum = picture.querySelector('.convlab-sum');
  const refused = picture.querySelector('.convlab-refused');
  const kids = Array.from(root.children).map(c => c.getBoundingClientRect());
  let band = 0;
  for (let n = 1; n < kids.length; n++) band = Math.max(band, kids[n].top - kids[n - 1].bottom);
  const pic = picture.getBoundingClientRect();
  const last = Array.from(picture.children).map(c => c.getBoundingClientRect().bottom);
  band = Math.max(band, root.getBoundingClientRect().bottom - Math.max(...last));
  const drawn = picture.querySelector('.convlab-image-output');
  let image = null;
  if (drawn) {  // the grays actually painted, read back through a canvas
    await drawn.decode();
    const c = document.createElement('canvas');
    c.width = Number(drawn.dataset.width);
    c.height = Number(drawn.dataset.height);
    const ctx = c.getContext('2d');
    ctx.drawImage(drawn, 0, 0, c.width, c.height);
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    image = {h: c.height, w: c.width,
             gray: Array.from({length: c.width * c.height}, (_, n) => px[4 * n])};
  }
  return {sliders, image,
          caption: Array.from(root.querySelectorAll('.convlab-caption, .convlab-refused'))
            .map(c => c.textContent).join('\\n'),
          shape: (picture.querySelector('.convlab-shape') || {}).textContent || null,
          frame: picture.getAttribute('data-frame'),
          output: Array.from(picture.querySelectorAll('.convlab-output text'))
            .map(t => Number(t.textContent)),
          gradient: Array.from(picture.querySelectorAll('.convlab-gradient text'))
            .map(t => Number(t.textContent)),
          reads: Array.from(picture.querySelectorAll('.convlab-reads'))
            .map(t => t.textContent),
          params: (picture.querySelector('.convlab-params') || {}).textContent || null,
          rf: Array.from(picture.querySelectorAll('.convlab-rf-row')).map(tr => tr.dataset),
          sum: sum ? sum.textContent : null, refused: refused ? refused.textContent : null,
          outside, band, width: pic.width};
}"""


def drawn(visit: Visit) -> object:
    """The shared page, once its JS pictures are drawn."""
    visit.page.wait_for_function(
        "document.querySelectorAll('.convlab-js-picture').length > 0 && "
        "Array.from(document.querySelectorAll('.convlab-js-picture'))"
        ".every(p => p.hasAttribute('data-frame'))", timeout=30_000)
    return visit.page


@on_load("explorers at their defaults")
def _explorers_at_their_defaults(visit: Visit) -> dict[str, dict]:
    """What the first explorer of each kind on the page shows at its default settings."""
    page, seen = drawn(visit), {}
    for kind in CHAPTER:
        root = page.locator(f".convlab-explorer-{kind}").first
        if root.count():
            root.scroll_into_view_if_needed()
            seen[kind] = root.evaluate(SEEN)
    return seen


def conv_torch(q: dict[str, int]) -> tuple[torch.Tensor | None, str]:
    """F.conv2d of the explorer's example input and kernel, or PyTorch's refusal."""
    x, w = draw.example_input(q["i"]), draw.example_kernel(q["k"])
    try:
        return F.conv2d(x[None, None], w[None, None], stride=q["s"], padding=q["p"],
                        dilation=q["d"])[0, 0], ""
    except RuntimeError as err:
        return None, str(err)


def check_conv_state(seen: dict, lang: str = "en") -> dict[str, int]:
    """Assert that what the reader sees agrees with itself and with torch; the state."""
    q = {k: int(v) for k, v in (pair.split("=") for pair in seen["frame"].split())}
    for name, s in seen["sliders"].items():
        assert not s["editable"], f"the {name} readout accepts typing"
        assert s["readout"] == s["valuetext"], (name, s)
        if name in q:
            assert s["readout"] == str(q[name]), f"{name}: readout {s['readout']}, picture {q}"
    assert seen["outside"] == [], f"text outside its SVG at {q}: {seen['outside']}"
    y, refusal = conv_torch(q)
    if y is None:
        assert seen["refused"] and svg.esc(refusal) in svg.esc(seen["refused"]), (q, refusal)
        assert seen["output"] == []
        return q
    o = y.shape[-1]
    assert seen["refused"] is None
    assert seen["output"] == y.flatten().tolist(), f"output at {q}"
    # the position snaps to the last cell of a smaller output; the sum is that cell's value
    assert q["row"] < o and q["col"] < o
    assert seen["sum"].startswith(f"y[{q['row']},{q['col']}] = ")
    assert float(seen["sum"].rsplit("=", 1)[1]) == y[q["row"], q["col"]].item()
    return q


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", [CHAPTER["conv"]])
def test_conv_explorer_by_pointer(visit: Visit) -> None:
    """A click on a slider's track moves it; typing into a readout changes nothing."""
    page, start = drawn(visit), visit.mark()
    root = page.locator(".convlab-explorer-conv").first
    root.scroll_into_view_if_needed()
    track = root.locator(".convlab-slider-i .noUi-target")
    i_handle = root.locator(".convlab-slider-i .noUi-handle")
    i_start = int(float(i_handle.get_attribute("aria-valuenow")))
    box = track.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    q = check_conv_state(root.evaluate(SEEN))
    assert q["i"] == 10
    readout = root.locator(".convlab-slider-d .widget-readout")
    d = q["d"]  # where an earlier test of this page left it (1 on a fresh load)
    readout.click()
    page.keyboard.type("3" if d != 3 else "2")  # a value the slider does not show
    q = check_conv_state(root.evaluate(SEEN))
    assert q["d"] == d and readout.inner_text().strip() == str(d)
    i_handle.focus()  # the shared page as it was, for the page's other tests
    i_handle.press("Home")
    for _ in range(i_start):
        i_handle.press("ArrowRight")
    visit.assert_clean_since(start)


def transposed_torch(q: dict[str, int]) -> tuple[torch.Tensor | None, str]:
    """F.conv_transpose2d of the explorer's input and kernel, or what PyTorch says."""
    x = torch.arange(1, q["i"] ** 2 + 1, dtype=torch.float32).view(1, 1, q["i"], q["i"])
    w = draw.example_kernel(q["k"])[None, None]
    try:
        y = F.conv_transpose2d(x, w, stride=q["s"], padding=q["p"], output_padding=q["op"],
                               dilation=q["d"])[0, 0]
    except RuntimeError as err:
        return None, str(err).splitlines()[0]
    return (y, "") if y.numel() else (None, "empty")


def check_transposed_state(seen: dict, lang: str = "en") -> dict[str, int]:
    q = {k: int(v) for k, v in (pair.split("=") for pair in seen["frame"].split())}
    for name, s in seen["sliders"].items():
        assert not s["editable"], f"the {name} readout accepts typing"
        assert s["readout"] == s["valuetext"] == str(q[name]), (name, s, q)
    assert seen["outside"] == [], f"text outside its SVG at {q}: {seen['outside']}"
    y, said = transposed_torch(q)
    if y is None:
        assert seen["refused"] and pytorch_says(lang) in seen["refused"], q
        if said != "empty":
            assert svg.esc(said) in svg.esc(seen["refused"]), (q, said)
        return q
    assert seen["refused"] is None, q
    assert seen["output"] == y.flatten().tolist(), f"output at {q}"
    return q


def check_gradient_state(seen: dict, lang: str = "en") -> dict[str, int]:
    """Readouts agree; the gradient values drawn are torch.autograd's non-zero ones."""
    q = {k: int(v) for k, v in (pair.split("=") for pair in seen["frame"].split())}
    for name, s in seen["sliders"].items():  # a refused picture names no position
        assert not s["editable"], f"the {name} readout accepts typing"
        assert s["readout"] == s["valuetext"] == str(q.get(name, s["readout"])), (name, s, q)
    assert seen["outside"] == [], f"text outside its SVG at {q}: {seen['outside']}"
    x = torch.zeros(1, 1, q["i"], q["i"], dtype=torch.float64, requires_grad=True)
    w = draw.gradient_kernel(q["k"])[None, None]
    try:
        y = F.conv2d(x, w, stride=q["s"], padding=q["p"], dilation=q["d"])
    except RuntimeError as err:
        assert seen["refused"] and svg.esc(str(err)) in svg.esc(seen["refused"]), q
        return q
    assert seen["refused"] is None, q
    o = y.shape[-1]
    assert q["row"] < o and q["col"] < o, f"position outside the {o}×{o} output: {q}"
    (grad,) = torch.autograd.grad(y[0, 0, q["row"], q["col"]], x)
    assert seen["gradient"] == grad[0, 0][grad[0, 0] != 0].tolist(), f"gradient at {q}"
    return q


PAGE_BUDGET = 1_000_000  # bytes of HTML per page (issue 18)


def test_every_page_within_the_page_budget() -> None:
    pages = sorted(SITE.rglob("*.html"))
    assert pages, "no built site: run `make book` first"
    heavy = {p.relative_to(SITE).as_posix(): p.stat().st_size for p in pages
             if p.stat().st_size > PAGE_BUDGET}
    assert heavy == {}, f"pages over {PAGE_BUDGET:,} bytes: {heavy}"


def check_channels_state(seen: dict, lang: str = "en") -> dict[str, int]:
    """Readouts agree; the parameter count and each kernel's inputs are nn.Conv2d's."""
    q = {k: int(v) for k, v in (pair.split("=") for pair in seen["frame"].split())}
    for name, s in seen["sliders"].items():
        assert not s["editable"], f"the {name} readout accepts typing"
        assert s["readout"] == s["valuetext"] == str(q[name]), (name, s, q)
    assert seen["outside"] == [], f"text outside its SVG at {q}: {seen['outside']}"
    try:
        conv = torch.nn.Conv2d(q["cin"], q["cout"], q["k"], groups=q["g"])
    except ValueError as err:
        assert seen["refused"] and str(err) in seen["refused"], q
        return q
    assert seen["refused"] is None, q
    params = sum(t.numel() for t in conv.parameters())
    assert seen["params"].endswith(f"= {params}"), (q, seen["params"])
    per_group = q["cin"] // q["g"]
    for o, text in enumerate(seen["reads"]):
        first = o // (q["cout"] // q["g"]) * per_group
        span = f"c{first}" + (f"…c{first + per_group - 1}" if per_group > 1 else "")
        assert text == i18n.render("weight[{o}], b[{o}]: reads {channels}", lang,
                                   {"o": o, "channels": span}), (q, text)
    assert len(seen["reads"]) == conv.weight.shape[0]
    return q



def check_image_state(seen: dict, lang: str = "en") -> dict[str, int | str]:
    """Readouts agree; the output shape and every gray painted are F.conv2d's (float64) on the
    photograph, shown as draw.png_bytes shows it."""
    q: dict[str, int | str] = {k: v for k, v in (pair.split("=") for pair in
                                                 seen["frame"].split())}
    for name, s in seen["sliders"].items():
        assert not s["editable"], f"the {name} readout accepts typing"
        assert s["readout"] == s["valuetext"] == str(q[name]), (name, s, q)
    q = {"kernel": q["kernel"], **{n: int(q[n]) for n in ("s", "p", "d")}}
    assert seen["outside"] == [], f"text outside its SVG at {q}: {seen['outside']}"
    x = ((draw.photo() * 255).round().to(torch.float64) / 255)[None, None]  # its 8-bit grays
    w = torch.tensor(draw.IMAGE_KERNELS[q["kernel"]], dtype=torch.float64)[None, None]
    y = F.conv2d(x, w, stride=q["s"], padding=q["p"], dilation=q["d"])[0, 0]
    assert seen["shape"] == i18n.render("F.conv2d output shape {shape}", lang,
                                        {"shape": tuple(y.shape)}), (q, seen["shape"])
    if any(v < 0 for row in draw.IMAGE_KERNELS[q["kernel"]] for v in row) and \
            q["kernel"] != "sharpen":
        y = (y - y.min()) / (y.max() - y.min())
    gray = (y.clamp(0, 1) * 255).round().to(torch.int64)
    assert [seen["image"]["h"], seen["image"]["w"]] == list(gray.shape), q
    assert seen["image"]["gray"] == gray.flatten().tolist(), f"grays painted at {q}"
    return q


def check_rf_state(seen: dict, lang: str = "en") -> dict[str, int | str]:
    """Readouts agree with the picture (the type/k/s/p/d sliders show the edited layer); every
    row's output size, r, j and start are those of the real nn modules run on the input and of
    receptive_field; a refused layer shows PyTorch's message."""
    q: dict[str, int | str] = dict(pair.split("=") for pair in seen["frame"].split())
    stack = [layer.split(",") for layer in str(q["stack"]).split(";")]
    for name, s in seen["sliders"].items():
        assert not s["editable"], f"the {name} readout accepts typing"
        # a layer type is shown by its name in the page's language ("conv" is 卷积)
        value = i18n.gettext(str(q[name]), lang) if name == "type" else str(q[name])
        assert s["readout"] == s["valuetext"] == value, (name, s, q)
    edited = stack[int(q["layer"]) - 1]
    assert edited == [str(q[n]) for n in ("type", "k", "s", "p", "d")], q
    assert len(stack) == int(q["layers"]), q
    assert seen["outside"] == [], f"text outside its SVG at {q}: {seen['outside']}"
    x, modules, shown = torch.zeros(1, 1, int(q["i"]), int(q["i"])), [], []
    for t, k, s, p, d in ((t, int(k), int(s), int(p), int(d)) for t, k, s, p, d in stack):
        try:
            modules.append(nn.Conv2d(1, 1, k, s, p, d) if t == "conv" else
                           nn.MaxPool2d(k, s, p, d) if t == "max-pool" else
                           nn.AvgPool2d(k, s, p, dilation=d) if d > 1 else nn.AvgPool2d(k, s, p))
            with torch.no_grad():
                x = modules[-1](x)
        except (RuntimeError, TypeError) as err:  # TypeError: AvgPool2d has no dilation
            assert seen["refused"] and svg.esc(str(err)) in svg.esc(seen["refused"]), q
            shown.append({"refused": "1"})
            break
        row = receptive_field(modules)[-1]
        shown.append({"o": str(x.shape[-1]), "r": str(row.r), "j": str(row.j),
                      "start": str(row.start)})
    else:
        assert seen["refused"] is None, q
    assert seen["rf"] == shown, q
    return q


CHECKS = {"rf": check_rf_state, "conv": check_conv_state, "gradient": check_gradient_state,
          "transposed": check_transposed_state, "channels": check_channels_state,
          "image": check_image_state}
ORDER = {"conv": ("i", "k", "s", "p", "d", "row", "col"), "channels": ("cin", "cout", "k", "g"),
         "gradient": ("i", "k", "s", "p", "d", "row", "col"),
         "transposed": ("i", "k", "s", "p", "op", "d"), "image": ("kernel", "s", "p", "d"),
         "rf": ("i", "layers", "layer", "type", "k", "s", "p", "d")}
# the receptive field explorer's largest configuration: input 224, five convolutions with
# k=5, s=2, p=3, d=3 (no layer refused: r = 373, start = −93)
RF_LARGEST = (("i", "End"), ("layers", "End"), *(move for n in range(5) for move in (
    ("layer", "Home"), *(("layer", "ArrowRight"),) * n, ("type", "Home"), ("k", "End"),
    ("s", "Home"), ("s", "ArrowRight"), ("p", "End"), ("d", "End"))))
# Key presses (from the state the traversal leaves) to the largest configuration, what it is,
# then presses to a configuration PyTorch refuses.
LARGEST = {
    "conv": ((("k", "End"), ("d", "Home"), ("s", "Home"), ("row", "End"), ("col", "End")),
             {"i": 10, "p": 3, "k": 5, "row": 11, "col": 11}),
    "gradient": ((("k", "End"), ("d", "Home"), ("s", "Home"), ("row", "End"), ("col", "End")),
                 {"i": 10, "p": 3, "k": 5, "row": 11, "col": 11}),
    "transposed": ((("i", "End"), ("k", "End"), ("s", "End"), ("op", "End"), ("d", "End")),
                   {"i": 5, "k": 5, "s": 3, "op": 2, "d": 2}),
    "channels": ((("cin", "End"), ("cout", "End"), ("k", "End"), ("g", "End")),
                 {"cin": 4, "cout": 4, "k": 5, "g": 4}),
    "image": ((("s", "Home"), ("p", "End"), ("d", "Home")), {"s": 1, "p": 3, "d": 1}),
    "rf": (RF_LARGEST, {"i": "224", "layers": "5", "stack": ";".join(["conv,5,2,3,3"] * 5)}),
}
REFUSE = {"conv": (("i", "Home"), ("p", "Home"), ("d", "End")),
          "gradient": (("i", "Home"), ("p", "Home"), ("d", "End")),
          "transposed": (("s", "Home"), ("d", "Home"), ("op", "End")),
          "channels": (("cin", "Home"), ("g", "End")),
          # no state of the image explorer is refused: its 3×3 kernel, dilated 3, spans 7
          # pixels of a 64×75 photograph
          "image": (),
          "rf": (("i", "Home"),)}


# Where a Chinese caption was joined the English way: a space after a full-width mark, an
# ASCII . ; : ending a Chinese phrase, or one with a space before a Chinese one.
ENGLISH_SEAMS = re.compile(r".{0,8}(?:[。；：！？，] |[\u4e00-\u9fff）][.;:](?: |$)"
                           r"|[.;:] [\u4e00-\u9fff]).{0,8}", re.M)


def pytorch_says(lang: str) -> str:
    """The words that introduce PyTorch's own message in a refusal, in the page's language
    (the part of "The rule: {rule}. PyTorch says:" after the rule)."""
    return i18n.gettext("The rule: {rule}. PyTorch says:", lang).split("{rule}")[1].strip()


def press(root: object, moves: tuple[tuple[str, str], ...]) -> None:
    """Press each (slider, key) of ``moves`` on the explorer ``root`` (an element handle)."""
    for name, key in moves:
        root.query_selector(f".convlab-slider-{name} .noUi-handle").press(key)


@pytest.mark.last_on_page  # it leaves every explorer it moves in a refused configuration
@pytest.mark.on_load("explorers at their defaults")
@UNDER_SUBPATH
@pytest.mark.parametrize(("kind", "page_path"), EXPLORER_PAGES)
def test_explorer_every_slider_over_its_range(visit: Visit, kind: str, page_path: str) -> None:
    """Every slider from its first to its last value by keyboard (the others where they
    were; the position sliders on a large output): at each state the readouts, the handles'
    aria-valuetext and the picture agree, the numbers are PyTorch's, no text leaves its SVG and
    no slider moves; then the largest configuration (screenshot) and a refused one."""
    lang = "zh_CN" if page_path.startswith("zh/") else "en"  # the edition's texts

    def check(seen: dict) -> dict:
        if lang != "en":  # parts joined in explorers.js read as Chinese (then(), t())
            seams = ENGLISH_SEAMS.findall(seen["caption"])
            assert seams == [], f"English punctuation in Chinese at {seen['frame']}: {seams}"
        return CHECKS[kind](seen, lang)

    page, clean, sent = drawn(visit), visit.mark(), visit.mark_requests()
    default = visit.on_load("explorers at their defaults")[kind]
    check(default)
    assert default["band"] <= 80, (
        f"empty band of {default['band']} px at the default settings")
    # Element handles, not locators: a locator finds its element again in the whole page at
    # every use, and a traversal uses it hundreds of times (the explorer's elements stay).
    root = page.locator(f".convlab-explorer-{kind}").first.element_handle()
    root.scroll_into_view_if_needed()
    seen = root.evaluate(SEEN)
    check(seen)
    tops = {name: s["top"] for name, s in seen["sliders"].items()}
    visited = set()
    for name in ORDER[kind]:
        if name == "row":  # a large output, so that the positions have room to move
            press(root, (("i", "End"), ("p", "End")))
        handle = root.query_selector(f".convlab-slider-{name} .noUi-handle")
        handle.focus()
        start = int(float(handle.get_attribute("aria-valuenow")))
        handle.press("Home")
        count = int(float(handle.get_attribute("aria-valuemax"))) + 1
        for step in range(count):
            if step:
                handle.press("ArrowRight")
            seen = root.evaluate(SEEN)
            visited.add(tuple(sorted(check(seen).items())))
            moved = {n: s["top"] for n, s in seen["sliders"].items() if s["top"] != tops[n]}
            assert moved == {}, f"sliders moved under the pointer: {moved}"
        handle.press("Home")  # back to where it started
        for _ in range(start):
            handle.press("ArrowRight")
    assert len(visited) >= sum(len(v) for v in root.evaluate(
        "r => JSON.parse(r.querySelector('.convlab-js-picture').dataset.spec).values")
        .values()) // 2
    moves, largest = LARGEST[kind]
    press(root, moves)
    q = check(root.evaluate(SEEN))
    assert {name: q[name] for name in largest} == largest
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"\W", "_", page_path.removesuffix(".html"))
    root.screenshot(path=str(SCREENSHOTS / f"largest-{kind}-{name}.png"))
    if kind == "rf":  # also on a phone, and in dark mode
        rf_phone_and_dark(page, root, name)
    if REFUSE[kind]:
        press(root, REFUSE[kind])
        seen = root.evaluate(SEEN)
        check(seen)
        assert seen["refused"] and pytorch_says(lang) in seen["refused"], seen["frame"]
    visit.assert_clean_since(clean)
    # Nothing the explorer does requests a file, so one server (the sub-path) is enough.
    assert visit.requested_since(sent) == [], "the explorer requested files"


def rf_phone_and_dark(page: object, root: object, name: str) -> None:
    """Screenshots of the shown (largest) configuration at 390 px and in dark mode; at 390 px
    nothing of the explorer is wider than the screen."""
    page.set_viewport_size({"width": 390, "height": 844})
    root.scroll_into_view_if_needed()
    wide = root.evaluate("""r => Array.from(r.querySelectorAll('svg, table, p, .widget-slider'))
        .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
        .map(e => e.tagName)""")
    assert wide == [], f"wider than a 390 px screen: {wide}"
    root.screenshot(path=str(SCREENSHOTS / f"largest-rf-{name}-390.png"))
    page.set_viewport_size({"width": 1280, "height": 900})
    shown = page.evaluate("() => { const d = document.documentElement.dataset;"
                          " const shown = [d.theme, d.mode];"
                          " d.theme = 'dark'; d.mode = 'dark'; return shown; }")
    root.scroll_into_view_if_needed()
    root.screenshot(path=str(SCREENSHOTS / f"largest-rf-{name}-dark.png"))
    page.evaluate("([theme, mode]) => { const d = document.documentElement.dataset;"
                  " d.theme = theme; d.mode = mode; }", shown)  # the shared page as it was


# In the page: draw many seeded random states of the receptive field explorer with its own
# drawRf into the page and measure every SVG text's box against its frame.
RF_SAMPLE = """([n, seed, ranges]) => {
  let state = seed;
  const rand = m => { state = (state * 1103515245 + 12345) % 2147483648; return state % m; };
  const pick = a => a[rand(a.length)];
  const host = document.createElement('div');
  host.style.width = '740px';
  document.body.appendChild(host);
  const outside = [];
  for (let t = 0; t < n; t++) {
    const stack = [];
    const layers = 1 + rand(5);
    for (let l = 0; l < layers; l++) {
      const type = pick(ranges.type);
      stack.push([type, pick(ranges.k), pick(ranges.s), pick(ranges.p), pick(ranges.d)]);
    }
    const q = {i: pick(ranges.i), layers, layer: 1, type: stack[0][0], k: stack[0][1],
               s: stack[0][2], p: stack[0][3], d: stack[0][4], stack,
               width: pick([320, 360, 600, 740])};  // a phone's picture box up to a desktop's
    host.innerHTML = window.ConvLabExplorers.drawRf(q).html;
    for (const svg of host.querySelectorAll('svg')) {
      const [, , w, h] = svg.getAttribute('viewBox').split(' ').map(Number);
      for (const text of svg.querySelectorAll('text')) {
        const b = text.getBBox();
        if (b.x < -0.5 || b.y < -0.5 || b.x + b.width > w + 0.5 || b.y + b.height > h + 0.5)
          outside.push(JSON.stringify(q.i) + ' ' + JSON.stringify(stack) + ': ' +
                       text.textContent);
      }
    }
  }
  host.remove();
  return outside;
}"""


@UNDER_SUBPATH
@pytest.mark.parametrize("page_path", [CHAPTER["rf"]])
def test_rf_text_stays_in_its_frame_over_many_states(visit: Visit) -> None:
    """2,000 seeded random stacks (types, k, s, p, d, input sizes): no SVG text of the
    receptive field picture runs past its frame."""
    from convlab import explore

    page, start = drawn(visit), visit.mark()
    outside = page.evaluate(RF_SAMPLE, [2000, 18, {n: list(v) for n, v in
                                                  explore.RF_RANGES.items()}])
    assert outside == [], f"{len(outside)} texts outside, first: {outside[:5]}"
    visit.assert_clean_since(start)


@pytest.mark.slow
def test_page_explorers_in_a_live_kernel(browser: object, tmp_path) -> None:
    """JupyterLab on 127.0.0.1 (stopped by its PID): run a notebook that shows every page
    explorer; each draws its picture, and a slider moved by keyboard changes it."""
    import json
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from convlab import explore")] + [
        nbformat.v4.new_code_cell(f"explore.{fn}()") for fn in (
            "conv_explorer", "channels_explorer", "gradient_explorer",
            "transposed_conv_explorer", "image_kernel_explorer", "receptive_field_explorer")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, tmp_path / "live.ipynb")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", "--ServerApp.token=convlab", f"--ServerApp.root_dir={tmp_path}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/api/status?token=convlab") as r:
                    json.load(r)
                break
            except OSError:
                time.sleep(0.5)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"http://127.0.0.1:{port}/lab/tree/live.ipynb?token=convlab")
        page.wait_for_selector(".jp-Notebook", timeout=120_000)
        page.wait_for_timeout(3000)
        page.click(".jp-Notebook")
        page.keyboard.press("Control+Shift+c")  # the command palette
        page.keyboard.type("Run All Cells")
        page.keyboard.press("Enter")
        for kind in ("conv", "channels", "gradient", "transposed", "image", "rf"):
            picture = page.locator(f".convlab-explorer-{kind} .convlab-js-picture")
            picture.wait_for(timeout=120_000)
            page.wait_for_function("p => p.hasAttribute('data-frame')",
                                   arg=picture.element_handle(), timeout=60_000)
            before = picture.get_attribute("data-frame")
            handle = page.locator(f".convlab-explorer-{kind} .noUi-handle").first
            handle.focus()
            handle.press("End")
            after = picture.get_attribute("data-frame")
            assert after != before, f"{kind}: {before} -> {after}"
            readout = page.locator(f".convlab-explorer-{kind} .widget-readout").first
            assert f"={readout.inner_text().strip()}" in after
        assert errors == [], errors
        page.close()
    finally:
        lab.terminate()
        lab.wait(timeout=30)
