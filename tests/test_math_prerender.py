"""Formulas are typeset when the site is built (book/_ext/convlab_site.py, typeset_math.js).

Marked ``site``: they run after the book build, which installs Node.js's packages (npm ci).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

import convlab_site  # noqa: E402

pytestmark = pytest.mark.site

PAGE = """<html><head><title>t</title></head><body>
<p>Inline <span class="math notranslate nohighlight">\\(x_i &lt; \\frac{a}{b}\\)</span>.</p>
<div class="math notranslate nohighlight" id="equation-one">
<span class="eqno">(1)<a class="headerlink" href="#equation-one">#</a></span>\\[\\begin{split}
a &amp;= b \\\\ c &amp;= d\\end{split}\\]</div>
<div class="math notranslate nohighlight">
\\begin{align}o = (i-1)\\,s\\end{align}</div>
</body></html>"""


def test_formulas_become_mathjax_markup_with_assistive_mathml(tmp_path: Path) -> None:
    page = tmp_path / "book" / "page.html"
    done = convlab_site.typeset_pages({page: PAGE}, tmp_path)[page]
    assert "\\(" not in done and "\\[" not in done and "\\begin" not in done
    containers = re.findall(r"<mjx-container[^>]*>", done)
    assert len(containers) == 3
    assert sum('display="true"' in c for c in containers) == 2
    assert "tabindex" not in done  # formulas are no Tab stops
    assert done.count("<mjx-assistive-mml") == 3
    # what a screen reader reads: x_i < a/b, with the entity decoded before typesetting
    assert "<msub><mi>x</mi><mi>i</mi></msub><mo>&lt;</mo><mfrac>" in done
    assert '<span class="eqno">(1)' in done and "data-mjx-error" not in done
    style = re.search(r'<style id="convlab-math-styles">(.*?)</style>\n</head>', done, re.S)
    assert style is not None
    # fonts relative to the page (one folder down), where vendor_assets copies them
    assert 'url("../_static/vendor/mathjax/fonts/woff-v2/MathJax_Main-Regular.woff")' in (
        style.group(1))


def test_typesetting_twice_changes_nothing(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    done = convlab_site.typeset_pages({page: PAGE}, tmp_path)[page]
    assert 'url("_static/vendor/mathjax/fonts/' in done
    assert convlab_site.typeset_pages({page: done}, tmp_path) == {}


def test_a_formula_mathjax_cannot_parse_is_reported(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    page = tmp_path / "page.html"
    bad = '<p><span class="math notranslate nohighlight">\\(\\frac{a}\\)</span></p></head>'
    convlab_site.typeset_pages({page: bad}, tmp_path)
    assert "MathJax cannot typeset" in caplog.text, caplog.text


SITE = ROOT / "_build" / "html"


@pytest.mark.parametrize("edition", ["", "zh/"])
def test_built_chapters_carry_typeset_formulas_and_no_mathjax(edition: str) -> None:
    chapters = sorted((SITE / edition / "book").glob("0*.html"))
    assert chapters, "build the site first (make book)"
    for chapter in chapters:
        text = chapter.read_text(encoding="utf-8")
        assert "tex-mml-chtml" not in text and "window.MathJax" not in text, chapter
        assert text.count("<mjx-container") == text.count('class="math notranslate nohighlight"')
        fonts = set(re.findall(r'url\("\.\./(_static/vendor/mathjax/fonts/[^"]+)"\)', text))
        assert fonts and all((SITE / edition / font).is_file() for font in fonts), chapter
