"""Static checks of the built site (``_build/html``): links, metadata, weight, self-hosting.

These run after the book build (marker ``site``); the browser tests cover behaviour.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from test_explorers_browser import EXPLORER_PAGES

from conftest import CHAPTER_PAGE, ROOT, SITE, built_pages

pytestmark = pytest.mark.site

PAGES = built_pages()
CHAPTERS = [p for p in PAGES if CHAPTER_PAGE.match(p)]
PAGE_BUDGET_BYTES = 1_500_000
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
BASE_URL = CONFIG["html"]["baseurl"].rstrip("/") + "/"
BASE_PATH = urlparse(BASE_URL).path


class _Collector(HTMLParser):
    LINK_ATTRS = {"a": "href", "link": "href", "img": "src", "script": "src",
                  "iframe": "src", "source": "src"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for key in ("id", "name"):
            if key in values and tag != "meta":
                self.ids.add(values[key])
        if tag == "meta":
            key = values.get("property") or values.get("name")
            if key:
                self.meta[key] = values.get("content", "")
        attr = self.LINK_ATTRS.get(tag)
        if tag == "link" and values.get("rel") in ("canonical", "alternate"):
            return  # published addresses of this page (and its other languages), not loaded
        if attr and values.get(attr):
            self.links.append((tag, values[attr]))


@functools.cache  # a page is parsed once per run: every link to it with an anchor reads its ids
def parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed((SITE / page).read_text(encoding="utf-8"))
    return collector


def resolve(page: str, link: str) -> tuple[Path, str] | None:
    """The file and fragment an internal link points at, or None for an external link."""
    url = urlparse(link)
    if url.scheme or url.netloc:
        return None  # another site (or inline data:)
    path = unquote(url.path)
    if path.startswith("/"):
        assert page == "404.html", f"{page}: root-relative link {link!r} breaks under a sub-path"
        assert path.startswith(BASE_PATH), f"404.html link {link!r} is outside {BASE_PATH}"
        target = SITE / path[len(BASE_PATH):]
    elif path:
        target = (SITE / page).parent / path
    else:
        target = SITE / page
    if target.is_dir():
        target = target / "index.html"
    return target.resolve(), url.fragment


def test_the_site_is_built() -> None:
    assert (SITE / "index.html").is_file() and CHAPTERS, "run `make book` first"


@pytest.mark.parametrize("page", PAGES)
def test_every_internal_link_and_anchor_resolves(page: str) -> None:
    broken = []
    for tag, link in parse(page).links:
        target = resolve(page, link)
        if target is None:
            inline = link.startswith("data:")
            assert tag == "a" or inline, f"{page}: <{tag}> loads {link!r} from another site"
            continue
        path, fragment = target
        if not path.is_file():
            broken.append(f"{link} -> missing {path.relative_to(SITE.resolve())}")
        elif fragment and path.suffix == ".html":
            ids = parse(path.relative_to(SITE.resolve()).as_posix()).ids
            if fragment not in ids:
                broken.append(f"{link} -> no anchor #{fragment}")
    assert not broken, f"{page}:\n" + "\n".join(broken)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_stays_within_the_weight_budget(page: str) -> None:
    size = (SITE / page).stat().st_size
    assert size < PAGE_BUDGET_BYTES, f"{page} is {size:,} bytes (budget {PAGE_BUDGET_BYTES:,})"


@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_pages_have_share_metadata(page: str) -> None:
    meta = parse(page).meta
    for key in ("description", "og:title", "og:description", "og:url", "og:image",
                "twitter:card", "twitter:image"):
        assert meta.get(key), f"{page} lacks <meta {key}>"
    assert meta["og:url"] == BASE_URL + page
    assert meta["og:image"].startswith(BASE_URL)
    card = SITE / meta["og:image"][len(BASE_URL):]
    assert card.is_file() and card.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert meta["og:title"].startswith(parse(page).meta["og:title"].split(" — ")[0])
    assert len(meta["description"]) > 40


def test_sitemap_lists_every_page_and_robots_points_to_it() -> None:
    sitemap = (SITE / "sitemap.xml").read_text(encoding="utf-8")
    locs = set(re.findall(r"<loc>([^<]+)</loc>", sitemap))
    pages = {p for p in PAGES if p.startswith("book/")}
    assert {BASE_URL + p for p in pages} <= locs
    assert f"Sitemap: {BASE_URL}sitemap.xml" in (SITE / "robots.txt").read_text(encoding="utf-8")


def test_not_found_page_links_home_under_the_base_path() -> None:
    page = parse("404.html")
    hrefs = [link for tag, link in page.links if tag == "a"]
    assert f"{BASE_PATH}book/intro.html" in hrefs


def test_repository_buttons_point_at_the_repository_setting() -> None:
    html = (SITE / CHAPTERS[0]).read_text(encoding="utf-8")
    repo = CONFIG["repository"]["url"].rstrip("/")
    assert f'href="{repo}"' in html
    assert f"{repo}/issues/new" in html
    assert "mybinder.org/v2/gh/" + "/".join(repo.split("/")[-2:]) in html


def test_pages_without_widgets_do_not_load_the_widget_manager() -> None:
    for page in PAGES:
        html = (SITE / page).read_text(encoding="utf-8")
        has_widgets = "application/vnd.jupyter.widget-view+json" in html
        assert ("html-manager/embed.js" in html) == has_widgets, page


def test_no_page_references_a_cdn() -> None:
    pattern = re.compile(r"""(?:src|href)=["']https?://(?!127\.0\.0\.1)[^"']+\.(?:js|css)""")
    for page in PAGES:
        html = (SITE / page).read_text(encoding="utf-8")
        assert not pattern.search(html), f"{page}: {pattern.search(html).group(0)}"


def test_the_root_redirect_names_its_icon() -> None:
    # Without an icon link Chromium asks for /favicon.ico before following the redirect: a 404
    # (outside the site under a sub-path) and a console error, on some loads but not others.
    page = parse("index.html")
    # An icon file would be requested and then cut off by the redirect: the icon is inline.
    icons = [link for tag, link in page.links if tag == "link"]
    assert icons, "index.html has no <link rel=icon>: browsers will request /favicon.ico"
    assert all(icon.startswith("data:image/svg+xml;base64,") for icon in icons), icons
    assert "book/intro.html" in [link for tag, link in page.links if tag == "a"]


@pytest.mark.serial
def test_a_rebuild_with_no_change_executes_nothing_and_keeps_the_notebook_sets() -> None:
    sets = sorted((SITE / "notebooks").rglob("*"))
    assert any(p.suffix == ".zip" for p in sets), "the student/instructor zips are missing"
    before = {p: p.stat().st_mtime_ns for p in sets}
    result = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-book")), "build", ".", "-W", "-n",
         "--keep-going"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Executing notebook" not in result.stdout + result.stderr
    after = {p: p.stat().st_mtime_ns for p in sorted((SITE / "notebooks").rglob("*"))}
    assert after == before, "the student notebooks or zips were written again with no change"


@pytest.mark.serial
def test_make_book_with_no_change_only_checks() -> None:
    result = subprocess.run(["make", "book"], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "Built: _build/html/index.html" in output
    for step in ("jupyter-book build", "build_stamp", "pip install", "npm ci"):
        assert step not in output, f"`make book` with no change ran {step!r}:\n{output[-3000:]}"


class _ProseText(HTMLParser):
    """The text a reader sees outside code: not in ``code``, ``pre``, scripts, styles,
    formulas or widget state."""

    SKIP = {"code", "pre", "script", "style", "mjx-container", "math", "svg", "textarea"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.text.append(data)


@pytest.mark.parametrize("page", PAGES)
def test_no_markdown_shows_as_text(page: str) -> None:
    """No backtick (inline code Markdown left unread) in the prose, titles or headings of a
    page, in either edition (a going-further block's title once showed its `code` raw)."""
    parser = _ProseText()
    parser.feed((SITE / page).read_text(encoding="utf-8"))
    raw = [line.strip() for line in "".join(parser.text).splitlines() if "`" in line]
    assert raw == [], f"{page}: Markdown shown as text: {raw[:5]}"


# ------------------------------------------------------------------ the explorers page

WIDGET_STATE = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S)


def explorer_widgets(page: str, kind: str) -> dict:
    """The ``kind`` explorer of a built page: its root widget's state, each reference to
    another widget replaced by that widget's model name and state, and so on down (the ids a
    build gives widgets drop out)."""
    found = WIDGET_STATE.search((SITE / page).read_text(encoding="utf-8"))
    assert found, f"{page} embeds no widget state"
    state = json.loads(found.group(1))["state"]

    def resolve(value: object) -> object:
        if isinstance(value, str) and value.startswith("IPY_MODEL_"):
            model = state[value.removeprefix("IPY_MODEL_")]
            return {"model": model["model_name"], "state": resolve(model["state"])}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        return value

    roots = [model for model in state.values()
             if f"convlab-explorer-{kind}" in model["state"].get("_dom_classes", [])]
    assert len(roots) == 1, f"{page} has {len(roots)} {kind} explorers, not one"
    return resolve(roots[0]["state"])


@pytest.mark.parametrize(("kind", "chapter"), EXPLORER_PAGES)
def test_the_explorers_page_shows_each_chapters_explorer_as_it_is(kind: str, chapter: str) -> None:
    """Same sliders (names, labels, values, defaults), same picture spec, same texts."""
    explorers = f"{chapter.rsplit('/', 1)[0]}/explorers.html"
    mine, theirs = explorer_widgets(explorers, kind), explorer_widgets(chapter, kind)
    assert mine == theirs, f"the {kind} explorer of {explorers} is not {chapter}'s"
    sliders = [child for child in mine["children"] if child["model"] == "SelectionSliderModel"]
    assert len(sliders) >= 3 and "data-spec" in str(mine)
