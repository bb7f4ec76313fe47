"""Every link that opens something says what it opens, and opens it (built site, marker
``site``): a chapter's launch button opens *that chapter* as a notebook in JupyterLab on
Binder; the instructors page's links name the student notebook of each chapter and the zip."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import yaml

from conftest import ROOT, SITE

pytestmark = pytest.mark.site

CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("0*.md"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))


class _Links(HTMLParser):
    """Every ``<a>`` (href, title, text) and the launch menu button's aria-label."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[dict[str, str]] = []
        self.launch_label = ""
        self._open: dict[str, str] | None = None
        self._in_launch = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "div" and "dropdown-launch-buttons" in attr.get("class", ""):
            self._in_launch = 1
        if self._in_launch and tag == "button":
            self.launch_label = attr.get("aria-label", "")
        if tag == "a":
            self._open = {"href": attr.get("href", ""), "title": attr.get("title", ""),
                          "text": "", "launch": "yes" if self._in_launch else ""}

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open is not None:
            self._open["text"] = " ".join(self._open["text"].split())
            self.links.append(self._open)
            self._open = None
        if tag == "ul" and self._in_launch:
            self._in_launch = 0


def _links(page: str) -> _Links:
    parser = _Links()
    parser.feed((SITE / page).read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_launch_button_says_it_opens_this_chapter_as_a_notebook(chapter: str) -> None:
    page = _links(f"book/{chapter}.html")
    launch = [link for link in page.links if link["launch"]]
    assert len(launch) == 1, launch
    link = launch[0]
    assert page.launch_label == "Open this chapter as a notebook"
    assert link["text"] == "This chapter as a notebook (JupyterLab on Binder)"
    assert "this chapter" in link["title"] and "JupyterLab" in link["title"]
    # The target: this chapter's .md in the configured repository and branch, in JupyterLab.
    owner_repo = CONFIG["repository"]["url"].removeprefix("https://github.com/")
    branch = CONFIG["repository"]["branch"]
    assert link["href"] == (f"{CONFIG['launch_buttons']['binderhub_url']}/v2/gh/{owner_repo}/"
                            f"{branch}?urlpath=lab/tree/book/{chapter}.md")
    assert (ROOT / "book" / f"{chapter}.md").is_file()


def test_the_instructors_page_names_what_each_download_opens() -> None:
    page = _links("book/instructors.html")
    downloads = {link["text"]: link["href"] for link in page.links
                 if "notebooks/" in link["href"]}
    for number, chapter in enumerate(CHAPTERS, start=1):
        text = next(t for t in downloads if t.startswith(f"Student notebook of chapter {number} "))
        assert text.endswith(".ipynb)")
        assert downloads[text] == f"../notebooks/student/{chapter}.ipynb"
        assert (SITE / "notebooks" / "student" / f"{chapter}.ipynb").is_file()
    assert downloads["All five student notebooks (.zip)"] == \
        "../notebooks/convlab-student-notebooks.zip"
    assert (SITE / "notebooks" / "convlab-student-notebooks.zip").is_file()
    # No link on the page calls a student notebook anything else, or leads to instructor copies.
    assert not [t for t in downloads if not re.match(r"(Student notebook of chapter \d|All five)",
                                                     t)]
    assert not [h for h in downloads.values() if "instructor" in h]
