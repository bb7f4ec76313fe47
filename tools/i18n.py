"""Translations of the course: catalogues, their state, and the translated editions' builds.

Usage (from the repository root, with the project's .venv)::

    python tools/i18n.py po              # regenerate the .pot files, update every .po, say
                                         # which messages are stale (`make po`)
    python tools/i18n.py status [--strict]   # untranslated and fuzzy messages per catalogue
    python tools/i18n.py build zh_CN     # build the Chinese edition into _build/html/zh

One source (style guide, section 8): every edition is built from the same ``book/*.md`` with
Sphinx's own i18n. The English text is the message id.

* ``pot``: Sphinx's ``gettext`` builder extracts the translatable text of every document into
  ``_build/gettext/<docname>.pot`` (one catalogue per document: ``gettext_compact = False``).
  Code cells and code blocks are not extracted (Sphinx leaves literal blocks out), so code is
  identical in every edition by construction. Notebooks are not executed for this (their
  outputs are not translation targets). The texts the site extensions write themselves
  (``book/_ext/*.py``, marked with ``_()``) go to ``_build/gettext/convlab.pot``.
* ``po``: ``sphinx-intl update`` merges the .pot files into
  ``locales/<language>/LC_MESSAGES/<docname>.po``; a message whose English text changed is kept
  with its old translation and marked *fuzzy* (stale) — this command prints every one of them
  (file, line, the new English text), and how many messages are untranslated.
* ``build``: the edition's config is the English one (``_config.yml``) with a few overrides
  (:func:`overrides`: ``language``, ``locale_dirs``, its own jupyter-cache and doctrees, its
  ``html_baseurl``); its chapters run with ``CONVLAB_LANG=<language>`` in the kernel's
  environment, which each chapter passes on to ``convlab`` explicitly.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "book" / "_ext"))

from convlab_i18n import CATALOG, EDITIONS, THEME_TEXTS, Edition, Term, edition_of  # noqa: E402

BUILD = ROOT / "_build"
POT_DIR = BUILD / "gettext" / "pot"
LOCALES = ROOT / "locales"
LANGUAGE_VARIABLE = "CONVLAB_LANG"


def translated_editions() -> tuple[Edition, ...]:
    """Every edition except the source language."""
    return EDITIONS[1:]


def edition_build_dir(edition: Edition, root: Path = ROOT) -> Path:
    """Where a translated edition is built (``html``, doctrees, myst-nb's and the site
    extension's helper folders), before :func:`publish` copies its ``html`` into the site."""
    return root / "_build" / edition.folder


def edition_site(edition: Edition, root: Path = ROOT) -> Path:
    """The edition's folder in the published site, ``_build/html/<folder>``."""
    return root / "_build" / "html" / edition.folder


def edition_cache(edition: Edition, root: Path = ROOT) -> Path:
    """The edition's own jupyter-cache: its outputs differ from English ones."""
    return root / "_build" / f".jupyter_cache_{edition.folder}"


def _yaml_config(root: Path) -> dict:
    """The book's ``_config.yml``, as data."""
    import yaml

    return yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))


def overrides(edition: Edition, root: Path = ROOT) -> dict[str, object]:
    """Sphinx settings that make the English config (``_config.yml``) build ``edition``."""
    config = _yaml_config(root)
    base = config.get("html", {}).get("baseurl", "").rstrip("/")
    result: dict[str, object] = {
        "external_toc_path": (root / "_toc.yml").as_posix(),
        "latex_individualpages": False,
        "nitpicky": True,
        "language": edition.language,
        "nb_execution_cache_path": str(edition_cache(edition, root)),
    }
    if base and edition.folder:
        result["html_baseurl"] = f"{base}/{edition.folder}/"
    if edition.folder:
        result["external_toc_path"] = write_translated_toc(edition, root).as_posix()
        result.update(translated_code_prompts(edition, root))
    return result


#: myst-nb's toggle texts for hidden code cells, in a translated edition (the English edition
#: keeps myst-nb's own "Show code cell source"; its ``{type}`` is an English word, so a
#: translation says "show the code" instead). Messages of the site catalogue.
CODE_PROMPTS = {"nb_code_prompt_show": "Show the code", "nb_code_prompt_hide": "Hide the code"}


def _site_catalogue(edition: Edition, root: Path) -> object:
    from babel.messages.pofile import read_po

    with (root / "locales" / edition.language / "LC_MESSAGES" / f"{CATALOG}.po").open("rb") as f:
        return read_po(f)


def translated_code_prompts(edition: Edition, root: Path = ROOT) -> dict[str, str]:
    """myst-nb's code-toggle texts in ``edition``'s language (where the catalogue has them)."""
    catalog = _site_catalogue(edition, root)
    result = {}
    for setting, text in CODE_PROMPTS.items():
        message = catalog.get(text)  # type: ignore[attr-defined]
        if message is not None and message.string and not message.fuzzy:
            result[setting] = message.string
    return result


def toc_captions(root: Path = ROOT) -> list[str]:
    """The part captions of ``_toc.yml`` ("Chapters", "Appendices"): messages of the site's
    catalogue, since the table of contents is not a page."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    return [part["caption"] for part in toc.get("parts", []) if part.get("caption")]


def write_translated_toc(edition: Edition, root: Path = ROOT) -> Path:
    """``_toc.yml`` with its captions in ``edition``'s language (from the site's catalogue
    ``locales/<language>/LC_MESSAGES/convlab.po``), for that edition's build: the one table of
    contents stays ``_toc.yml``, and the sidebar's "Chapters" is 章节 in the Chinese edition."""
    import yaml

    catalog = _site_catalogue(edition, root)
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    for part in toc.get("parts", []):
        message = catalog.get(part.get("caption", ""))  # type: ignore[attr-defined]
        if message is not None and message.string and not message.fuzzy:
            part["caption"] = message.string
    path = edition_build_dir(edition, root) / "_toc.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(toc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def build(edition: Edition, root: Path = ROOT, builder: str = "html") -> int:
    """Build ``edition`` as strictly as the English build (``-W -n --keep-going``) into
    ``_build/<folder>/html``, then :func:`publish` it; 0 on success.

    The edition is built beside the English site, not inside it, because Sphinx and myst-nb
    keep helper folders next to the output folder (``jupyter_execute``, ``site_assets``,
    instructor notebooks): inside ``_build/html`` they would be published."""
    from jupyter_book.sphinx import build_sphinx

    os.environ[LANGUAGE_VARIABLE] = edition.language  # inherited by the notebook kernels
    out = edition_build_dir(edition, root) / builder
    print(f"Building the {edition.name} edition ({edition.language}) into "
          f"{edition_site(edition, root).relative_to(root)}", flush=True)
    result = build_sphinx(
        root, out, noconfig=True, path_config=str(root / "_config.yml"),
        confoverrides=overrides(edition, root), builder=builder,
        warningiserror=True, keep_going=True)
    if result != 0:
        return 1
    publish(out, edition_site(edition, root))
    summarise(edition.language, root / "locales")
    return 0


def summarise(language: str, locales: Path = LOCALES) -> None:
    """After a build: each stale message, and how many are untranslated (shown in English)."""
    stale, untranslated = 0, 0
    for path in catalogues(language, locales):
        state = catalogue_state(path)
        for line, text in state.fuzzy:
            print(f"{path.relative_to(locales.parent)}:{line}: stale (the English changed): "
                  f"{_short(text)}")
        stale += len(state.fuzzy)
        untranslated += len(state.untranslated)
    if stale or untranslated:
        print(f"{language}: {untranslated} messages untranslated and {stale} stale are shown in "
              "English (`tools/i18n.py status --list` lists them; `make po` after changing "
              "English prose)")


def publish(built: Path, site: Path) -> None:
    """Replace the edition's folder of the site with the freshly built pages."""
    staging = site.with_name(site.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(built, staging)
    shutil.rmtree(site, ignore_errors=True)
    staging.rename(site)


# ------------------------------------------------------------------------------ catalogues


def extract_pot(root: Path = ROOT, pot_dir: Path = POT_DIR) -> int:
    """Write one .pot per document (Sphinx's gettext builder) and ``convlab.pot``."""
    from jupyter_book.sphinx import build_sphinx

    config = overrides(EDITIONS[0], root)
    config.update({"language": "en", "nb_execution_mode": "off", "gettext_uuid": False,
                   "gettext_location": True, "gettext_last_translator": "",
                   "gettext_language_team": ""})
    del config["nb_execution_cache_path"]
    result = build_sphinx(root, pot_dir, noconfig=True, path_config=str(root / "_config.yml"),
                          confoverrides=config, builder="gettext",
                          doctreedir=pot_dir.parent / ".doctrees", warningiserror=False,
                          keep_going=True, quiet=True)
    if result != 0:
        return 1
    write_extension_pot(root / "book" / "_ext", pot_dir / f"{CATALOG}.pot")
    add_image_alt_texts(root / "book", pot_dir)
    add_theme_texts(pot_dir / "sphinx.pot")
    return 0


def add_theme_texts(pot: Path) -> None:
    """Add :data:`convlab_i18n.THEME_TEXTS` (Sphinx's and the pydata theme's texts that their
    catalogues do not translate) to ``sphinx.pot``, where the ``gettext`` builder put the texts
    of our own templates."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    if pot.is_file():
        with pot.open("rb") as source:
            catalog = read_po(source)
    else:
        catalog = Catalog(project="ConvLab", charset="utf-8")
    for text in THEME_TEXTS:
        catalog.add(text, locations=[("book/_ext/convlab_i18n.py", 0)])
    with pot.open("wb") as out:
        write_po(out, catalog, width=76, omit_header=False, sort_output=False)


# A MyST code cell with a YAML metadata block (the form that can hold ``mystnb: image: alt:``).
_CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n---\n(.*?)\n---\n", re.MULTILINE | re.DOTALL)


def image_alt_texts(chapter: Path) -> list[tuple[str, int]]:
    """The alt texts a chapter gives its code cells' image outputs in cell metadata
    (``mystnb: image: alt: …``), each with the line of its cell, in order.

    myst-nb puts such a text on the ``<img>`` of the cell's figure; Sphinx's ``Locale``
    transform translates an image's ``alt`` like a paragraph (the image nodes exist when a page
    is read). But the catalogues are extracted without running the notebooks, so there is no
    image to extract it from: :func:`add_image_alt_texts` adds these texts to the page's
    catalogue instead. The text is the one myst-nb sets: the YAML value as it is."""
    import yaml

    text = chapter.read_text(encoding="utf-8")
    found = []
    for match in _CODE_CELL.finditer(text):
        metadata = yaml.safe_load(match.group(1)) or {}
        mystnb = metadata.get("mystnb") or {}
        for key in ("image", "render_image_options"):
            alt = (mystnb.get(key) or {}).get("alt")
            if alt:
                found.append((str(alt), text.count("\n", 0, match.start()) + 1))
    return found


def add_image_alt_texts(book: Path, pot_dir: Path) -> None:
    """Add each chapter's cell-metadata alt texts (:func:`image_alt_texts`) to its ``.pot``."""
    from babel.messages.pofile import read_po, write_po

    for chapter in sorted(book.glob("*.md")):
        alts = image_alt_texts(chapter)
        pot = pot_dir / "book" / f"{chapter.stem}.pot"
        if not alts or not pot.is_file():
            continue
        with pot.open("rb") as source:
            catalog = read_po(source)
        where = os.path.relpath(chapter, pot_dir)  # as Sphinx writes it: ../../../book/…
        for alt, line in alts:
            catalog.add(alt, locations=[(Path(where).as_posix(), line)])
        with pot.open("wb") as out:
            write_po(out, catalog, width=76, omit_header=False, sort_output=False)


def write_extension_pot(ext_dir: Path, pot: Path) -> None:
    """The ``_()`` texts of the site extensions (``book/_ext/*.py``) and the captions of
    ``_toc.yml`` as one .pot file."""
    from babel.messages.catalog import Catalog
    from babel.messages.extract import extract_from_file
    from babel.messages.pofile import write_po

    catalog = Catalog(project="ConvLab", charset="utf-8")
    for path in sorted(ext_dir.glob("*.py")):
        for lineno, message, comments, context in extract_from_file(
                "python", str(path), keywords={"_": None, "gettext": None}):
            catalog.add(message, locations=[(path.relative_to(ext_dir.parent.parent).as_posix(),
                                             lineno)], auto_comments=comments, context=context)
    for caption in toc_captions(ext_dir.parent.parent):
        catalog.add(caption, locations=[("_toc.yml", 0)])
    for text in CODE_PROMPTS.values():
        catalog.add(text, locations=[("tools/i18n.py", 0)])
    pot.parent.mkdir(parents=True, exist_ok=True)
    with pot.open("wb") as out:
        write_po(out, catalog, width=76, omit_header=False, sort_output=False)


@dataclass
class CatalogueState:
    """The messages of one .po file that a reader would still see in English."""

    path: Path
    total: int
    untranslated: list[tuple[int, str]]  # (line, msgid)
    fuzzy: list[tuple[int, str]]  # (line, msgid): the English changed since it was translated


def catalogue_state(path: Path) -> CatalogueState:
    """Count the translated, untranslated and fuzzy messages of one .po file."""
    from babel.messages.pofile import read_po

    with path.open("rb") as source:
        catalog = read_po(source)
    untranslated, fuzzy, total = [], [], 0
    for message in catalog:
        if not message.id:
            continue  # the header
        total += 1
        line = message.lineno or 0
        text = message.id if isinstance(message.id, str) else message.id[0]
        if message.fuzzy:
            fuzzy.append((line, text))
        elif not (message.string if isinstance(message.string, str) else all(message.string)):
            untranslated.append((line, text))
    return CatalogueState(path, total, untranslated, fuzzy)


def catalogues(language: str, locales: Path = LOCALES) -> list[Path]:
    """Every .po file of ``language``."""
    return sorted((locales / language / "LC_MESSAGES").rglob("*.po"))


def _short(text: str, width: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def report(language: str, locales: Path = LOCALES, *, list_untranslated: bool = False) -> int:
    """Print every stale (fuzzy) message and the untranslated counts; the number of messages a
    reader would still see in English."""
    missing = 0
    for path in catalogues(language, locales):
        state = catalogue_state(path)
        rel = path.relative_to(locales.parent)
        for line, text in state.fuzzy:
            print(f"{rel}:{line}: stale (the English changed; check and clear 'fuzzy'): "
                  f"{_short(text)}")
        if list_untranslated:
            for line, text in state.untranslated:
                print(f"{rel}:{line}: untranslated: {_short(text)}")
        done = state.total - len(state.untranslated) - len(state.fuzzy)
        print(f"{rel}: {done}/{state.total} translated, {len(state.untranslated)} "
              f"untranslated, {len(state.fuzzy)} stale")
        missing += len(state.untranslated) + len(state.fuzzy)
    return missing


# Inline code, math, link targets and role names are not prose: no term to translate there.
_NOT_PROSE = re.compile(r"`[^`]*`|\$[^$]*\$|\]\([^)]*\)|\{[\w:-]+\}|<[^>]*>")


def term_problems(msgid: str, msgstr: str, terms: list[Term]) -> list[str]:
    """The glossary terms (``locales/zh_CN/glossary.tsv``) that ``msgid`` uses in its prose and
    ``msgstr`` does not render with the glossary's Chinese term, as ``"stride → 步长"``.

    Longer terms are matched first and take their words out ("dilated convolution" needs
    空洞卷积, not also 膨胀率); a form inside one of the term's ``except`` phrases (a
    notebook's "Python kernel") does not count."""
    prose = _NOT_PROSE.sub(" ", msgid).lower()
    problems = []
    for term in sorted(terms, key=lambda t: -max(len(f) for f in t.forms)):
        for phrase in term.except_in:
            prose = prose.replace(phrase, " ")
        for form in term.forms:
            pattern = re.compile(r"(?<![\w-])" + re.escape(form) + r"(?![\w-])")
            if pattern.search(prose):
                if term.chinese not in msgstr:
                    problems.append(f"{term.english} → {term.chinese}")
                prose = pattern.sub(" ", prose)
                break
    return problems


def update_po(language: str, root: Path = ROOT, pot_dir: Path = POT_DIR) -> None:
    """Merge the .pot files into the language's .po files (``sphinx-intl update``)."""
    from sphinx_intl import basic

    basic.update(str(root / "locales"), str(pot_dir), (language,), jobs=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("pot", help="extract the .pot files into _build/gettext")
    po = commands.add_parser("po", help="regenerate .pot, update every .po, list stale ones")
    po.add_argument("languages", nargs="*",
                    default=[e.language for e in translated_editions()])
    status = commands.add_parser("status", help="untranslated and stale messages")
    status.add_argument("languages", nargs="*",
                        default=[e.language for e in translated_editions()])
    status.add_argument("--list", action="store_true", help="list untranslated messages too")
    status.add_argument("--strict", action="store_true",
                        help="exit 1 if any message is untranslated or stale")
    build_cmd = commands.add_parser("build", help="build a translated edition")
    build_cmd.add_argument("language")
    args = parser.parse_args(argv)

    if args.command == "pot":
        return extract_pot()
    if args.command == "po":
        if extract_pot() != 0:
            return 1
        for language in args.languages:
            update_po(language)
            missing = report(edition_of(language).language)
            print(f"{language}: {missing} messages still to translate or to check "
                  "(edit the .po files, then `make book`)")
        return 0
    if args.command == "status":
        missing = sum(report(lang, list_untranslated=args.list) for lang in args.languages)
        return 1 if args.strict and missing else 0
    return build(edition_of(args.language))


if __name__ == "__main__":
    raise SystemExit(main())
