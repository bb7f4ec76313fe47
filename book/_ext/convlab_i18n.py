"""Sphinx extension: one course, several languages, from one source (style guide, section 8).

Each language is an *edition*: the same chapter files built with Sphinx's own i18n (gettext
catalogues in ``locales/<language>/LC_MESSAGES/``, one ``.po`` per document, managed by
``tools/i18n.py`` and ``sphinx-intl``) into its own folder of the site — English at the root of
``_build/html``, Chinese in ``_build/html/zh``. :data:`EDITIONS` is the one list of editions.

This extension gives every page of every edition:

* ``<html lang>`` from the build's ``language`` (Sphinx writes it; ``zh_CN`` becomes ``zh-CN``);
* a language switcher in the article header, leading to the same page in the other editions
  with relative URLs (so the site works under a sub-path such as GitHub Pages' ``/<repo>/``);
  ``book/_static/convlab-i18n.js`` adds the reader's ``#anchor`` to the link;
* ``<link rel="alternate" hreflang>`` in ``<head>`` for every edition (absolute, from
  ``html_baseurl``, like the page's ``og:url``);
* stable section anchors: nothing to do, by design. Sphinx's ``Locale`` transform replaces a
  section title by its translation but the section keeps the ``ids`` docutils and MyST gave it
  from the English title, so ``#padding`` opens the same section in every edition
  (``tests/test_i18n.py`` builds a translated page and checks it);
* the texts the site extensions write themselves (time line, switcher, 404 page …) in the
  edition's language, through Sphinx's ``get_translation`` and the catalogue
  ``locales/<language>/LC_MESSAGES/convlab.po`` (compiled to ``.mo`` at start-up).

Nothing here changes a code cell: code is identical in every edition by construction.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from docutils import nodes
from sphinx import locale as sphinx_locale
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ConfigError
from sphinx.locale import get_translation
from sphinx.transforms import SphinxTransform
from sphinx.util.docutils import SphinxDirective
from sphinx.util.i18n import docname_to_domain
from sphinx.util.nodes import clean_astext, is_translatable

ROOT = Path(__file__).resolve().parent.parent.parent
LOCALES = ROOT / "locales"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: The message catalogue of the site extensions' own texts (``locales/<lang>/…/convlab.po``).
CATALOG = "convlab"
SWITCHER_TEMPLATE = "convlab-language.html"
#: The course's terms, English -> Chinese (machine-readable: the glossary page and a test).
GLOSSARY = LOCALES / "zh_CN" / "glossary.tsv"

_ = get_translation(CATALOG)


@dataclass(frozen=True)
class Edition:
    """One language of the course: its Sphinx ``language``, folder, ``lang`` and name."""

    language: str  # Sphinx's name, e.g. "zh_CN"
    folder: str  # under _build/html ("" for the root)
    html_lang: str  # BCP 47, for <html lang> and hreflang, e.g. "zh-CN"
    name: str  # the language's own name, shown in the switcher


#: Every edition of the course; the first is the source language, at the root of the site.
EDITIONS: tuple[Edition, ...] = (
    Edition("en", "", "en", "English"),
    Edition("zh_CN", "zh", "zh-CN", "中文"),
)


def edition_of(language: str | None) -> Edition:
    """The edition built with Sphinx's ``language`` (``None`` is English, Sphinx's default)."""
    language = language or "en"
    for edition in EDITIONS:
        if edition.language == language:
            return edition
    known = ", ".join(e.language for e in EDITIONS)
    raise ConfigError(f"language {language!r} is not an edition of the course (editions: "
                      f"{known}); add it to EDITIONS in book/_ext/convlab_i18n.py")


def page_url(pagename: str, source: Edition, target: Edition) -> str:
    """Relative URL from ``pagename`` in ``source`` to the same page in ``target``."""
    depth = pagename.count("/") + (1 if source.folder else 0)
    prefix = "../" * depth + (target.folder + "/" if target.folder else "")
    return f"{prefix}{pagename}.html"


def absolute_url(base: str, pagename: str, edition: Edition) -> str:
    """The published address of ``pagename`` in ``edition`` (``base`` = English site's URL)."""
    base = base.rstrip("/") + "/"
    folder = edition.folder + "/" if edition.folder else ""
    return f"{base}{folder}{pagename}.html"


def english_base(config: Config) -> str:
    """The English site's published address (a translated edition's ``html_baseurl`` has its
    folder appended by ``tools/i18n.py``)."""
    base = config.html_baseurl.rstrip("/")
    folder = edition_of(config.language).folder
    if folder and base.endswith("/" + folder):
        base = base[: -len(folder) - 1]
    return base + "/"


#: Catalogues of other packages' texts that their own translations lack (sphinx-exercise's
#: zh_CN has "Solution to" but not "Solution"; sphinx-book-theme's has no "Repository"):
#: ``locales/<language>/LC_MESSAGES/<domain>.po``, added as a fallback of the package's own.
#: (``sphinx.po`` there is Sphinx's own catalogue name: Sphinx itself reads it from
#: ``locale_dirs`` ahead of its built-in one. Sphinx's ``gettext`` builder extracts the texts
#: of :data:`TEMPLATES` into it — our copies of the book theme's templates that hard-code
#: English: "Toggle primary sidebar", the navigation's "Main" and "Page" — and ``make po``
#: adds :data:`THEME_TEXTS`.)
PACKAGE_CATALOGS = ("exercise", "booktheme")

#: Texts of Sphinx's and the pydata theme's templates (catalogue ``sphinx``: the pydata theme
#: adds its texts there) that their zh_CN catalogues lack — the pydata theme has no zh_CN,
#: Sphinx's leaves "Link to this heading" untranslated. The ``gettext`` builder extracts only
#: the project's own templates, so ``tools/i18n.py pot`` adds these to ``sphinx.pot``.
THEME_TEXTS = ("Link to this heading", "Color mode", "Home", "© Copyright %(copyright)s.")

#: sphinx-togglebutton's buttons (dropdowns: solutions, "Going further") carry this English
#: ``aria-label``, hard-coded in its script; ``convlab-i18n.js`` replaces it in a translated
#: edition with the translation this extension puts in the page.
TOGGLE_LABEL = "Toggle hidden content"


def compile_catalog(language: str, locales: Path = LOCALES,
                    catalog_name: str = CATALOG) -> Path | None:
    """Compile ``<catalog_name>.po`` of ``language`` to ``.mo`` when the ``.po`` is newer; its
    folder."""
    folder = locales / language / "LC_MESSAGES"
    po, mo = folder / f"{catalog_name}.po", folder / f"{catalog_name}.mo"
    if not po.is_file():
        return None
    if not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime:
        with po.open("rb") as source:
            catalog = read_po(source, locale=language)
        with mo.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
    return locales


def search_dictionary(app: Sphinx) -> Path:
    """A jieba user dictionary of the glossary's Chinese terms, so that the Chinese search
    index keeps 转置卷积 or 感受野 as words (Sphinx's ``html_search_options["dict"]``)."""
    path = Path(app.outdir).parent / "jieba-terms.txt"
    text = "".join(f"{term.chinese} 2000 n\n" for term in read_glossary())
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def load_catalogues(app: Sphinx, config: Config) -> None:
    """Check the language and load the extensions' catalogue, before the other extensions
    read their settings; translate sphinx-togglebutton's hint.

    The hint is shown beside a dropdown's title on wide screens ("Click to show").
    sphinx-togglebutton translates its default from its own catalogue, which it keeps in a
    folder named ``zh-cn``: gettext never finds that for the language ``zh_CN``, so the hint
    stayed English. The extension writes the hint into the pages on this same event, at the
    default priority (500); this handler runs before it (400). A hint that ``_config.yml``
    sets to another text is kept."""
    edition = edition_of(config.language)
    if edition.language != "en":
        locales = compile_catalog(edition.language)
        if locales is not None:
            app.add_message_catalog(CATALOG, str(locales))
        for domain in PACKAGE_CATALOGS:
            # after the packages' own add_message_catalog (their setup ran first): a fallback
            if compile_catalog(edition.language, catalog_name=domain) is not None:
                sphinx_locale.init([str(LOCALES)], edition.language, domain)
    for name, english, translated in (
            ("togglebutton_hint", "Click to show", _("Click to show")),
            ("togglebutton_hint_hide", "Click to hide", _("Click to hide"))):
        if getattr(config, name, None) == english:
            setattr(config, name, str(translated))


def configure(app: Sphinx, config: Config) -> None:
    """Put the edition's texts in the theme's settings and the switcher in the header."""
    edition = edition_of(config.language)
    if edition.language.startswith("zh"):
        config.html_search_options = {**(config.html_search_options or {}),
                                      "dict": str(search_dictionary(app))}
    # first: its copies of the book theme's templates (translated titles) replace the theme's
    config.templates_path = [str(TEMPLATES), *config.templates_path]
    theme_options = dict(config.html_theme_options or {})
    # the theme's texts that are settings, in the edition's language (the English ones are
    # Jupyter Book's and the pydata theme's: "Search this book...", "<title> - Home")
    theme_options["search_bar_text"] = str(_("Search this book..."))
    logo = dict(theme_options.get("logo") or {})
    if not logo.get("text"):
        logo.setdefault("alt_text", str(_("{title} - Home")).format(
            title=config.html_title or config.project))
    theme_options["logo"] = logo
    end = theme_options.get("article_header_end", ["article-header-buttons.html"])
    end = [end] if isinstance(end, str) else list(end)
    if SWITCHER_TEMPLATE not in end:
        theme_options["article_header_end"] = [SWITCHER_TEMPLATE, *end]
    config.html_theme_options = theme_options
    app.add_js_file("convlab-i18n.js", priority=210)
    if edition.language != "en":
        label = str(_("Toggle hidden content"))
        app.add_js_file(None, priority=209, body="var CONVLAB_TOGGLE_LABEL = "
                        f"{json.dumps([TOGGLE_LABEL, label], ensure_ascii=False)};")


def language_context(app: Sphinx, pagename: str, templatename: str, context: dict,
                     doctree: nodes.document | None) -> None:
    """The switcher's links and the ``hreflang`` alternates of one page."""
    here = edition_of(app.config.language)
    context["convlab_language_label"] = str(_("Language"))
    context["convlab_language_prefix"] = str(_("Read this page in"))
    context["convlab_language_links"] = [
        {"href": page_url(pagename, here, other), "hreflang": other.html_lang, "name": other.name}
        for other in EDITIONS if other != here
    ]
    base = english_base(app.config)
    alternates = [
        f'<link rel="alternate" hreflang="{e.html_lang}" '
        f'href="{absolute_url(base, pagename, e)}" />' for e in EDITIONS
    ]
    alternates.append(f'<link rel="alternate" hreflang="x-default" '
                      f'href="{absolute_url(base, pagename, EDITIONS[0])}" />')
    context["metatags"] = context.get("metatags", "") + "\n".join(alternates) + "\n"


@dataclass(frozen=True)
class Term:
    """One row of the glossary: a term, its Chinese name, where it is taught, its forms."""

    english: str
    chinese: str
    taught_in: str  # a MyST link target relative to book/, e.g. "01_convolution.md#dilation"
    forms: tuple[str, ...]  # lower-case English forms the consistency test looks for
    except_in: tuple[str, ...] = ()  # phrases in which a form is not this term


def read_glossary(path: Path = GLOSSARY) -> list[Term]:
    """The terms of ``glossary.tsv`` (``#`` lines are comments; the first row names columns)."""
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")]
    rows = list(csv.DictReader(lines, delimiter="\t"))
    terms = []
    for number, row in enumerate(rows, start=2):
        if not all((row.get(key) or "").strip() for key in ("english", "chinese", "taught_in")):
            raise ValueError(f"{path.name}, row {number}: english, chinese and taught_in "
                             f"must all be given, got {row}")
        forms = tuple(f.strip().lower() for f in (row.get("forms") or "").split(",")
                      if f.strip()) or (row["english"].lower(),)
        except_in = tuple(f.strip().lower() for f in (row.get("except") or "").split(",")
                          if f.strip())
        terms.append(Term(row["english"].strip(), row["chinese"].strip(),
                          row["taught_in"].strip(), forms, except_in))
    return terms


class GlossaryTable(SphinxDirective):
    """``{glossary-table}``: the table of :data:`GLOSSARY` (English, 中文, where it is taught).

    The table is the same in every edition (its terms are shown in both languages), so it is
    not a translation target; the "taught in" links show the section titles of the edition.
    """

    has_content = False

    def run(self) -> list[nodes.Node]:
        self.env.note_dependency(str(GLOSSARY))
        taught_in = _("Taught in")
        rows = ['| <span lang="en">English</span> | <span lang="zh-CN">中文</span> '
                f"| {taught_in} |", "| --- | --- | --- |"]
        rows += [f'| <span lang="en">{t.english}</span> | <span lang="zh-CN">{t.chinese}</span> '
                 f"| [](<{t.taught_in}>) |" for t in read_glossary()]
        table = self.parse_text_to_nodes("\n".join(rows))
        for parsed in table:
            for node in parsed.findall(nodes.TextElement):
                node["translatable"] = False
        return table


class TranslatableExerciseTitles(SphinxTransform):
    """Make the titles of exercises and solutions translation messages.

    sphinx-exercise builds an exercise's title ("Exercise 3 (Count the parameters)") from its
    own translated word and a ``subtitle`` node holding the directive's argument — with no
    ``source`` and no ``rawsource``, which Sphinx's i18n reads as "a built-in message" and skips:
    the Chinese edition showed every exercise title in English. This transform, run before
    Sphinx's ``Locale`` transform (priority 20), gives each such subtitle its text as
    ``rawsource`` and its directive's source and line, so ``make po`` extracts it and the
    translated build replaces it like any paragraph.
    """

    default_priority = 10

    def apply(self, **kwargs: object) -> None:
        from sphinx_exercise.nodes import exercise_subtitle, solution_subtitle

        for node in self.document.findall(nodes.subtitle):
            if not isinstance(node, (exercise_subtitle, solution_subtitle)) or node.source:
                continue
            holder = node.parent
            while holder is not None and not holder.source:
                holder = holder.parent
            if holder is None:
                continue
            node.source, node.line = holder.source, holder.line
            node.rawsource = node.astext()
            titles = self.env.metadata[self.env.docname].setdefault(TITLES_KEY, [])
            titles.append((node.rawsource, node.source, node.line))


TITLES_KEY = "convlab_exercise_titles"


def catalogue_exercise_titles(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """Add the exercise titles to the ``gettext`` builder's catalogue of the page.

    Sphinx's ``gettext`` builder reads the messages after the post-transforms, and
    sphinx-exercise's post-transform rebuilds every exercise title ("Exercise 3 (…)") from new
    nodes; :class:`TranslatableExerciseTitles` records the titles while the page is read.
    """
    if app.builder.name != "gettext":
        return
    from sphinx.builders.gettext import MsgOrigin

    catalog = app.builder.catalogs[docname_to_domain(docname, app.config.gettext_compact)]
    for text, source, line in app.env.metadata[docname].get(TITLES_KEY, []):
        catalog.add(text, MsgOrigin(source, line))


class TranslateMathBlocks(SphinxTransform):
    """Translate display formulas (``$$ ... $$``) by their catalogue entry, as they are.

    A display formula is a translation message of its own (Sphinx's ``math_block`` is a
    literal-type node): its ``\\text{...}`` parts are words, such as the ``weights`` and ``bias``
    under the braces of chapter 2. Sphinx's ``Locale`` transform (priority 20) puts a translated
    literal-type message through the page's parser as ``::`` followed by the indented text, an
    rST literal block, but MyST does not read ``::`` that way: every translated display formula
    of the Chinese edition showed just "::" (MyST-Parser issues #444 and #980). This transform,
    run before ``Locale``, replaces each display formula that has a translation by its
    translation, unparsed; ``Locale`` then finds no message for it and leaves it alone.
    """

    default_priority = 19

    def apply(self, **kwargs: object) -> None:
        if edition_of(self.config.language).language == "en":
            return
        domain = docname_to_domain(self.env.docname, self.config.gettext_compact)
        dirs = [str(Path(self.env.srcdir) / d) for d in self.config.locale_dirs]
        catalog, has_catalog = sphinx_locale.init(dirs, self.config.language, domain)
        if not has_catalog:
            return
        for node in self.document.findall(nodes.math_block):
            if not is_translatable(node):  # as Sphinx's Locale: e.g. a cell's LaTeX output
                continue
            message = node.rawsource or node.astext()
            translated = catalog.gettext(message)
            if translated and translated != message:
                node.children = [nodes.Text(translated)]
                node.rawsource = translated


class KeepHeadingSlugs(SphinxTransform):
    """Keep a translated page's heading anchors for links like ``[](01_convolution.md#dilation)``.

    MyST records a page's heading slugs (``myst_heading_anchors``) in the environment when it
    parses the page. Sphinx's ``Locale`` transform parses each translated *title* again with the
    same parser, as a small document of its own, and that parse records *its* one slug for the
    page in place of the page's slugs: in the Chinese edition every link to a section of another
    page found no anchor. The page's own slugs (from the English source, which also gives the
    sections their ids) are still on the document; put them back after ``Locale`` (priority 20).

    Each slug also holds its section's title, the text of a link like the glossary's "taught
    in" column: that is the English title the page was parsed with, so it is replaced by the
    section's title as it is now — translated in a translated edition (unchanged in English).
    """

    default_priority = 21

    def apply(self, **kwargs: object) -> None:
        slugs = getattr(self.document, "myst_slugs", None)
        if slugs:
            titles: dict[str, str] = {}
            for section in self.document.findall(nodes.section):
                if section.children and isinstance(section[0], nodes.title):
                    for section_id in section["ids"]:
                        titles.setdefault(section_id, clean_astext(section[0]))
            self.env.metadata[self.env.docname]["myst_slugs"] = {
                slug: (line, target, titles.get(target, text))
                for slug, (line, target, text) in slugs.items()}


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("glossary-table", GlossaryTable)
    app.add_transform(TranslatableExerciseTitles)
    app.add_transform(KeepHeadingSlugs)
    app.add_transform(TranslateMathBlocks)
    app.connect("doctree-resolved", catalogue_exercise_titles)
    app.connect("config-inited", load_catalogues, priority=400)  # before other extensions
    app.connect("config-inited", configure)
    app.connect("html-page-context", language_context)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
