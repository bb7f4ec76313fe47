"""The instructors' page lists every exercise of every chapter, with the checker it uses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("0*.md"))
INSTRUCTORS = (ROOT / "book" / "instructors.md").read_text(encoding="utf-8")
EXERCISE = re.compile(r"^```\{exercise\}.*\n(?::[\w-]+:.*\n)*?:label: (?P<label>\S+)", re.M)


def exercises(chapter: Path) -> list[str]:
    return EXERCISE.findall(chapter.read_text(encoding="utf-8"))


def test_there_are_five_chapters_with_exercises() -> None:
    assert len(CHAPTERS) == 5
    assert all(len(exercises(chapter)) >= 4 for chapter in CHAPTERS)


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_exercise_is_in_the_instructors_table(chapter: Path) -> None:
    missing = [label for label in exercises(chapter) if label not in INSTRUCTORS]
    assert not missing, f"book/instructors.md does not list {missing}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_every_checker_a_chapter_calls_is_documented_for_instructors(chapter: Path) -> None:
    called = set(re.findall(r"checks\.(check_\w+)\(", chapter.read_text(encoding="utf-8")))
    assert called, f"{chapter.name} calls no checker"
    missing = sorted(name for name in called if name not in INSTRUCTORS)
    assert not missing, f"book/instructors.md does not explain {missing}"
