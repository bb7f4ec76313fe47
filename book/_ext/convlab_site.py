"""Sphinx extension: make the ConvLab website serve itself.

Jupyter Book 1 and myst-nb load require.js, the Jupyter widgets HTML manager and MathJax from
CDNs by default; offline (and for privacy) we serve our own copies, installed from the npm
registry by ``npm ci`` (``package.json`` / ``package-lock.json``).

At ``config-inited`` this extension copies the files the site needs from ``node_modules`` into
``_build/site_assets/vendor`` and appends that folder to ``html_static_path``. Files added
this way are copied into ``_static/vendor`` but, unlike files in a top-level ``_static``
folder, they are not injected into every page: myst-nb adds the widget manager only to pages
that have widgets (``nb_ipywidgets_js``) and Sphinx adds MathJax only to pages with math
(``mathjax_path``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError

BOOK_STATIC = Path(__file__).resolve().parent.parent / "_static"

# (source under node_modules, destination under _static/vendor)
VENDORED: list[tuple[str, str]] = [
    ("@jupyter-widgets/html-manager/dist", "html-manager"),
    ("mathjax/es5/tex-mml-chtml.js", "mathjax/tex-mml-chtml.js"),
    ("mathjax/es5/output/chtml", "mathjax/output/chtml"),
    ("mathjax/es5/input/tex/extensions", "mathjax/input/tex/extensions"),
    ("mathjax/es5/a11y", "mathjax/a11y"),
    ("mathjax/es5/ui", "mathjax/ui"),
    ("mathjax/es5/sre", "mathjax/sre"),
    ("mathjax/es5/adaptors", "mathjax/adaptors"),
]

# Things we do not ship even though they sit in the folders above.
SKIP_SUFFIXES = (".map", ".d.ts")
SKIP_NAMES = {"embed-amd.js", "libembed-amd.js"}


def _copy_tree(src: Path, dst: Path) -> None:
    if src.is_file():
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.stat().st_mtime < src.stat().st_mtime:
            shutil.copy2(src, dst)
        return
    for path in src.rglob("*"):
        if path.is_dir() or path.name in SKIP_NAMES or path.name.endswith(SKIP_SUFFIXES):
            continue
        _copy_tree(path, dst / path.relative_to(src))


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
    for src, dst in VENDORED:
        _copy_tree(node_modules / src, assets / "vendor" / dst)
    config.html_static_path = [*config.html_static_path, str(assets), str(BOOK_STATIC)]
    for css in sorted(BOOK_STATIC.glob("*.css")):
        app.add_css_file(css.name)
    # Loaded on every page, before the widget manager: tiny and inert without widgets.
    app.add_js_file("convlab-site.js", priority=200)


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", vendor_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
