"""A learner in JupyterLab: the test starts JupyterLab on 127.0.0.1 (with `make lab`'s settings),
opens chapter 1 as a notebook in headless Chromium, chooses Run > Run All Cells and checks that
MyST renders (no raw directive text), solutions stay collapsed, nothing pops up, a slider of the
first explorer changes its picture live, the tab is not marked modified once the kernel has
started (JupyterLab writes the kernel's `language_info` into the notebook's metadata; the
contents manager `make lab` configures, convlab.lab_contents, serves the chapter with that same
`language_info`, so the write changes nothing), and the .md file is unchanged; a second test
checks that saving a chapter from JupyterLab writes the same bytes."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]  # it runs a chapter in a kernel

ROOT = Path(__file__).resolve().parent.parent
CHAPTER = ROOT / "book" / "01_convolution.md"
RAW_DIRECTIVE_TEXT = (":class:", ":label:", "```{", ":::{", "{exercise}", "{solution",
                      "{admonition}", "{note}", "{math}", "$$")

spec = importlib.util.spec_from_file_location("lab_settings", ROOT / "tools" / "lab_settings.py")
lab_settings = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lab_settings)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """JupyterLab on the chapters, as `make lab` starts it; killed by its PID afterwards."""
    lab_settings.write_overrides(Path(sys.prefix))
    home = tmp_path_factory.mktemp("lab-home")
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_CONFIG_DIR": str(home / "config")}
    # Every cell in the page (no windowing), so that the checks below see the whole chapter.
    tracker = (home / "settings" / "@jupyterlab" / "notebook-extension"
               / "tracker.jupyterlab-settings")
    tracker.parent.mkdir(parents=True)
    tracker.write_text('{"windowingMode": "none"}')
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         "--IdentityProvider.token=", "--ServerApp.password=", "--allow-root",
         f"--ServerApp.root_dir={ROOT / 'book'}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status", timeout=5)
                break
            except OSError:
                assert process.poll() is None, "JupyterLab exited while starting"
                assert time.monotonic() < deadline, "JupyterLab did not start within 180 s"
                time.sleep(1)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# The text of every rendered markdown cell, without editors and math's hidden copies.
RENDERED_TEXT = (
    "n => Array.from(n.querySelectorAll('.jp-MarkdownCell.jp-mod-rendered')).map(e => {"
    " const c = e.cloneNode(true); c.querySelectorAll('.jp-InputArea-editor, .cm-editor,"
    " annotation, script, .katex-mathml, mjx-assistive-mml').forEach(x => x.remove());"
    " return c.textContent; }).join('\\n')")
SHOWN_CODE = ("n => Array.from(n.querySelectorAll('.jp-InputArea-editor'))"
              ".map(e => e.textContent).join('\\n')")
# Every code cell has run: an execution count in its prompt, none queued or running ("[*]").
# (A collapsed cell's prompt is hidden with its code, and empty: those are left out. Waiting
# for them too is why a first version of this test waited over 12 minutes for a Run All that
# had finished in seconds.)
ALL_RUN = ("n => { const p = Array.from(n.querySelectorAll("
           "'.jp-CodeCell:not(:has(.jp-InputPlaceholder)) .jp-InputPrompt'))"
           ".map(e => e.textContent.trim());"
           " return p.length > 0 && p.every(t => /^\\[\\d+\\]:$/.test(t)); }")
# What an explorer shows: its visible frames' markup.
DISPLAYED = ("root => Array.from(root.querySelectorAll('[data-frame]'))"
             ".filter(e => e.offsetParent !== null).map(e => e.outerHTML).join('')")
SOLUTION_LINE = "span = d * (k - 1) + 1"
KERNEL_IDLE = ("() => { const e = document.querySelector('.jp-Notebook-ExecutionIndicator');"
               " return e && e.dataset.status === 'idle'; }")


def _assert_reads_right(notebook) -> None:  # noqa: ANN001 (a Playwright Locator)
    """MyST renders (no raw directive text) and the solutions' code is collapsed."""
    assert notebook.locator(".jp-MarkdownCell.jp-mod-rendered").count() > 40
    text = notebook.evaluate(RENDERED_TEXT)
    assert not [raw for raw in RAW_DIRECTIVE_TEXT if raw in text]
    assert SOLUTION_LINE not in notebook.evaluate(SHOWN_CODE)
    assert notebook.locator(".jp-Cell .jp-InputPlaceholder").count() >= 4


def test_a_chapter_reads_and_runs_in_jupyterlab(lab: str, browser: object) -> None:
    """A learner opens chapter 1, chooses Run > Run All Cells and plays with the first explorer.

    Uses the session's shared Chromium (conftest's ``browser``): a second Playwright started in
    the same session would find the first one's event loop running."""
    before = _digest(CHAPTER)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.set_default_timeout(120_000)
        page.goto(f"{lab}/lab/tree/{CHAPTER.name}")
        notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")
        notebook.locator(".jp-MarkdownCell .jp-RenderedMarkdown, .jp-MarkdownCell .myst").first \
            .wait_for()
        page.wait_for_timeout(3000)   # let every renderer settle before looking for changes

        # No news pop-up covers the chapter.
        assert page.locator(".jp-toast-message", has_text="news").count() == 0
        _assert_reads_right(notebook)

        # Once the kernel has started (and sent its language_info), the tab is not modified.
        page.wait_for_function(KERNEL_IDLE, timeout=180_000, polling=500)
        page.wait_for_timeout(2000)   # the kernel's info arrives just after it goes idle
        tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text=CHAPTER.name)
        assert tab.count() == 1
        assert "jp-mod-dirty" not in (tab.get_attribute("class") or ""), \
            "the chapter's tab shows unsaved changes after the kernel started"

        # Run > Run All Cells, as a learner does; wait until every code cell has run.
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
        started = time.monotonic()
        page.wait_for_function(f"({ALL_RUN})(document.querySelector("
                               f"'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook'))",
                               timeout=300_000, polling=1000)
        print(f"Run All Cells on {CHAPTER.name}: {time.monotonic() - started:.1f} s")
        errors = notebook.locator(".jp-OutputArea-output[data-mime-type="
                                  "'application/vnd.jupyter.stderr']").count()
        print(f"error outputs: {errors}")
        print(f"tab after Run All: {tab.get_attribute('class')}")
        _assert_reads_right(notebook)   # running shows no solution and no raw directive

        # The first explorer: moving a slider changes the picture, live.
        explorer = notebook.locator(".convlab-explorer").first
        explorer.scroll_into_view_if_needed()
        handle = explorer.locator(".noUi-handle[role=slider]").first
        handle.wait_for()
        shown = explorer.evaluate(DISPLAYED)
        assert shown, "the explorer shows no picture"
        value = handle.get_attribute("aria-valuenow")
        handle.focus()
        handle.press("ArrowRight")
        if handle.get_attribute("aria-valuenow") == value:   # already at the end
            handle.press("ArrowLeft")
        assert handle.get_attribute("aria-valuenow") != value, "the slider did not move"
        page.wait_for_function(f"([root, before]) => ({DISPLAYED})(root) !== before",
                               arg=[explorer.element_handle(), shown], timeout=10_000)
    finally:
        page.close()
    assert _digest(CHAPTER) == before, "opening and running the chapter changed the .md file"


def test_saving_a_chapter_from_jupyterlab_writes_the_same_file() -> None:
    """What JupyterLab adds once a kernel starts (language_info, the kernel's display name, new
    cell ids) is left out by jupytext, so a save, or an autosave, rewrites no chapter."""
    import glob

    import jupytext

    for path in sorted(glob.glob(str(ROOT / "book" / "0*.md"))):
        nb = jupytext.read(path)
        nb.metadata["language_info"] = {"name": "python", "version": sys.version.split()[0]}
        nb.metadata["kernelspec"]["display_name"] = "Python 3 (ipykernel)"
        for cell in nb.cells:
            cell.id = "fresh-id"
        assert jupytext.writes(nb, fmt="md:myst") == Path(path).read_text(encoding="utf-8"), path


def test_the_lab_serves_a_chapter_with_the_kernels_language_info(tmp_path: Path) -> None:
    """Why the tab stays clean: convlab.lab_contents (set up by tools/lab_settings.py) gives a
    text notebook the language_info its python3 kernel reports; an .ipynb is served as it is."""
    import asyncio
    import json
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    import nbformat
    from ipykernel.ipkernel import IPythonKernel

    from convlab.lab_contents import ChapterContentsManager

    lab_settings.write_overrides(tmp_path / "prefix")
    config = json.loads((tmp_path / "prefix" / "etc" / "jupyter" / "jupyter_server_config.json")
                        .read_text(encoding="utf-8"))
    assert config["ServerApp"]["contents_manager_class"] == \
        "convlab.lab_contents.ChapterContentsManager"
    shutil.copy(CHAPTER, tmp_path / CHAPTER.name)
    nbformat.write(nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3"}}),
                   tmp_path / "plain.ipynb")
    manager = ChapterContentsManager(root_dir=str(tmp_path))

    def get(path: str) -> dict:
        # in a thread of its own: the session's Playwright keeps an event loop in this one
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(asyncio.run, manager.get(path, type="notebook")).result()

    chapter = get(CHAPTER.name)
    assert chapter["content"]["metadata"]["language_info"] == IPythonKernel.language_info
    plain = get("plain.ipynb")
    assert "language_info" not in plain["content"]["metadata"]
