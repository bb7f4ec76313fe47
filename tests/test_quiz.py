"""Tests for convlab.quiz: normalisation, feedback selection, the HTML contract, and that
quiz.js grades exactly like the Python rules (in Node) and works by keyboard (in Chromium)."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from convlab import quiz

# --------------------------------------------------------------------------- normalisation


@pytest.mark.parametrize(("text", "value"), [
    ("28", 28.0), (" 28 ", 28.0), ("+28", 28.0), ("28.0", 28.0), ("28.", 28.0), ("-3", -3.0),
    (".5", 0.5), ("2.8e1", 28.0), ("1 000", 1000.0), ("28\u00a0", 28.0), ("1E-3", 0.001),
])
def test_normalise_number_accepts_sensible_formats(text, value):
    assert quiz.normalise_number(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1e", "0x1C", "2,5", "٢٨", "28px", "--1", "."])
def test_normalise_number_rejects_non_numbers(text):
    assert quiz.normalise_number(text) is None


@pytest.mark.parametrize("text", [
    "(1, 8, 14, 14)", "1,8,14,14", "[1 8 14 14]", "torch.Size([1, 8, 14, 14])",
    "(1, 8, 14, 14,)", " 1 x 8 x 14 x 14 ", "1×8×14×14", "TORCH.SIZE((1,8,14,14))",
    "1, 8, 14, 14,", "[[1, 8, 14, 14]]",
])
def test_normalise_shape_accepts_sensible_formats(text):
    assert quiz.normalise_shape(text) == (1, 8, 14, 14)


@pytest.mark.parametrize("text", ["", "()", "(1, 8.0)", "(1, -8)", "size(1, 8)", "a, b", ","])
def test_normalise_shape_rejects_non_shapes(text):
    assert quiz.normalise_shape(text) is None


def test_normalisers_reject_non_strings():
    with pytest.raises(TypeError):
        quiz.normalise_number(28)
    with pytest.raises(TypeError):
        quiz.normalise_shape((1, 8))


# --------------------------------------------------------------------------- feedback


def output_size_question() -> quiz.Question:
    return quiz.number("Output size for i=28, k=5, p=2?", answer=28,
                       hints={24: "24 is the size without padding: padding adds 2p."},
                       revisit="the padding section")


def test_number_feedback():
    q = output_size_question()
    assert q.feedback(" +28.0 ") == (True, "✓ Correct!")
    assert q.feedback("24") == (False, "✗ Not quite. 24 is the size without padding: "
                                       "padding adds 2p.")
    assert q.feedback("27") == (False, "✗ Not quite. Revisit: the padding section")
    assert q.feedback("twenty") == (False, "Please enter a number, e.g. 12.")
    assert q.feedback(28) == (True, "✓ Correct!")


def test_number_tolerance_and_float_answers():
    q = quiz.number("Scale?", answer=0.1 + 0.2)
    assert q.feedback("0.3")[0]  # exact up to a relative 1e-9
    assert not q.feedback("0.31")[0]
    loose = quiz.number("Mean?", answer=torch.tensor(0.5), tolerance=0.01)
    assert loose.feedback("0.505")[0] and not loose.feedback("0.52")[0]
    assert loose.feedback("0.52") == (False, "✗ Not quite. Try again.")


def test_shape_feedback():
    q = quiz.shape("Shape of conv(x)?", answer=torch.Size([1, 8, 14, 14]),
                   hints={(1, 8, 12, 12): "That is the shape without padding."}, revisit="Shapes")
    assert q.feedback("torch.Size([1, 8, 14, 14])") == (True, "✓ Correct!")
    assert q.feedback((1, 8, 14, 14)) == (True, "✓ Correct!")
    assert q.feedback("1,8,12,12") == (False, "✗ Not quite. That is the shape without padding.")
    assert q.feedback("8, 14, 14") == (False, "✗ Not quite. The answer has 4 dimensions; yours "
                                              "has 3. Revisit: Shapes")
    assert q.feedback("1, 8, 14, 15") == (False, "✗ Not quite. Revisit: Shapes")
    assert q.feedback("(1, 8") == (False, "✗ Not quite. The answer has 4 dimensions; yours has "
                                          "2. Revisit: Shapes")
    assert q.feedback("") == (False, "Please enter a shape, e.g. (1, 8, 14, 14).")


def test_single_choice_feedback():
    q = quiz.choice("Which layer has more parameters?", ["A", "B", "The same"], correct=2,
                    hints={0: "A has more channels but a smaller kernel."}, revisit="Counting")
    assert q.feedback(2) == (True, "✓ Correct!")
    assert q.feedback("2") == (True, "✓ Correct!")
    assert q.feedback(0) == (False, "✗ Not quite. A has more channels but a smaller kernel.")
    assert q.feedback(1) == (False, "✗ Not quite. Revisit: Counting")
    assert q.feedback([]) == (False, "Please select an answer.")
    with pytest.raises(ValueError, match="option 3 does not exist"):
        q.feedback(3)


def test_multiple_choice_feedback():
    q = quiz.choice("Which are true?", ["a", "b", "c", "d"], correct={0, 2},
                    hints={3: "d is false because ..."})
    assert q.data["multiple"] is True
    assert q.feedback({2, 0}) == (True, "✓ Correct!")
    assert q.feedback("0, 2") == (True, "✓ Correct!")
    assert q.feedback([0]) == (False, "✗ Not quite. Wrongly selected: 0. Missing: 1. Try again.")
    assert q.feedback([0, 1]) == (False, "✗ Not quite. Wrongly selected: 1. Missing: 1. "
                                         "Try again.")
    assert q.feedback([0, 2, 3]) == (False, "✗ Not quite. d is false because ...")
    assert q.feedback([]) == (False, "Please select an answer.")


def test_cells_feedback_allows_an_empty_answer():
    q = quiz.cells("Which tensors change?", ["a", "b", "c"], changed={"a", "c"},
                   hints={"b": "b was detached, so it keeps its value."})
    assert q.feedback(["c", "a"]) == (True, "✓ Correct!")
    assert q.feedback("a, c") == (True, "✓ Correct!")
    assert q.feedback(["a", "b", "c"]) == (False, "✗ Not quite. b was detached, so it keeps its "
                                                  "value.")
    assert q.feedback(["a"]) == (False, "✗ Not quite. Wrongly selected: 0. Missing: 1. "
                                        "Try again.")
    none_change = quiz.cells("Which change?", ["x", "y"], changed=set())
    assert none_change.feedback([]) == (True, "✓ Correct!")
    with pytest.raises(ValueError, match="not one of the cells"):
        q.feedback(["z"])


@pytest.mark.parametrize(("make", "error"), [
    (lambda: quiz.number("q?", answer="28"), TypeError),
    (lambda: quiz.number("q?", answer=float("nan")), ValueError),
    (lambda: quiz.number("q?", answer=28, hints={28: "same as the answer"}), ValueError),
    (lambda: quiz.number("q?", answer=28, tolerance=-1), ValueError),
    (lambda: quiz.number("", answer=28), TypeError),
    (lambda: quiz.shape("q?", answer=(1, -8)), ValueError),
    (lambda: quiz.shape("q?", answer=(1, 8), hints={"1, 8": "same"}), ValueError),
    (lambda: quiz.choice("q?", ["only"], correct=0), ValueError),
    (lambda: quiz.choice("q?", ["a", "b"], correct=2), ValueError),
    (lambda: quiz.choice("q?", ["a", "b"], correct=set()), ValueError),
    (lambda: quiz.choice("q?", ["a", "b"], correct=0, hints={5: "x"}), ValueError),
    (lambda: quiz.cells("q?", ["a", "a"], changed={"a"}), ValueError),
    (lambda: quiz.cells("q?", ["a", "b"], changed={"c"}), ValueError),
    (lambda: quiz.cells("q?", ["a", "b"], changed="a"), TypeError),
])
def test_constructors_reject_authoring_mistakes(make, error):
    with pytest.raises(error):
        make()


# --------------------------------------------------------------------------- HTML contract


def all_kinds() -> list[quiz.Question]:
    return [
        output_size_question(),
        quiz.shape("Shape of `conv(x)`?", answer=(1, 8, 14, 14),
                   hints={(1, 8, 12, 12): "Without padding."}),
        quiz.choice("Which is cross-correlation?", ["PyTorch's conv2d", "np.convolve"],
                    correct=0, hints={1: "np.convolve flips the kernel."}),
        quiz.choice("Select the true ones", ["a", "b", "c"], correct={0, 1}),
        quiz.cells("Which tensors change after `c += 1`?", ["a", "b", "c"], changed={"c"},
                   hints={"a": "a is a different tensor."}),
    ]


def test_html_contract():
    for q in all_kinds():
        page = q._repr_html_()
        root = re.search(r'<div class="convlab-quiz" id="([^"]+)" data-kind="([a-z]+)" '
                         r'data-lm-suppress-shortcuts="true" data-quiz="([^"]+)">', page)
        assert root is not None, page
        qid, kind, data = root.groups()
        assert kind == q.kind and qid == q.id
        assert json.loads(html.unescape(data)) == {**q.data, "ui": q.ui}
        assert '<button type="button" class="convlab-quiz-check">Check</button>' in page
        assert (f'<p class="convlab-quiz-feedback" id="{qid}-fb" role="status" '
                'aria-live="polite"></p>') in page
        assert page.count("<script>") == 1 and quiz._embedded_js() in page
        # the note for untrusted outputs is hidden by the quiz's own style
        assert '<p class="convlab-quiz-untrusted">' in page
        assert ".convlab-quiz-untrusted{display:none}" in page
        if kind in ("number", "shape"):
            assert f'<label class="convlab-quiz-question" for="{qid}-in">' in page
            assert f'<input type="text" id="{qid}-in"' in page
        else:
            inputs = re.findall(r"<label><input type=\"(radio|checkbox)\"", page)
            assert len(inputs) == len(q.items)
            assert set(inputs) == {"checkbox" if q.data["multiple"] else "radio"}
            assert "<legend>" in page
    assert "<code>conv(x)</code>" in all_kinds()[1]._repr_html_()


def test_ids_are_stable_and_distinct():
    questions = all_kinds()
    ids = [q.id for q in questions]
    assert len(set(ids)) == len(ids)
    assert output_size_question().id == questions[0].id


def test_question_text_is_escaped():
    q = quiz.number("Is 2 < 3 & <b>bold</b>?", answer=1)
    page = q._repr_html_()
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page


def test_text_repr_for_frontends_without_html():
    text = repr(all_kinds()[2])
    assert text.startswith("Quick check (choice): Which is cross-correlation?")
    assert "[1] np.convolve" in text


def test_quiz_js_is_small_and_self_contained():
    js = quiz.quiz_js()
    assert len(js.encode()) < 5000  # 4,481 bytes before it joined sentences per language
    for forbidden in ("fetch(", "XMLHttpRequest", "http://", "https://", "import ", "eval("):
        assert forbidden not in js
    assert js.count("window.convlabQuiz =") == 1
    embedded = quiz._embedded_js()
    assert len(embedded.encode()) < len(js.encode()) and "// " not in embedded


# --------------------------------------------------------------------------- JS == Python

NUMBER_INPUTS = ["28", " 28 ", "+28", "28.0", "28.", "2.8e1", "24", "24.0", "27", "", "abc",
                 "1e", ".5", "-28", "2 8", "28\u00a0", "0x1C", "٢٨"]
SHAPE_INPUTS = ["(1, 8, 14, 14)", "1,8,14,14", "[1 8 14 14]", "torch.Size([1, 8, 14, 14])",
                "TORCH.SIZE((1,8,14,14))", "(1,8,14,14,)", "1x8x14x14", "1 × 8 × 14 × 14",
                "1,8,12,12", "8,14,14", "(1, 8, 14, 15)", "(1, 8, 14, 14.0)", "()", "", "a",
                "size(1,8,14,14)"]
SELECTIONS = [[], [0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]]


def js_feedback(pairs: list[tuple[dict, object]]) -> list[list]:
    """Run quiz.js's feedback() in Node on (data, response) pairs."""
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to test quiz.js (it also builds the site)"
    harness = ("globalThis.window = globalThis;"
               "globalThis.document = {addEventListener: function () {}};"
               + quiz.quiz_js() +
               ";let input = '';process.stdin.on('data', c => input += c);"
               "process.stdin.on('end', () => { const pairs = JSON.parse(input);"
               "console.log(JSON.stringify(pairs.map(p => window.convlabQuiz.feedback(p[0],"
               " p[1])))); });")
    done = subprocess.run([node, "-e", harness], input=json.dumps(pairs), capture_output=True,
                          text=True, timeout=30, check=True)
    return json.loads(done.stdout)


def _in_chinese() -> list[quiz.Question]:
    """Quick checks of the Chinese edition: hints joined to the verdict, several hints, a
    revisit (Chinese puts sentences together without a space)."""
    return [quiz.number("输出尺寸？", answer=28, hints={24: "这是不加填充的尺寸。"},
                        revisit="填充", lang="zh_CN"),
            quiz.shape("形状？", answer=(1, 8, 14, 14), hints={(1, 8, 12, 12): "没有填充。"},
                       lang="zh_CN"),
            quiz.choice("哪些正确？", ["甲", "乙", "丙"], correct={0, 2},
                        hints={1: "乙不对。", 2: "丙也对。"}, lang="zh_CN")]


def test_javascript_grades_exactly_like_python():
    questions = all_kinds() + [quiz.number("Mean?", answer=0.5, tolerance=0.01),
                               quiz.cells("Which?", ["x", "y", "z"], changed=set())
                               ] + _in_chinese()
    pairs, expected = [], []
    for q in questions:
        if q.kind == "number":
            responses = NUMBER_INPUTS + ["0.5", "0.505", "0.52"]
        elif q.kind == "shape":
            responses = SHAPE_INPUTS
        else:
            responses = [s for s in SELECTIONS if max(s, default=0) < len(q.items)]
        for response in responses:
            pairs.append((q._page_data(), response))  # as the page gives it to quiz.js
            python_response = response if q.kind in ("number", "shape") else set(response)
            expected.append(list(q.feedback(python_response)))
    assert len(pairs) > 80
    assert js_feedback(pairs) == expected
    chinese = [text for (data, _), (_, text) in zip(pairs, expected, strict=True)
               if data["ui"]["Check"] == "检查" and text.startswith("✗")]
    assert "✗ 还不对。这是不加填充的尺寸。" in chinese and "✗ 还不对。乙不对。丙也对。" in chinese
    assert not [text for text in chinese if "。 " in text]


# --------------------------------------------------------------------------- in a browser


@pytest.mark.browser
def test_quizzes_work_by_keyboard_in_chromium(browser):
    questions = all_kinds()
    body = "".join(q._repr_html_() for q in questions)
    body += questions[0]._repr_html_().replace(questions[0].id, "cq-second-copy")
    errors: list[str] = []
    requests: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.set_content(f"<!doctype html><html lang='en'><body>{body}</body></html>")
    roots = page.locator(".convlab-quiz")
    assert roots.count() == 6
    assert page.evaluate("Object.keys(window.convlabQuiz).sort().join()") == (
        "feedback,number,shape")

    def feedback(index):
        out = roots.nth(index).locator(".convlab-quiz-feedback")
        return out.get_attribute("data-correct"), out.inner_text()

    number_input = roots.nth(0).get_by_label("Output size for i=28, k=5, p=2?")
    number_input.fill("24")
    number_input.press("Enter")
    assert feedback(0) == ("false", "✗ Not quite. 24 is the size without padding: padding "
                                    "adds 2p.")
    number_input.fill(" 28.0")
    number_input.press("Enter")
    assert feedback(0) == ("true", "✓ Correct!")

    shape_input = roots.nth(1).locator("input")
    shape_input.fill("torch.Size([1, 8, 14, 14])")
    shape_input.press("Tab")  # to the Check button
    page.keyboard.press("Enter")
    assert feedback(1) == ("true", "✓ Correct!")

    roots.nth(2).get_by_label("np.convolve").focus()
    page.keyboard.press("Space")
    page.keyboard.press("Enter")
    assert feedback(2) == ("false", "✗ Not quite. np.convolve flips the kernel.")
    page.keyboard.press("ArrowUp")  # radio group: moves to (and selects) option 0
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # the Check button
    assert feedback(2) == ("true", "✓ Correct!")

    roots.nth(4).get_by_text("c", exact=True).click()
    roots.nth(4).get_by_role("button", name="Check").click()
    assert feedback(4) == ("true", "✓ Correct!")

    copy = roots.nth(5).locator("input")  # a quiz added after quiz.js was defined
    copy.fill("28")
    copy.press("Enter")
    assert feedback(5) == ("true", "✓ Correct!")

    # six scripts ran, yet one click grades once (one write to the feedback element)
    writes = page.evaluate("""() => new Promise(resolve => {
        const out = document.querySelectorAll('.convlab-quiz-feedback')[0];
        let count = 0;
        new MutationObserver(records => { count += records.length; })
            .observe(out, {childList: true});
        document.querySelectorAll('.convlab-quiz-check')[0].click();
        setTimeout(() => resolve(count), 100);
    })""")
    assert writes == 1

    # a quiz inserted later (as JupyterLab does: script first, then attach) also works
    page.evaluate("""html => {
        const host = document.createElement('div');
        host.innerHTML = html;
        document.body.appendChild(host);
    }""", quiz.number("Late question?", answer=3)._repr_html_())
    late = page.get_by_label("Late question?")
    late.fill("3")
    late.press("Enter")
    assert feedback(6) == ("true", "✓ Correct!")
    page.close()
    assert errors == []
    assert requests == []


# --------------------------------------------------------------------------- properties and fuzzing

SHAPE_FORMATS = ["({})", "[{}]", "torch.Size([{}])", "{}", "({},)", " {} "]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=5), st.sampled_from(SHAPE_FORMATS),
       st.sampled_from([", ", ",", " ", "x", " × "]))
def test_any_written_shape_normalises_back(dims, template, separator):
    text = template.format(separator.join(str(d) for d in dims))
    assert quiz.normalise_shape(text) == tuple(dims)


@settings(max_examples=60, deadline=None)
@given(st.integers(-10**6, 10**6), st.sampled_from(["{}", "+{}", " {} ", "{}.0", "{}."]))
def test_any_written_integer_normalises_back(value, template):
    text = template.format(value) if value >= 0 or not template.startswith("+") else str(value)
    assert quiz.normalise_number(text) == value


def test_javascript_normalises_random_text_exactly_like_python():
    import random

    rng = random.Random(11)
    alphabet = list("0123456789" * 3 + " +-.,eExX×*()[]") + ["torch.Size", "\u00a0", "\t", "a"]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
             for _ in range(600)]
    number_q = quiz.number("n?", answer=12, hints={-1: "minus one"})
    shape_q = quiz.shape("s?", answer=(1, 2), hints={(2, 1): "swapped"})
    pairs = [(number_q.data, t) for t in texts] + [(shape_q.data, t) for t in texts]
    expected = [list(number_q.feedback(t)) for t in texts] + [
        list(shape_q.feedback(t)) for t in texts]
    numbers = [quiz.normalise_number(t) for t in texts]
    shapes = [quiz.normalise_shape(t) for t in texts]
    for parsed in (numbers, shapes):  # the random texts cover valid and invalid answers
        assert 50 < sum(v is not None for v in parsed) < len(texts) - 50
    assert js_feedback(pairs) == expected


@pytest.mark.browser
def test_a_quiz_stripped_of_its_data_is_ignored_without_a_console_error(browser):
    """JupyterLab's sanitizer strips data-quiz from untrusted outputs; Check must not throw."""
    live, stripped = all_kinds()[0], all_kinds()[1]
    body = live._repr_html_() + re.sub(r' data-quiz="[^"]*"', "", stripped._repr_html_().replace(
        stripped.id, "cq-stripped"))
    errors: list[str] = []
    page = browser.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(f"<!doctype html><html lang='en'><body>{body}</body></html>")
    page.locator("#cq-stripped .convlab-quiz-check").click()
    assert page.locator("#cq-stripped .convlab-quiz-feedback").inner_text() == ""
    assert not page.locator(".convlab-quiz-untrusted").first.is_visible()
    page.close()
    assert errors == []


def test_hints_and_revisit_are_plain_text_without_backticks():
    q = quiz.number("Size of `conv(x)`?", answer=3, hints={5: "`F.conv2d` has no padding"},
                    revisit="the `padding` argument")
    assert q.feedback("5") == (False, "✗ Not quite. F.conv2d has no padding")
    assert q.feedback("7") == (False, "✗ Not quite. Revisit: the padding argument")
    assert "<code>conv(x)</code>" in q._repr_html_()
