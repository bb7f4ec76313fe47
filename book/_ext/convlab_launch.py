"""Launch button that says what it opens: this chapter, as a notebook, in JupyterLab on Binder.

sphinx-book-theme labels its launch link "Binder" ("Launch on Binder"), which does not say what
the reader gets. This extension relabels the link on every page that has one (the chapters):
the menu's text and tooltip name the page and the interface (``launch_buttons`` in
``_config.yml``: Binder, JupyterLab). Runs after the theme builds its header buttons.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx

MENU_TOOLTIP = "Open this chapter as a notebook"
LINK_TEXT = "This chapter as a notebook (JupyterLab on Binder)"
LINK_TOOLTIP = "Open this chapter as a runnable notebook in JupyterLab on Binder"


def relabel(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any],
            doctree: Any) -> None:
    """Rename the theme's Binder launch link and its menu (pages without one are left alone)."""
    for group in context.get("header_buttons", []):
        if group.get("label") != "launch-buttons":
            continue
        group["tooltip"] = MENU_TOOLTIP
        for button in group.get("buttons", []):
            if button.get("text") == "Binder":
                button["text"], button["tooltip"] = LINK_TEXT, LINK_TOOLTIP


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", relabel, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
