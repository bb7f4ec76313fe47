// ConvLab quick checks: grade answers in the browser, no kernel, no network.
// The rules mirror convlab/quiz.py exactly (normalise_number, normalise_shape, feedback).
(function () {
  "use strict";
  // Defined once per page; later quizzes reuse it.
  if (window.convlabQuiz) return;
  var SPACE = /[ \t\n\r\u00a0\u2009\u202f]/g;
  var NUMBER = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
  var SEP = /[,xX\u00d7* \t\n\r\u00a0\u2009\u202f]+/;
  // Texts come from Python (d.ui: quiz.ui_texts); t fills in {fields}.
  function t(d, text, v) {
    return ((d.ui && d.ui[text]) || text).replace(/\{(\w+)\}/g, function (m, k) { return v[k]; });
  }
  function ok(d) { return [true, t(d, "\u2713 Correct!")]; }

  function number(text) {
    var t = String(text).replace(SPACE, "");
    return NUMBER.test(t) ? parseFloat(t) : null;
  }
  function shape(text) {
    var t = String(text).replace(SPACE, " ").replace(/^ *torch\.size/i, "");
    var parts = t.replace(/[()[\]]/g, " ").split(SEP).filter(Boolean);
    if (!parts.length || !parts.every(function (p) { return /^[0-9]+$/.test(p); })) return null;
    return parts.map(Number);
  }
  function near(x, a, tol) { return Math.abs(x - a) <= tol + 1e-9 * Math.max(1, Math.abs(a)); }
  // "✗ Not quite." and more sentences, joined as the language joins sentences
  function notQuite(d, more) {
    return more.filter(Boolean).reduce(function (a, b) {
      return t(d, "{sentence} {next}", {sentence: a, next: b}); }, t(d, "\u2717 Not quite."));
  }
  function wrong(d, detail) {
    return [false, notQuite(d, [detail]) +
      (d.revisit ? t(d, " Revisit: {revisit}", {revisit: d.revisit}) : t(d, " Try again."))];
  }
  function hint(d, text) { return [false, notQuite(d, [text])]; }

  // d: the quiz data; r: the typed text or the selected indices
  function feedback(d, r) {
    var i;
    if (d.kind === "number") {
      var x = number(r);
      if (x === null) return [false, t(d, "Please enter a number, e.g. 12.")];
      if (near(x, d.answer, d.tolerance)) return ok(d);
      for (i = 0; i < d.hints.length; i++) if (near(x, d.hints[i][0], 0)) return hint(d, d.hints[i][1]);
      return wrong(d, "");
    }
    if (d.kind === "shape") {
      var s = shape(r);
      if (s === null) return [false, t(d, "Please enter a shape, e.g. (1, 8, 14, 14).")];
      if (s.join() === d.answer.join()) return ok(d);
      for (i = 0; i < d.hints.length; i++) if (s.join() === d.hints[i][0].join()) return hint(d, d.hints[i][1]);
      if (s.length !== d.answer.length) {
        return wrong(d, t(d, "The answer has {n} dimensions; yours has {m}.", {n: d.answer.length, m: s.length}));
      }
      return wrong(d, "");
    }
    if (d.kind === "choice" && !r.length) return [false, t(d, "Please select an answer.")];
    var extra = r.filter(function (j) { return d.correct.indexOf(j) < 0; });
    var missing = d.correct.filter(function (j) { return r.indexOf(j) < 0; });
    if (!extra.length && !missing.length) return ok(d);
    var texts = d.hints.filter(function (h) {
      return extra.indexOf(h[0]) >= 0 || missing.indexOf(h[0]) >= 0;
    }).map(function (h) { return h[1]; });
    if (texts.length) return [false, notQuite(d, texts)];
    return wrong(d, d.multiple ? t(d, "Wrongly selected: {extra}. Missing: {missing}.",
      {extra: extra.length, missing: missing.length}) : "");
  }

  function check(root) {
    // An untrusted notebook output has its data stripped by JupyterLab's sanitizer.
    var data = root.getAttribute("data-quiz");
    if (!data) return;
    var d = JSON.parse(data);
    var inputs = root.querySelectorAll("input"), r = [];
    if (d.kind === "number" || d.kind === "shape") r = inputs[0].value;
    else for (var i = 0; i < inputs.length; i++) if (inputs[i].checked) r.push(i);
    var f = feedback(d, r), out = root.querySelector(".convlab-quiz-feedback");
    out.textContent = f[1];
    out.setAttribute("data-correct", String(f[0]));
  }
  // One pair of listeners on the document serves every quiz, including quizzes added later
  // (JupyterLab runs an output's script before the output is attached to the page).
  function quizOf(el) { return el && el.closest ? el.closest(".convlab-quiz") : null; }
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest(".convlab-quiz-check");
    if (button && quizOf(button)) check(quizOf(button));
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && e.target.tagName === "INPUT" && quizOf(e.target)) {
      e.preventDefault();
      check(quizOf(e.target));
    }
  });
  window.convlabQuiz = { number: number, shape: shape, feedback: feedback };
})();
