/* Typeset the site's TeX formulas as MathJax CommonHTML at build time, so that pages need no
 * MathJax in the browser (run by book/_ext/convlab_site.py with Node.js; mathjax-full from
 * package.json).
 *
 * Reads JSON from standard input: a list of pages, each {"fontURL": "...", "formulas":
 * [{"tex": "...", "display": true|false}, ...]}. Writes a list of {"css": "...", "html":
 * ["<mjx-container ...>", ...]} to standard output, one per page, in the same order. Each
 * formula carries MathJax's assistive MathML (what screen readers read; the typeset glyphs are
 * aria-hidden) and no tabindex (formulas are not Tab stops). "css" is that page's stylesheet:
 * MathJax's CommonHTML rules for the characters the page uses, its fonts loaded from fontURL.
 * A formula MathJax cannot parse comes back as an <mjx-merror> with its message in
 * data-mjx-error (the build reports it).
 */
"use strict";
const { mathjax } = require("mathjax-full/js/mathjax.js");
const { TeX } = require("mathjax-full/js/input/tex.js");
const { CHTML } = require("mathjax-full/js/output/chtml.js");
const { liteAdaptor } = require("mathjax-full/js/adaptors/liteAdaptor.js");
const { RegisterHTMLHandler } = require("mathjax-full/js/handlers/html.js");
const { AssistiveMmlHandler } = require("mathjax-full/js/a11y/assistive-mml.js");
const { AllPackages } = require("mathjax-full/js/input/tex/AllPackages.js");

const adaptor = liteAdaptor();
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));
/* The packages the browser's tex-mml-chtml component loads or autoloads, without the two that
 * would hide errors (noerrors, noundefined: the build reports them instead). */
const LEFT_OUT = ["bussproofs", "noerrors", "noundefined", "tagformat", "textmacros"];
const packages = AllPackages.filter((name) => !LEFT_OUT.includes(name));

function typesetPage(page) {
  const tex = new TeX({ packages });
  const chtml = new CHTML({ fontURL: page.fontURL, adaptiveCSS: true });
  const doc = mathjax.document("", { InputJax: tex, OutputJax: chtml });
  const html = page.formulas.map((f) => {
    const node = doc.convert(f.tex, { display: f.display });
    return adaptor.outerHTML(node);
  });
  return { css: adaptor.textContent(chtml.styleSheet(doc)), html };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const pages = JSON.parse(input);
  process.stdout.write(JSON.stringify(pages.map(typesetPage)));
});
