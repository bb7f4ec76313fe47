"""JupyterLab's contents manager for the chapters: opening one does not mark it modified.

When a kernel starts, JupyterLab writes the kernel's ``language_info`` into the open notebook's
metadata; a chapter (a MyST Markdown file read by jupytext) has none, so the tab showed unsaved
changes as soon as the kernel was up. This manager — jupytext's, plus one step — gives a text
notebook whose kernel is ``python3`` the ``language_info`` that kernel will report (ipykernel's,
from the Python running the server, which is the Python the ``python3`` kernel runs), so the
kernel's write changes nothing. jupytext leaves ``language_info`` out of the text file on save,
so the chapters' bytes do not change either; ``.ipynb`` files are served as they are.

Enabled by ``tools/lab_settings.py`` (``make lab``, Binder's ``postBuild``) through
``ServerApp.contents_manager_class``. Importing this module has no side effects.
"""

from __future__ import annotations

from typing import Any

from ipykernel.ipkernel import IPythonKernel
from jupytext.async_contentsmanager import AsyncTextFileContentsManager


class ChapterContentsManager(AsyncTextFileContentsManager):
    """jupytext's contents manager, with the ``python3`` kernel's ``language_info`` filled in."""

    async def get(self, path: str, content: bool = True, type: str | None = None,  # noqa: A002
                  format: str | None = None, **kwargs: Any) -> dict[str, Any]:  # noqa: A002
        model = await super().get(path, content=content, type=type, format=format, **kwargs)
        notebook = model.get("content") if model.get("type") == "notebook" else None
        if isinstance(notebook, dict) and not path.endswith(".ipynb"):
            metadata = notebook.setdefault("metadata", {})
            if (metadata.get("kernelspec", {}).get("name") == "python3"
                    and "language_info" not in metadata):
                metadata["language_info"] = dict(IPythonKernel.language_info)
        return model
