"""Helpers for tests that read chapters: small MyST notebook samples and the chapter-reading
extension (``book/_ext/convlab_reading_time.py``, not an installed package)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent

#: The jupytext header every chapter starts with.
HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def chapter(body: str) -> str:
    """A MyST notebook: the header, then ``body`` (dedented)."""
    return HEADER + textwrap.dedent(body)


def reading_time_module() -> ModuleType:
    """Import ``book/_ext/convlab_reading_time.py`` once (a Sphinx build in a test imports
    it by name from ``sys.modules``)."""
    name = "convlab_reading_time"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "book" / "_ext" / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
