"""Start the book from a clean build only when code that shapes executed outputs changed.

Usage: python tools/build_stamp.py [--root .] [--stamp _build/.convlab-stamp]

jupyter-cache re-executes a chapter only when its own cells change. The figures, explorers and
checker messages in those outputs are made by the ``convlab`` package and the site extension
(``book/_ext``), so when *their code* changes the cached outputs are stale: this script then
removes the execution cache, the doctrees and the HTML, and records the new hash in the stamp.

The hash covers what can change an executed output, and nothing else:

* every ``convlab/*.py`` and ``book/_ext/*.py`` as its syntax tree (``ast.dump``) with
  docstrings removed — so a comment, a docstring or a change followed by its revert costs no
  clean build, while any change to the code does;
* the contents of ``convlab/*.js`` and ``convlab/*.css`` (embedded into widget outputs);
* ``requirements.txt`` without comments and blank lines (the pinned versions that ran);
* the message catalogues of texts made in code: ``convlab/locales/*/LC_MESSAGES/*.po``
  (captions, feedback and quiz texts in a translated edition's outputs) and
  ``locales/*/LC_MESSAGES/convlab.po`` (the site extensions' texts). The chapters' own
  catalogues (``locales/*/LC_MESSAGES/book/*.po``) are not here: Sphinx re-reads a page whose
  catalogue changed by itself.

A clean build removes both editions' caches and outputs (``.jupyter_cache_zh`` and ``zh``, the
Chinese edition's doctrees, see ``tools/i18n.py``).

File names are part of the hash, so adding, removing or renaming a module counts too. The hash
never uses file times, which a fresh clone or a restored CI cache would get wrong.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import shutil
from pathlib import Path

# Removed on a clean build (relative to the build folder).
BUILD_OUTPUTS = (".jupyter_cache", ".doctrees", "html", ".jupyter_cache_zh", "zh")


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Drop the docstring of the module and of every class and function in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)):
                node.body = body[1:] or [ast.Pass()]
    return tree


def python_fingerprint(source: str, name: str = "<source>") -> str:
    """The code of a Python module without comments, docstrings or layout."""
    return ast.dump(_strip_docstrings(ast.parse(source, filename=name)))


def requirements_fingerprint(text: str) -> str:
    """The requirement lines without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def code_files(root: Path) -> list[Path]:
    """The files whose code shapes the executed outputs, in a fixed order."""
    patterns = ("convlab/*.py", "convlab/*.js", "convlab/*.css", "book/_ext/*.py",
                "requirements.txt", "convlab/locales/*/LC_MESSAGES/*.po",
                "locales/*/LC_MESSAGES/convlab.po")
    return sorted({path for pattern in patterns for path in root.glob(pattern)})


def code_hash(root: Path) -> str:
    """sha256 over the fingerprints of :func:`code_files` (see the module docstring)."""
    digest = hashlib.sha256()
    for path in code_files(root):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":
            text = python_fingerprint(text, str(path))
        elif path.name == "requirements.txt":
            text = requirements_fingerprint(text)
        rel = path.relative_to(root).as_posix()
        for part in (rel, text):
            data = part.encode("utf-8")
            digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def check(root: Path, stamp: Path) -> bool:
    """Clean the build under ``stamp.parent`` if the code hash changed; True if it did."""
    current = code_hash(root)
    recorded = stamp.read_text(encoding="utf-8").strip() if stamp.is_file() else ""
    if current == recorded:
        return False
    for name in BUILD_OUTPUTS:
        shutil.rmtree(stamp.parent / name, ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n", encoding="utf-8")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("."))
    parser.add_argument("--stamp", type=Path, default=Path("_build/.convlab-stamp"))
    args = parser.parse_args()
    if check(args.root, args.stamp):
        print("convlab or the site extension changed (code, not comments): clean build")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
