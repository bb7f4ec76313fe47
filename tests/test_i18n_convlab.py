"""convlab's texts in a language passed explicitly (convlab/i18n.py, tools/extract_messages.py).

* the language comes from ``CONVLAB_LANG`` only when a chapter asks (``book_language``);
* every message id used (convlab's sources and the chapters) is in the catalogue, and the
  catalogue has nothing else;
* each translation keeps exactly the ``{fields}`` of its message id;
* convlab's own messages are all translated (none missing, none fuzzy);
* ``lang="en"`` renders today's English, ``lang="zh_CN"`` renders Chinese.
"""

from __future__ import annotations

import ast
import html
import importlib.util
import json
import re
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from convlab import checks, i18n, quiz

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "convlab" / "locales" / "zh_CN" / "LC_MESSAGES" / "convlab.po"
CJK = re.compile("[\u4e00-\u9fff]")


def _extractor():
    spec = importlib.util.spec_from_file_location("extract_messages",
                                                  ROOT / "tools" / "extract_messages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def extract():
    return _extractor()


@pytest.fixture(scope="module")
def used(extract):
    return extract.collect(ROOT)


@pytest.fixture(scope="module")
def po():
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh_CN", domain="convlab")


# --------------------------------------------------------------------------- the language


def test_book_language_reads_the_environment_when_asked():
    assert i18n.book_language({}) == "en"
    assert i18n.book_language({"CONVLAB_LANG": ""}) == "en"
    assert i18n.book_language({"CONVLAB_LANG": "zh_CN"}) == "zh_CN"
    with pytest.raises(ValueError, match=r"CONVLAB_LANG='fr'.*'en', 'zh_CN'"):
        i18n.book_language({"CONVLAB_LANG": "fr"})


def test_unknown_language_is_a_clear_error():
    with pytest.raises(ValueError, match="supports 'en', 'zh_CN'"):
        i18n.translator("de")
    with pytest.raises(ValueError, match="supports"):
        quiz.number("How many?", answer=3, lang="zh")
    with pytest.raises(ValueError, match="supports"):
        checks.check_prediction(3, 3, lang="EN")


def test_import_sets_nothing(monkeypatch):
    """The language is an argument: nothing in convlab reads CONVLAB_LANG on its own."""
    monkeypatch.setenv("CONVLAB_LANG", "zh_CN")
    q = quiz.number("How many?", answer=3)
    assert q.feedback("3") == (True, "✓ Correct!")
    for path in (ROOT / "convlab").glob("*.py"):
        if path.name != "i18n.py":
            assert "CONVLAB_LANG" not in path.read_text(encoding="utf-8"), path


# --------------------------------------------------------------------------- the catalogue


def test_catalogue_is_up_to_date(extract):
    """tools/extract_messages.py has been run: the .pot and .po match the sources."""
    stale = extract.run(ROOT, check=True)
    assert not stale, f"run tools/extract_messages.py: {stale}"


def test_every_used_message_is_in_the_catalogue(used, po):
    ids = {m.id for m in po if m.id}
    assert set(used) - ids == set()
    assert ids - set(used) == set()


def test_no_f_string_message_ids():
    """``_``/``msg`` calls take a literal template (an f-string cannot be looked up)."""
    bad = []
    for path in (ROOT / "convlab").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("_", "msg", "message") and node.args
                    and isinstance(node.args[0], ast.JoinedStr)):
                bad.append(f"{path.name}:{node.lineno}")
    assert bad == []


def test_placeholders_match(po):
    for m in po:
        if m.id and m.string:
            assert i18n.fields_of(m.string) == i18n.fields_of(m.id), m.id


def test_convlab_messages_are_translated(used, po):
    """Every message from convlab's own sources has a translation that is not fuzzy (the
    chapters' texts are translated with the prose, by the translators)."""
    own = {text for text, where in used.items()
           if any(path.startswith("convlab/") for path, _ in where)}
    by_id = {m.id: m for m in po if m.id}
    missing = sorted(t for t in own if not by_id[t].string)
    fuzzy = sorted(t for t in own if by_id[t].fuzzy)
    assert missing == [] and fuzzy == []
    assert i18n.untranslated("zh_CN", own) == []


# --------------------------------------------------------------------------- rendering


def test_message_is_its_english_text():
    m = i18n.message("Output size {o} for i={i}", o=3, i=5)
    assert m == "Output size 3 for i=5" and isinstance(m, str)
    assert i18n.translate(m, "en") == "Output size 3 for i=5"
    nested = i18n.message("{a}; {b}", a=m, b="x")
    assert nested == "Output size 3 for i=5; x"


def test_translator_falls_back_to_english_at_run_time():
    _ = i18n.translator("zh_CN")
    assert _("A text no catalogue has {n}", n=2) == "A text no catalogue has 2"


# ------------------------------------------------------------------- English unchanged, Chinese


@pytest.fixture(scope="module")
def sample():
    sys.path.insert(0, str(ROOT / "tests"))
    try:
        import i18n_sample
    finally:
        sys.path.remove(str(ROOT / "tests"))
    return i18n_sample


def test_english_is_todays_english(sample):
    """``lang="en"`` renders exactly what convlab rendered before it had languages
    (tests/i18n_english_sample.json was made by the code of commit 79933c0)."""
    expected = json.loads((ROOT / "tests" / "i18n_english_sample.json").read_text("utf-8"))
    got = sample.renderings(lang="en")
    assert got.keys() == expected.keys()
    for key, text in expected.items():
        assert got[key] == text, key
    assert sample.renderings() == got  # the default is English


def test_chinese_is_chinese(sample):
    """``lang="zh_CN"`` renders every sampled text in Chinese, with the same numbers."""
    english = sample.renderings(lang="en")
    chinese = sample.renderings(lang="zh_CN")
    for key, text in chinese.items():
        assert CJK.search(text), (key, text)
        assert text != english[key], key
        # every number the English text states is stated in Chinese too
        missing = Counter(re.findall(r"\d+", english[key])) - Counter(re.findall(r"\d+", text))
        assert not missing, (key, missing)
    assert chinese["quiz.number 28"] == "✓ 正确！"
    assert chinese["quiz.number 27"] == "✗ 还不对。请复习：Padding"
    assert chinese["check_conv2d stub"].startswith("✗ check_conv2d：还没有实现")
    assert "卷积核" in chinese["draw.conv_window"] and "步长" in chinese["draw.conv_window"]
    assert "填充" in chinese["draw.conv_window"]
    assert "偏置" in chinese["check_param_count"]
    assert "膨胀率" in chinese["draw.conv_window d=2"]
    assert "叶子张量" in chinese["graph.autograd_graph"]
    assert "计算图" in chinese["graph.autograd_graph"]


def test_quiz_script_gets_its_texts_from_python():
    """quiz.js has no text of its own: the quiz's data carries them in the quiz's language."""
    q = quiz.number("How many?", answer=3, revisit="Padding", lang="zh_CN")
    page = q._repr_html_()
    data = json.loads(html.unescape(re.search(r'data-quiz="([^"]+)"', page).group(1)))
    assert data["ui"]["✓ Correct!"] == "✓ 正确！"
    assert ">检查</button>" in page and 'placeholder="例如 12"' in page
    js = quiz.quiz_js()
    for text in quiz.ui_texts("en"):
        if "{" not in text:
            assert json.dumps(text)[1:-1] in js or text not in js  # looked up, never shown raw
    assert "Correct!" not in js.replace('t(d, "\\u2713 Correct!")', "")


def test_explorer_script_gets_a_string_table():
    from convlab import explore

    english = explore.conv_explorer(lang="en").convlab_spec
    chinese = explore.conv_explorer(lang="zh_CN").convlab_spec
    assert "strings" not in english
    table = chinese["strings"]
    assert table["no output"] == "没有输出"
    used = {text for text, _line in i18n.js_message_ids(explore.explorers_js())}
    assert set(table) == used  # every text the script looks up is translated


def test_chapters_pass_extractable_texts(extract):
    """A chapter passes convlab literals (or i18n.message templates), never f-strings."""
    assert extract.chapter_fstrings(ROOT) == []


def test_refusal_rules_are_translated_and_pytorch_stays():
    """The transposed explorer states convlab's rule in the page's language and PyTorch's
    message as PyTorch prints it."""
    from convlab import explore

    values = {"i": (1,), "k": (1, 2), "s": (1, 2), "p": (0, 1, 2), "op": (0, 1), "d": (1,)}
    english = explore.transposed_refusals(values, "en")
    chinese = explore.transposed_refusals(values, "zh_CN")
    assert english["refused"].keys() == chinese["refused"].keys() and english["refused"]
    for key, (rule, said) in chinese["refused"].items():
        assert CJK.search(chinese["texts"][rule]), key
        torch_message = english["texts"][english["refused"][key][1]]
        if not torch_message.startswith("(no error"):
            assert chinese["texts"][said] == torch_message


def _joined_figures(lang: str) -> dict[str, str]:
    """Caption and description of each figure whose text convlab joins from parts."""
    import torch

    from convlab import backward_graph, channel_window, draw, graph, objects

    a = torch.ones(3)
    moment = objects.bindings(a=a, b=a, c=a.clone())
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, 4.0], requires_grad=True)
    y = ((x * 2) * w).sum()
    figures = {
        "objects": objects.names_objects_storage(moment, moment, labels=["1", "2"], lang=lang),
        "overlap uneven": draw.overlap_heatmap(k=3, s=2, lang=lang),
        "overlap even": draw.overlap_heatmap(k=4, s=2, lang=lang),
        "zero insertion": draw.stride_zero_insertion(lang=lang),
        "receptive fields": draw.receptive_fields([(3, 2, 0, 1)] * 2, lang=lang),
        "channel window": channel_window.channel_window(lang=lang),
        "backward graph": backward_graph.backward_graph(y, {"x": x, "w": w}, lang=lang),
        "autograd graph": graph.autograd_graph(y, {"x": x, "w": w}, lang=lang),
    }
    return {name: html.unescape("\n".join([figure.caption, *
                re.findall(r"<desc[^>]*>(.*?)</desc>", figure.svg, re.S)]))
            for name, figure in figures.items()}


def test_chinese_figures_join_their_parts_with_chinese_punctuation():
    """Texts put together from parts in code (a list of layers, of names, of edges; a label
    and its text; the end of a sentence) read as Chinese: ；：。 with no space after them,
    not the English '; ', ': ' and '.'."""
    english, chinese = _joined_figures("en"), _joined_figures("zh_CN")
    assert sum("; " in text for text in english.values()) >= 5  # the parts are there
    for name, text in chinese.items():
        assert CJK.search(text), name
        assert "; " not in text, (name, text)
        assert not re.search(r"[\u4e00-\u9fff）] ?[.:;]( |$)", text, re.M), (name, text)
        assert not re.search(r"[。；：] ", text), (name, text)
        assert not re.search(r"[\u4e00-\u9fff][0-9]", text), (name, text)  # 插入 1 个零
