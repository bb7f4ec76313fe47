"""Make JupyterLab open the chapters' MyST Markdown files as notebooks (via jupytext), quietly.

Writes ``<prefix>/share/jupyter/lab/settings/overrides.json`` so that a double-click on
``book/01_convolution.md`` opens a notebook, not a text editor, and JupyterLab neither asks
about nor fetches Jupyter news and update checks (the pop-up would cover the chapter), and
``<prefix>/etc/jupyter/jupyter_server_config.json``, which serves the chapters with
:mod:`convlab.lab_contents` (opening a chapter does not mark it modified). The
chapters' MyST directives are rendered by ``jupyterlab-myst`` (in requirements.txt). Used by
``make lab`` locally and by ``postBuild`` on Binder.

Usage: python tools/lab_settings.py [--prefix PREFIX]   (default: this interpreter's prefix)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DEFAULT_VIEWERS = {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}
CONTENTS_MANAGER = "convlab.lab_contents.ChapterContentsManager"  # opening does not modify
QUIET = {"fetchNews": "false", "checkForUpdates": False}


def write_overrides(prefix: Path) -> Path:
    """Merge the jupytext default viewers into JupyterLab's settings overrides under prefix."""
    path = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    settings = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    docmanager = settings.setdefault("@jupyterlab/docmanager-extension:plugin", {})
    docmanager.setdefault("defaultViewers", {}).update(DEFAULT_VIEWERS)
    settings.setdefault("@jupyterlab/apputils-extension:notification", {}).update(QUIET)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")
    server = prefix / "etc" / "jupyter" / "jupyter_server_config.json"
    config = json.loads(server.read_text(encoding="utf-8")) if server.exists() else {}
    config.setdefault("ServerApp", {})["contents_manager_class"] = CONTENTS_MANAGER
    server.parent.mkdir(parents=True, exist_ok=True)
    server.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", type=Path, default=Path(sys.prefix))
    print(f"wrote {write_overrides(parser.parse_args().prefix)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
