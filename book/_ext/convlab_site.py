"""Sphinx extension: make the ConvLab website serve itself.

Jupyter Book 1 and myst-nb load require.js, the Jupyter widgets HTML manager and MathJax from
CDNs by default; offline (and for privacy) we serve our own copies, installed from the npm
registry by ``npm ci`` (``package.json`` / ``package-lock.json``).

At ``config-inited`` this extension copies the files the site needs from ``node_modules`` into
``_build/site_assets/vendor`` and appends that folder to ``html_static_path``. Files added
this way are copied into ``_static/vendor`` but, unlike files in a top-level ``_static``
folder, they are not injected into every page: myst-nb adds the widget manager only to pages
that have widgets (``nb_ipywidgets_js``).

Formulas are typeset when the site is built, not in the reader's browser (:func:`typeset_math`):
MathJax's own Node.js API (``mathjax-full``, run by ``typeset_math.js``) turns each page's TeX
into CommonHTML with assistive MathML, and the page carries the stylesheet for it; only
MathJax's fonts are served. Pages load no MathJax runtime, show their formulas at once, and
their text does not re-wrap when a formula is typeset.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from xml.sax.saxutils import escape

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError, ExtensionError
from sphinx.ext import mathjax
from sphinx.locale import get_translation
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: The site extensions' message catalogue (see ``convlab_i18n.py``).
_ = get_translation("convlab")

BOOK_STATIC = Path(__file__).resolve().parent.parent / "_static"

#: MathJax's CommonHTML fonts, under _static/vendor.
MATH_FONTS = "mathjax/fonts/woff-v2"

# (source under node_modules, destination under _static/vendor)
VENDORED: list[tuple[str, str]] = [
    ("@jupyter-widgets/html-manager/dist", "html-manager"),
    # The fonts of the formulas typeset at build time (typeset_math.js).
    ("mathjax-full/es5/output/chtml/fonts/woff-v2", MATH_FONTS),
]

# Things we do not ship even though they sit in the folders above.
SKIP_SUFFIXES = (".map", ".d.ts")
SKIP_NAMES = {"embed-amd.js", "libembed-amd.js"}


def _copy_tree(src: Path, dst: Path) -> set[Path]:
    """Copy ``src`` (a file or a folder) to ``dst``; the files copied or up to date."""
    if src.is_file():
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            shutil.copy2(src, dst)
        return {dst}
    copied: set[Path] = set()
    for path in src.rglob("*"):
        if path.is_dir() or path.name in SKIP_NAMES or path.name.endswith(SKIP_SUFFIXES):
            continue
        copied |= _copy_tree(path, dst / path.relative_to(src))
    return copied


def vendor_assets(app: Sphinx, config: Config) -> None:
    """Copy the site's JavaScript from node_modules and serve it under ``_static/vendor``."""
    root = Path(app.srcdir)
    node_modules = root / "node_modules"
    missing = [src for src, _ in VENDORED if not (node_modules / src).exists()]
    if missing:
        raise ConfigError(
            "The site's JavaScript is not installed (missing node_modules/"
            + ", node_modules/".join(missing)
            + "). Run `npm ci` (or `make book`, which does it) in the repository root."
        )
    assets = Path(app.outdir).parent / "site_assets"
    copied: set[Path] = set()
    for src, dst in VENDORED:
        copied |= _copy_tree(node_modules / src, assets / "vendor" / dst)
    # Files an earlier version vendored (e.g. the MathJax runtime) are not served any more.
    for path in sorted((assets / "vendor").rglob("*"), reverse=True):  # files before folders
        if path.is_file() and path not in copied:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    config.html_static_path = [*config.html_static_path, str(assets), str(BOOK_STATIC)]
    for css in sorted(BOOK_STATIC.glob("*.css")):
        app.add_css_file(css.name)
    # Loaded on every page, before the widget manager: tiny and inert without widgets.
    app.add_js_file("convlab-site.js", priority=200)
    configure_reading_aids(config)


def configure_reading_aids(config: Config) -> None:
    """Math and theme settings every reader needs (keyboard, screen reader, dark mode).

    * Formulas are typeset at build time (:data:`MATH_RENDERER`, :func:`typeset_math`): no
      MathJax runtime in the pages.
    * The dark colour mode gets its own logo (``logo-dark.svg``: a light wordmark).
    """
    config.html_math_renderer = MATH_RENDERER
    theme_options = dict(config.html_theme_options or {})
    # (its alt text, "ConvLab - Home" in the edition's language: convlab_i18n.py)
    theme_options["logo"] = {**theme_options.get("logo", {}), "image_dark": "logo-dark.svg"}
    config.html_theme_options = theme_options


#: Sphinx's math renderer for HTML: Sphinx's MathJax markup (``\(…\)`` in a ``span.math``,
#: ``\[…\]`` in a ``div.math``), without the MathJax script Sphinx's ``mathjax`` renderer
#: adds to each page: :func:`typeset_math` typesets that markup.
MATH_RENDERER = "convlab_prerendered"

# Sphinx's math markup (sphinx.ext.mathjax's visitors) in a built page. A display's content may
# start with an equation number (span.eqno); a typeset one holds an <mjx-container>.
INLINE_MATH = re.compile(r'(<span class="math notranslate nohighlight">)\\\((.*?)\\\)(</span>)',
                         re.S)
DISPLAY_MATH = re.compile(
    r'(<div class="math notranslate nohighlight"[^>]*>\s*(?:<span class="eqno">.*?</span>)?)'
    r'(.*?)(</div>)', re.S)
MATH_STYLE_ID = "convlab-math-styles"
TYPESETTER = Path(__file__).resolve().parent / "typeset_math.js"


def _untypeset(match: re.Match[str]) -> bool:
    return "<mjx-container" not in match.group(2)


def _display_tex(source: str) -> str:
    """The TeX of a display formula's markup: ``\\[…\\]``, or a bare environment
    (``nowrap``, e.g. amsmath's ``align``)."""
    tex = source.strip()
    if tex.startswith("\\[") and tex.endswith("\\]"):
        tex = tex[2:-2]
    return tex


def typeset_pages(pages: dict[Path, str], root: Path, node: str = "node") -> dict[Path, str]:
    """``pages`` (built HTML by path, under ``root``) with their formulas typeset.

    Every formula in Sphinx's math markup is replaced by MathJax's CommonHTML (with assistive
    MathML), typeset by ``typeset_math.js`` in one Node.js run; a page with formulas gets the
    stylesheet for them in its head, its fonts at ``_static/vendor/``:data:`MATH_FONTS`.
    Pages without untypeset formulas are left out of the result. Raises ``ExtensionError`` if
    Node.js fails and logs a warning per formula MathJax cannot parse.
    """
    jobs: list[tuple[Path, str, list[dict[str, object]]]] = []
    for path, text in pages.items():
        formulas = [{"tex": html.unescape(m.group(2)), "display": False}
                    for m in INLINE_MATH.finditer(text)]
        formulas += [{"tex": html.unescape(_display_tex(m.group(2))), "display": True}
                     for m in DISPLAY_MATH.finditer(text) if _untypeset(m)]
        if formulas:
            depth = len(path.relative_to(root).parts) - 1
            jobs.append((path, "../" * depth + "_static/vendor/" + MATH_FONTS, formulas))
    if not jobs:
        return {}
    request = json.dumps([{"fontURL": font, "formulas": formulas} for _, font, formulas in jobs])
    try:
        run = subprocess.run([node, str(TYPESETTER)], input=request, capture_output=True,
                             text=True, encoding="utf-8", check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", "") or str(error)
        raise ExtensionError(f"Typesetting the formulas with {TYPESETTER.name} failed (is "
                             f"Node.js installed and `npm ci` run?): {detail}") from error
    results = json.loads(run.stdout)
    typeset: dict[Path, str] = {}
    for (path, _font, formulas), result in zip(jobs, results, strict=True):
        for formula, markup in zip(formulas, result["html"], strict=True):
            found = re.search(r'data-mjx-error="([^"]*)"', markup)
            if found:
                logger.warning("%s: MathJax cannot typeset %r: %s", path.relative_to(root),
                               formula["tex"], html.unescape(found.group(1)))
        text = _put_math(pages[path], iter(result["html"]))
        style = f'<style id="{MATH_STYLE_ID}">\n{result["css"]}</style>\n'
        typeset[path] = text.replace("</head>", style + "</head>", 1)
    return typeset


def _put_math(text: str, markups: Iterator[str]) -> str:
    """``text`` with its untypeset formulas replaced by ``markups``, in the order found."""
    text = INLINE_MATH.sub(lambda m: m.group(1) + next(markups) + m.group(3), text)
    return DISPLAY_MATH.sub(lambda m: m.group(1) + next(markups) + m.group(3)
                            if _untypeset(m) else m.group(0), text)


def own_pages(outdir: Path) -> list[Path]:
    """The HTML pages of this build in ``outdir``, without those of another edition published
    inside it (``zh/``: a site of its own, with its own ``searchindex.js``). Those are written
    by their own build, which may finish before or after this one: fixing them here with this
    edition's words would undo their translation (e.g. the logo landmark's name)."""
    nested = {index.parent for index in outdir.glob("*/searchindex.js")}
    return sorted(page for page in outdir.rglob("*.html")
                  if not any(folder in page.parents for folder in nested))


def typeset_math(app: Sphinx, exception: Exception | None) -> None:
    """Typeset the formulas of every built page that has untypeset ones (:func:`typeset_pages`).

    Pages Sphinx did not rewrite in an incremental build were typeset before and are left
    alone, so each page's stylesheet always matches its formulas.
    """
    if exception is not None or app.builder.name != "html":
        return
    out = Path(app.outdir)
    pages = {}
    for page in own_pages(out):
        text = page.read_text(encoding="utf-8")
        if 'class="math notranslate nohighlight"' in text:
            pages[page] = text
    for page, text in typeset_pages(pages, out).items():
        page.write_text(text, encoding="utf-8")


# Fixes to the theme's and myst-nb's HTML that no setting reaches (axe-core rules in brackets).
# Each is (what it fixes, pattern, replacement); tests/test_a11y_browser.py runs axe on every page.
HTML_FIXES: list[tuple[str, re.Pattern[str], str]] = [
    # [label-content-name-mismatch] myst-nb names its hide-input toggle "Toggle hidden content"
    # while it shows "Show code cell source": let the visible text be the name.
    ("hide-input toggle", re.compile(r'<summary aria-label="Toggle hidden content">'),
     "<summary>"),
    # [label-content-name-mismatch] the search field shows "Search Ctrl+K" but is named
    # "Search" (搜索 in Chinese, ...): let the visible text be the name.
    ("search field", re.compile(
        r'(<button class="btn search-button-field search-button__button[^"]*" '
        r'title="([^"]*)") aria-label="\2"'), r"\1"),
    # [label-content-name-mismatch] the colour-mode icons carry titles (Light, Dark, System
    # Settings) that become text inside a button named "Color mode": the icons are decoration.
    ("colour-mode icons", re.compile(
        r'(<i class="theme-switch [^"]*" data-mode="[a-z]+") +title="[^"]*"'),
     r'\1 aria-hidden="true"'),
    # [region] the logo in the sidebar sits outside every landmark: put it in a navigation
    # landmark of its own (it is the link home), named in the page's language ({home}).
    ("logo landmark", re.compile(
        r'(?:<nav aria-label="[^"]*">)?(<a class="navbar-brand logo" href="[^"]*">.*?</a>)'
        r'(?:</nav>)?', re.S),
     r'<nav aria-label="{home}">\1</nav>'),
    # [weight] Font Awesome's all-icons script (543 kB gzip) turns each <i class="fa-…"> into
    # an SVG; convlab.css draws the few icons the site uses with the webfont the theme's
    # stylesheet already loads.
    ("icon script", re.compile(r'\s*<script defer src="[^"]*scripts/fontawesome\.js[^"]*">'
                               r'</script>'), ""),
]


def accessible_html(text: str, home: str = "Home") -> str:
    """``text`` (one page of the built site) with :data:`HTML_FIXES` applied; ``home`` names
    the logo's landmark (the edition's word).

    Idempotent: a page that is fixed already stays as it is (pages Sphinx did not rewrite in an
    incremental build are fixed again).
    """
    for _what, pattern, replacement in HTML_FIXES:
        text = pattern.sub(replacement.replace("{home}", html.escape(home)), text)
    return text


# The theme's one brand icon, <i class="fab fa-github">, costs a whole icon font (Font Awesome's
# brands webfont, 77-118 kB) for one glyph. It is drawn inline instead, from the same glyph
# in the theme's copy of Font Awesome (scripts/fontawesome.js, which the pages no longer load).
GITHUB_ICON = re.compile(r'<i class="fab fa-github"></i>')
GITHUB_GLYPH = re.compile(r'\bgithub:\[(\d+),(\d+),\[\],"f09b","([^"]+)"\]')


def github_icon_svg(fontawesome_js: str) -> str:
    """An inline SVG of Font Awesome's GitHub glyph, read from the theme's ``fontawesome.js``."""
    found = GITHUB_GLYPH.search(fontawesome_js)
    if found is None:
        raise ConfigError("The theme's scripts/fontawesome.js has no GitHub glyph (f09b): the "
                          "repository button's icon cannot be drawn inline.")
    width, height, path = found.groups()
    return (f'<svg class="convlab-icon" viewBox="0 0 {width} {height}" aria-hidden="true" '
            f'focusable="false"><path fill="currentColor" d="{path}"/></svg>')


def fix_built_pages(app: Sphinx, exception: Exception | None) -> None:
    """Apply :func:`accessible_html` to every page of the built site; draw the GitHub icon
    inline (:func:`github_icon_svg`)."""
    if exception is not None or app.builder.name != "html":
        return
    fontawesome = Path(app.outdir) / "_static" / "scripts" / "fontawesome.js"
    github = github_icon_svg(fontawesome.read_text(encoding="utf-8")) if (
        fontawesome.is_file()) else None
    for page in own_pages(Path(app.outdir)):
        text = page.read_text(encoding="utf-8")
        fixed = accessible_html(text, home=str(_("Home")))
        if github is not None:
            fixed = GITHUB_ICON.sub(github, fixed)
        if fixed != text:
            page.write_text(fixed, encoding="utf-8")


SOCIAL_CARD = "social-card.png"
DESCRIPTION_CHARS = 200


def make_social_card(path: Path) -> None:
    """Draw the 1200x630 preview image shown when a page is shared (Open Graph/Twitter)."""
    if path.exists():
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    orange, blue, ink = "#E69F00", "#0072B2", "#222222"
    fig = plt.figure(figsize=(12, 6.3), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 120)
    ax.set_ylim(0, 63)
    ax.axis("off")
    cell = 6
    for row in range(5):
        for col in range(5):
            inside = row < 3 and col < 3
            ax.add_patch(Rectangle((56 + cell * col, 50 - cell * row), cell, cell,
                                   facecolor=orange if inside else "white", edgecolor=ink,
                                   linewidth=1.5))
    ax.annotate("", xy=(96, 41), xytext=(88, 41),
                arrowprops={"arrowstyle": "->", "lw": 3, "color": blue})
    for row in range(3):
        for col in range(3):
            ax.add_patch(Rectangle((98 + cell * col, 44 - cell * row), cell, cell,
                                   facecolor=blue if row == col == 0 else "white",
                                   edgecolor=ink, linewidth=1.5))
    ax.text(6, 36, "ConvLab", fontsize=54, fontweight="bold", color=ink)
    ax.text(6, 12, "How convolution really works in PyTorch — with executable proof",
            fontsize=20, color=ink)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _first_paragraph(doctree: nodes.document | None) -> str:
    if doctree is None:
        return ""
    for para in doctree.findall(nodes.paragraph):
        if para.next_node(nodes.Admonition) is None and not any(
            isinstance(parent, nodes.Admonition | nodes.container) for parent in _parents(para)
        ):
            text = " ".join(para.astext().split())
            if len(text) > 40:
                return text if len(text) <= DESCRIPTION_CHARS else (
                    text[: DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0] + "…")
    return ""


def _parents(node: nodes.Node) -> list[nodes.Node]:
    found = []
    while node.parent is not None:
        node = node.parent
        found.append(node)
    return found


def page_metadata(app: Sphinx, pagename: str, templatename: str, context: dict,
                  doctree: nodes.document | None) -> None:
    """Add a description and Open Graph / Twitter card tags to every page."""
    base = app.config.html_baseurl.rstrip("/") + "/"
    site_title = app.config.html_title or app.config.project
    page_title = html.unescape(re.sub(r"<[^>]+>", "", context.get("title", ""))).strip()
    title = f"{page_title} — {site_title}" if page_title else site_title
    description = _first_paragraph(doctree) or str(_(
        "An interactive course on how convolution works in PyTorch, with executable proof."))
    tags = {
        "description": description,
        "og:type": "article" if pagename != app.config.root_doc else "website",
        "og:site_name": site_title,
        "og:title": title,
        "og:description": description,
        "og:url": f"{base}{pagename}.html",
        "og:image": f"{base}_static/{SOCIAL_CARD}",
        "og:image:alt": str(_("A 3x3 kernel over a 5x5 input produces one output value: "
                                "the ConvLab logo")),
        "twitter:card": "summary_large_image",
        "twitter:title": title,
        "twitter:description": description,
        "twitter:image": f"{base}_static/{SOCIAL_CARD}",
    }
    lines = []
    for key, value in tags.items():
        attr = "property" if key.startswith("og:") else "name"
        lines.append(f'<meta {attr}="{key}" content="{html.escape(value, quote=True)}" />')
    context["metatags"] = context.get("metatags", "") + "\n".join(lines) + "\n"


def write_sitemap_and_404(app: Sphinx, exception: Exception | None) -> None:
    """Write sitemap.xml, robots.txt and a 404 page that works from any URL depth (a
    translated edition: its sitemap.xml only)."""
    if exception is not None or app.builder.name != "html":
        return
    out = Path(app.outdir)
    base = app.config.html_baseurl.rstrip("/") + "/"
    docs = sorted(app.env.found_docs)
    urls = "".join(f"  <url><loc>{escape(base + doc)}.html</loc></url>\n" for doc in docs)
    (out / "sitemap.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n", encoding="utf-8")
    if (app.config.language or "en") != "en":
        return  # a translated edition lives inside the English site, which has the two below
    (out / "robots.txt").write_text(f"User-agent: *\nAllow: /\nSitemap: {base}sitemap.xml\n",
                                     encoding="utf-8")
    # GitHub Pages serves 404.html for a missing URL at any depth, so its links are absolute
    # paths under the site's base path (html_baseurl), not relative ones.
    # Images are inlined so that the page renders wherever it is served from.
    root = urlparse(base).path
    home = f"{root}{app.config.root_doc}.html"
    logo = _data_uri(BOOK_STATIC / "logo.svg")
    icon = _data_uri(BOOK_STATIC / "favicon.svg")
    (out / "404.html").write_text(NOT_FOUND.format(root=root, home=home, logo=logo, icon=icon),
                                  encoding="utf-8")


def _data_uri(svg: Path) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.read_bytes()).decode("ascii")


NOT_FOUND = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<meta name="viewport" content="width=device-width, initial-scale=1" />
<title>Page not found — ConvLab</title>
<link rel="icon" href="{icon}" />
<style>
body {{ font-family: system-ui, sans-serif; max-width: 40rem; margin: 4rem auto;
       padding: 0 1rem; color: #222; line-height: 1.5; }}
a {{ color: #0063a0; }}
</style>
</head>
<body>
<main>
<p><img src="{logo}" alt="ConvLab" width="180" height="60" /></p>
<h1>Page not found</h1>
<p>The page you asked for is not part of ConvLab — perhaps a chapter was renamed.</p>
<p><a href="{home}">Go to the start of the course</a> or
<a href="{root}search.html">search the course</a>.</p>
</main>
</body>
</html>
"""


def write_notebook_sets(app: Sphinx, exception: Exception | None) -> None:
    """Offer the student and instructor notebooks on the site (``notebooks/``), with zips.

    The notebooks are made by ``tools/make_student.py`` (the same code as ``make student``), in
    the edition's language (a translated edition offers its translated notebooks at the same
    addresses), and only when their sources changed: a hash of the chapters and of the
    generator (and of a translation's catalogues) is kept in ``_build/.notebooks-stamp``, so a
    build that changed neither leaves them (and the zips) alone.
    """
    if exception is not None or app.builder.name != "html":
        return
    import hashlib
    import importlib.util

    root = Path(app.srcdir)
    generator = root / "tools" / "make_student.py"
    if not generator.is_file():
        raise ConfigError("tools/make_student.py is missing: it makes the student notebooks.")
    out = Path(app.outdir) / "notebooks"
    stamp = Path(app.outdir).parent / ".notebooks-stamp"
    language = app.config.language or "en"
    lang = language if (root / "locales" / language / "notebooks.po").is_file() else "en"
    sources = [generator, *sorted((root / "book").glob("0*.md"))]
    if lang != "en":
        sources += [root / "tools" / "translate_notebook.py",
                    root / "locales" / lang / "notebooks.po",
                    *sorted((root / "locales" / lang / "LC_MESSAGES" / "book").glob("0*.po"))]
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    zips = [out / f"convlab-{kind}-notebooks.zip" for kind in ("student", "instructor")]
    recorded = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else ""
    if recorded == digest.hexdigest() and all(path.is_file() for path in zips):
        return
    spec = importlib.util.spec_from_file_location("make_student", generator)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{generator} cannot be loaded: it makes the student notebooks.")
    make_student = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_student)
    shutil.rmtree(out, ignore_errors=True)
    make_student.make(root / "book", out, lang, flat=True)
    for kind in ("student", "instructor"):
        shutil.make_archive(str(out / f"convlab-{kind}-notebooks"), "zip", out, kind)
    stamp.write_text(digest.hexdigest() + "\n", encoding="utf-8")


def write_root_redirect(app: Sphinx, exception: Exception | None) -> None:
    """Write ``index.html``, the site root, as a small page that redirects to the first page.

    sphinx-external-toc writes a bare ``<meta http-equiv="Refresh">`` there, with no icon link,
    so Chromium asks for ``/favicon.ico``: a 404 (and a console error) whenever the answer comes
    back before the redirect — and under a sub-path that address is not even the site's. An icon
    file would be fetched too and then cut off by the redirect (a failed request), so this page
    carries its icon inline (a data: URI, no request at all), plus a title, a language and a
    link for browsers that do not follow the refresh.
    """
    if exception is not None or app.builder.name != "html":
        return
    first = f"{app.config.root_doc}.html"
    (Path(app.outdir) / "index.html").write_text(
        REDIRECT.format(first=html.escape(first), icon=_data_uri(BOOK_STATIC / "favicon.svg"),
                        title=html.escape(app.config.html_title or app.config.project),
                        lang=_html_lang(app), go=html.escape(str(_(
                            "Go to the start of the course")))),
        encoding="utf-8")


REDIRECT = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8" />
<title>{title}</title>
<link rel="icon" href="{icon}" />
<meta http-equiv="Refresh" content="0; url={first}" />
</head>
<body>
<p><a href="{first}">{go}</a></p>
</body>
</html>
"""


def _html_lang(app: Sphinx) -> str:
    """The ``lang`` of the build's pages (``zh_CN`` -> ``zh-CN``)."""
    return (app.config.language or "en").replace("_", "-")


def add_social_card(app: Sphinx) -> None:
    make_social_card(Path(app.outdir).parent / "site_assets" / SOCIAL_CARD)


def merge_streams_in_place(outputs: list) -> list:
    """Merge a cell's stream outputs into one per stream name, in the cell itself.

    A cell that prints over time reaches the build as several ``stdout`` chunks, split wherever
    the kernel happened to flush — even in the middle of a line. With ``nb_merge_streams``
    myst-nb 1.4 merges them for the page, but (a) it strips each chunk and appends a newline,
    so a line split between two chunks is shown on two lines, and (b) it appends to the first
    chunk *in place* and then writes ``_sources/<page>.ipynb`` with the later chunks still in
    it, so the downloaded notebook showed those lines twice. This replacement joins the chunks
    verbatim (as nbclient's own ``coalesce_streams`` does) and writes the merged list back into
    the cell, so the page and the downloaded notebook carry the same single stream
    (``tests/test_notebook_outputs.py`` checks the built files).
    """
    merged: list = []
    first: dict[str, Any] = {}
    for output in outputs:
        if output.get("output_type") != "stream":
            merged.append(output)
        elif output["name"] in first:
            first[output["name"]]["text"] += output["text"]
        else:
            output = copy.deepcopy(output)
            first[output["name"]] = output
            merged.append(output)
    outputs[:] = merged
    return outputs


def keep_cached_outputs(start_client: Any) -> Any:
    """Wrap myst-nb's ``NotebookClientCache.start_client`` so a cache hit fills the page's notebook.

    myst-nb 1.4 writes ``jupyter_execute/<page>.ipynb`` (and so ``_sources/<page>.ipynb``) from
    the notebook object it read, which execution fills in place. On a jupyter-cache *hit* the
    client builds a new, merged notebook instead, so after a prose-only edit the page showed the
    outputs but the downloadable notebook had none. This wrapper copies the merged cells and
    metadata back into the object myst-nb writes (``tests/test_notebook_outputs.py``).
    """
    def start(self: Any) -> None:
        read = self._notebook
        start_client(self)
        if self._notebook is not read:
            read.cells = self._notebook.cells
            read.metadata = self._notebook.metadata
            self._notebook = read
    return start


# A figure with more distinct colours than this is a photograph (or holds one): it is encoded
# lossily. Line art, heat maps and text stay lossless (matplotlib's antialiased diagrams in
# the course have at most a few thousand colours; the Grace Hopper figures 45,000 and more).
PHOTO_COLOURS = 16_384
# WebP quality for photographs: no visible difference at the size they are shown.
PHOTO_QUALITY = 90


def compact_figure(png: bytes) -> bytes | None:
    """The WebP encoding of an opaque PNG figure, or None to keep the PNG as it is.

    matplotlib's inline backend sends every figure as an RGBA PNG, although the figures are
    opaque: the Grace Hopper figures of chapters 2 and 4 weigh 0.5 and 0.85 MB that way. An
    opaque figure becomes a lossless WebP (the same pixels, 2-3x smaller), a photograph (more
    than :data:`PHOTO_COLOURS` colours) a WebP of quality :data:`PHOTO_QUALITY` (6-7x smaller).
    A figure with transparent pixels, or one WebP would not make smaller, stays a PNG.
    """
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        image.load()
        if image.mode in ("RGBA", "LA", "PA") and image.getchannel("A").getextrema() != (
                255, 255):
            return None  # transparent pixels show the page through: keep them
        if image.mode == "P" and "transparency" in image.info:
            return None
        rgb = image.convert("RGB")
    photo = rgb.getcolors(PHOTO_COLOURS) is None  # None: more colours than that
    out = io.BytesIO()
    if photo:
        rgb.save(out, format="WEBP", quality=PHOTO_QUALITY, method=6)
    else:
        rgb.save(out, format="WEBP", lossless=True, quality=100, method=4)
    webp = out.getvalue()
    return webp if len(webp) < len(png) else None


def render_compact_images(render_image: Any) -> Any:
    """Wrap myst-nb's ``render_image`` so that pages show :func:`compact_figure`'s encoding.

    myst-nb writes each image output to a file named by its hash and makes an image node for it
    (with the alt text and size options of the cell). The wrapper lets it, then points the node
    at the WebP file instead; the downloadable notebooks keep their PNGs.
    """
    def render(self: Any, data: Any) -> list[nodes.Element]:
        rendered = render_image(self, data)
        if data.mime_type != "image/png":
            return rendered
        webp = compact_figure(base64.b64decode(data.content))
        if webp is None:
            return rendered
        name = hashlib.sha256(webp).hexdigest() + ".webp"
        uri = self.write_file([name], webp, overwrite=False, exists_ok=True)
        for node in rendered:
            for image in node.findall(nodes.image):
                image["uri"] = uri
        return rendered

    return render


def setup(app: Sphinx) -> dict[str, object]:
    from myst_nb.core import render
    from myst_nb.core.execute.cache import NotebookClientCache

    if not getattr(NotebookClientCache.start_client, "convlab_keeps_outputs", False):
        keep = keep_cached_outputs(NotebookClientCache.start_client)
        keep.convlab_keeps_outputs = True  # type: ignore[attr-defined]
        NotebookClientCache.start_client = keep

    # myst-nb's renderer looks the function up in its own module namespace
    render.coalesce_streams = merge_streams_in_place
    if not getattr(render.NbElementRenderer.render_image, "convlab_compact", False):
        compact = render_compact_images(render.NbElementRenderer.render_image)
        compact.convlab_compact = True  # type: ignore[attr-defined]
        render.NbElementRenderer.render_image = compact
    app.setup_extension("sphinx.ext.mathjax")  # its math markup and its config values
    app.add_html_math_renderer(MATH_RENDERER, (mathjax.html_visit_math, None),
                               (mathjax.html_visit_displaymath, None))
    app.connect("config-inited", vendor_assets)
    app.connect("builder-inited", add_social_card)
    app.connect("html-page-context", page_metadata)
    app.connect("build-finished", write_sitemap_and_404)
    app.connect("build-finished", write_notebook_sets)
    # Before sphinx-external-toc's own redirect (priority 500), which then sees the file exists.
    app.connect("build-finished", write_root_redirect, priority=400)
    app.connect("build-finished", fix_built_pages)
    app.connect("build-finished", typeset_math)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
