/* ConvLab explorers drawn in the page (route (b) of GUIDE.md section 3).
 *
 * The sliders are ipywidgets SelectionSliders made by convlab/explore.py; this file computes
 * the numbers of the chosen configuration and draws the picture under the sliders, in a live
 * kernel (JupyterLab) and on the static site alike. Every number it computes is proved equal
 * to PyTorch on every reachable slider state by tests/test_explorers_js.py (run in node).
 *
 * The same file is a node module (module.exports: the pure functions the tests call) and, in
 * a browser, installs window.ConvLabExplorers once and binds every explorer picture
 * (an element with class convlab-js-picture and a data-spec JSON) to its sliders.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else if (!root.ConvLabExplorers) {
    root.ConvLabExplorers = api;
    api.start(root.document);
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  /* ---------------------------------------------------------------- numbers (tested) */

  /** x[r][c] = (3r + c) mod 5, as convlab.draw.example_input. */
  function exampleInput(i) {
    var x = [];
    for (var r = 0; r < i; r += 1) {
      var row = [];
      for (var c = 0; c < i; c += 1) { row.push((3 * r + c) % 5); }
      x.push(row);
    }
    return x;
  }

  /** w[r][c] = (r + 2c + 1) mod 3, as convlab.draw.example_kernel. */
  function exampleKernel(k) {
    var w = [];
    for (var r = 0; r < k; r += 1) {
      var row = [];
      for (var c = 0; c < k; c += 1) { row.push((r + 2 * c + 1) % 3); }
      w.push(row);
    }
    return w;
  }

  /** x with p zeros on every side (F.pad). */
  function pad(x, p) {
    var n = x.length + 2 * p;
    var out = [];
    for (var r = 0; r < n; r += 1) {
      var row = [];
      for (var c = 0; c < n; c += 1) {
        var inside = r >= p && c >= p && r < n - p && c < n - p;
        row.push(inside ? x[r - p][c - p] : 0);
      }
      out.push(row);
    }
    return out;
  }

  /**
   * One convolution configuration (ch1): padded input, kernel, output size and values, or the
   * rule it breaks (convlab.conv_output_size's words) and PyTorch's own message (F.conv2d).
   */
  function conv(i, k, s, p, d) {
    var x = exampleInput(i);
    var w = exampleKernel(k);
    var xp = pad(x, p);
    var n = i + 2 * p;
    var span = d * (k - 1) + 1;
    var state = { i: i, k: k, s: s, p: p, d: d, n: n, span: span, x: x, w: w, xp: xp };
    if (span > n) {
      state.error = d !== 1 ?
        t("kernel {k} (dilated to {span}) does not fit the padded input {i}+2·{p}={n}",
          {k: k, span: span, i: i, p: p, n: n}) :
        t("kernel {k} does not fit the padded input {i}+2·{p}={n}", {k: k, i: i, p: p, n: n});
      state.torch = "Calculated padded input size per channel: (" + n + " x " + n +
        "). Kernel size: (" + span + " x " + span +
        "). Kernel size can't be greater than actual input size";
      state.o = 0;
      state.y = [];
      return state;
    }
    var o = Math.floor((n - span) / s) + 1;
    var y = [];
    for (var r = 0; r < o; r += 1) {
      var row = [];
      for (var c = 0; c < o; c += 1) {
        var sum = 0;
        for (var u = 0; u < k; u += 1) {
          for (var v = 0; v < k; v += 1) { sum += w[u][v] * xp[r * s + d * u][c * s + d * v]; }
        }
        row.push(sum);
      }
      y.push(row);
    }
    state.o = o;
    state.y = y;
    return state;
  }

  /** The k×k (weight, input) pairs whose products sum to output cell (row, col). */
  function convTerms(st, row, col) {
    var terms = [];
    for (var u = 0; u < st.k; u += 1) {
      var line = [];
      for (var v = 0; v < st.k; v += 1) {
        line.push([st.w[u][v], st.xp[row * st.s + st.d * u][col * st.s + st.d * v]]);
      }
      terms.push(line);
    }
    return terms;
  }

  /* ---------------------------------------------------------------- drawing */

  var ROLE = { kernel: "#E69F00", output: "#009E73", current: "#0072B2", cropped: "#D55E00",
    padding: "#D9D9D9" };
  var TINT = { kernel: "#FBE5B5", current: "#CCE3F0", output: "#CCEBE1" };
  var GREY = "#666666";
  var COLUMN = 740; /* the book's text column, in pixels */

  function esc(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/'/g, "&#x27;").replace(/"/g, "&quot;");
  }

  /** Estimated width of text in a sans-serif font of size px (generous, as draw.text_width). */
  /* East Asian wide characters (CJK, full-width punctuation) take about twice a Latin letter */
  var WIDE = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/g;

  /** A generous width in pixels of text in a sans-serif font of size px (as draw.text_width). */
  function textWidth(text, size) {
    var s = String(text);
    return Math.round(0.62 * size * (s.length + (s.match(WIDE) || []).length)) + 4;
  }

  function rect(x, y, w, h, fill, stroke, extra) {
    return "<rect x='" + x + "' y='" + y + "' width='" + w + "' height='" + h + "' fill='" +
      (fill || "none") + "'" + (stroke ? " stroke='" + stroke + "'" : "") + (extra || "") + "/>";
  }

  function label(x, y, text, extra) {
    return "<text x='" + x + "' y='" + y + "' text-anchor='start'" + (extra || "") + ">" +
      esc(text) + "</text>";
  }

  /** A rows×cols grid of cells at (x, y): outline, lines and (optional) centred texts. */
  function grid(x, y, values, cell, fill, stroke, font, textFill) {
    var rows = values.length;
    var cols = rows ? values[0].length : 0;
    var out = [rect(x, y, cols * cell, rows * cell, fill, stroke || "#333")];
    var d = "";
    for (var r = 1; r < rows; r += 1) { d += "M" + x + " " + (y + r * cell) + "h" + cols * cell; }
    for (var c = 1; c < cols; c += 1) { d += "M" + (x + c * cell) + " " + y + "v" + rows * cell; }
    if (d) { out.push("<path d='" + d + "' stroke='" + (stroke || "#333") + "'/>"); }
    for (r = 0; r < rows; r += 1) {
      for (c = 0; c < cols; c += 1) {
        var v = values[r][c];
        if (v === "" || v === null) { continue; }
        var t = typeof v === "object" ? v : { text: v };
        out.push("<text x='" + (x + c * cell + cell / 2) + "' y='" +
          (y + r * cell + cell / 2 + font * 0.35) + "' font-size='" + font + "'" +
          (t.fill || textFill ? " fill='" + (t.fill || textFill) + "'" : "") + ">" +
          esc(t.text) + "</text>");
      }
    }
    return out.join("");
  }

  function svg(width, height, title, body, fixed) {
    var scale = fixed ? 1 : Math.min(1.4, Math.max(1, COLUMN / width));
    return "<svg width='" + Math.round(width * scale) + "' height='" +
      Math.round(height * scale) + "' viewBox='0 0 " + width + " " + height +
      "' role='img' font-family='sans-serif' font-size='12' text-anchor='middle' " +
      "style='display:block;max-width:100%;height:auto;background:#fff'><title>" +
      esc(title) + "</title>" + body + "</svg>";
  }

  function factor(v) { return v < 0 ? "(" + v + ")" : String(v); }

  /* The page's language: STRINGS maps an English text to its translation (the spec's
   * "strings", made in Python by convlab.explore from convlab's catalogue; none for English).
   * bind() sets it before it draws an explorer; t() looks a text up and fills in {fields}. */
  var STRINGS = {};
  function t(text, values) {
    return (STRINGS[text] || text).replace(/\{(\w+)\}/g, function (m, key) {
      return values && key in values ? String(values[key]) : m;
    });
  }

  // Texts (or HTML) one after the other, as the language puts sentences together: English
  // leaves a space between them, Chinese none.
  function then() {
    return Array.prototype.slice.call(arguments).filter(Boolean).reduce(function (a, b) {
      return t("{sentence} {next}", {sentence: a, next: b});
    });
  }

  function refusal(rule, torchMessage) {
    return "<div role='status' class='convlab-refused' style='max-width:640px;padding:8px;" +
      "line-height:1.4;border-left:4px solid " + ROLE.cropped + ";background:#FBE9DE;" +
      "color:#111'>" + then("<b>" + esc(t("PyTorch refuses this configuration.")) + "</b>",
        esc(t("The rule: {rule}. PyTorch says:", {rule: rule})),
        "<code style='" + CODE + "'>" + esc(torchMessage) + "</code>") + "</div>";
  }

  /* explicit colours: the pictures are light in the theme's dark mode too */
  var CODE = "color:#111;background:#F3F3F3;font-size:12px";
  var CAPTION = "margin:0;padding:2px 0;text-align:left;font-size:13px;color:#111";
  var TEXT = "margin:4px 0 0;font-size:13px;line-height:1.45;max-width:" + COLUMN +
    "px;color:#111;background:#fff";

  /** The convolution explorer's picture (ch1) for slider values q; row/col already valid. */
  function drawConv(q) {
    var st = conv(q.i, q.k, q.s, q.p, q.d);
    var n = st.n, k = st.k, o = st.o, p = st.p;
    var cells = n + k + Math.max(o, 1);
    var cell = Math.max(18, Math.min(26, Math.floor((COLUMN - 90) / cells)));
    var font = cell >= 24 ? 12 : 10;
    var m = 8, gap = 26, top = 28;
    var ix = m, kx = ix + n * cell + gap, ox = kx + k * cell + gap + 10;
    var inputLabel = p ? t("input {i}×{i}, padded to {n}×{n}", {i: st.i, n: n}) :
      t("input {i}×{i}", {i: st.i});
    var outputLabel = st.error ? t("no output") : t("output {o}×{o}", {o: o});
    var width = Math.max(ox + Math.max(o * cell, textWidth(outputLabel, 12)) + m,
      ix + textWidth(inputLabel, 12) + m);
    var rows = Math.max(n, k, o);
    var height = top + rows * cell + (p ? 22 : 8);
    if (p) { width = Math.max(width, ix + textWidth(t("grey hatched = zero padding"), 11) + m); }
    var inputValues = st.xp.map(function (row, r) {
      return row.map(function (v, c) {
        var inside = r >= p && c >= p && r < n - p && c < n - p;
        return inside ? String(v) : { text: "0", fill: GREY };
      });
    });
    var body = [label(ix, top - 8, inputLabel), rect(ix, top, n * cell, n * cell, "#fff")];
    if (p) {
      var hatch = "";
      for (var r = 0; r < n; r += 1) {
        for (var c = 0; c < n; c += 1) {
          if (r < p || c < p || r >= n - p || c >= n - p) {
            body.push(rect(ix + c * cell, top + r * cell, cell, cell, ROLE.padding));
            hatch += "M" + (ix + c * cell) + " " + (top + r * cell + cell) + "l" + cell + " -" +
              cell;
          }
        }
      }
      body.push("<path d='" + hatch + "' stroke='#B3B3B3'/>");
    }
    body.push(grid(ix, top, inputValues, cell, "none", "#333", font));
    if (p) {
      body.push(label(ix, top + n * cell + 16, t("grey hatched = zero padding"),
        " font-size='11' fill='" + GREY + "'"));
    }
    body.push(label(kx, top - 8, t("kernel {k}×{k}", {k: k})));
    body.push(grid(kx, top, st.w.map(function (row) { return row.map(String); }), cell,
      TINT.kernel, ROLE.kernel, font));
    body.push("<text x='" + (kx - gap / 2) + "' y='" + (top + 18) + "' font-size='20'>⋆</text>");
    if (st.error) {
      body.push(label(ox, top - 8, outputLabel, " fill='" + ROLE.cropped + "'"));
      var title = t("Convolution {params}: refused", {params: "i=" + st.i + " k=" + k + " s=" +
        st.s + " p=" + p + " d=" + st.d});
      return { frame: frameText(q, ["i", "k", "s", "p", "d"]),
        html: svg(width, height, title, body.join("")) + refusal(st.error, st.torch),
        state: st };
    }
    var row = q.row, col = q.col;
    body.push(label(ox, top - 8, outputLabel));
    body.push("<text x='" + (ox - gap / 2 - 5) + "' y='" + (top + 16) + "'>=</text>");
    body.push("<g class='convlab-output'>" + grid(ox, top, st.y.map(function (line) {
      return line.map(String);
    }), cell, TINT.output, ROLE.output, font) + "</g>");
    /* the window, the taps it reads, the output cell */
    var x0 = ix + col * st.s * cell, y0 = top + row * st.s * cell;
    var taps = "";
    for (var u = 0; u < k; u += 1) {
      for (var v = 0; v < k; v += 1) {
        taps += "M" + (x0 + v * st.d * cell + 2) + " " + (y0 + u * st.d * cell + 2) + "h" +
          (cell - 4) + "v" + (cell - 4) + "h-" + (cell - 4) + "z";
      }
    }
    body.push("<path d='" + taps + "' fill='none' stroke='" + ROLE.kernel + "' stroke-width='2'/>");
    body.push(rect(x0, y0, st.span * cell, st.span * cell, "none", ROLE.kernel,
      " stroke-width='3' stroke-dasharray='6 3'"));
    body.push(grid(ox + col * cell, top + row * cell, [[String(st.y[row][col])]], cell,
      TINT.current, ROLE.current, font));
    body.push(rect(ox + col * cell, top + row * cell, cell, cell, "none", ROLE.current,
      " stroke-width='3'"));
    var lines = convTerms(st, row, col).map(function (line) {
      return line.map(function (t) { return factor(t[0]) + "·" + factor(t[1]); }).join(" + ");
    });
    var sum = "<div class='convlab-sum' style='" + TEXT + "'><code style='" + CODE + "'>y[" +
      row + "," + col +
      "] = " + lines.map(esc).join(" +<br>&nbsp;&nbsp;&nbsp;&nbsp;") + " = " + st.y[row][col] +
      "</code></div>";
    // as draw.output_size_formula: the undilated form for d = 1 (dilation comes later in ch1)
    var formula = (st.d === 1 ? "o = ⌊(i+2p−k)/s⌋+1 = ⌊(" + st.i + "+2·" + p + "−" + k + ")/" :
      "o = ⌊(i+2p−d(k−1)−1)/s⌋+1 = ⌊(" + st.i + "+2·" + p + "−" + st.d + "·(" + k +
      "−1)−1)/") + st.s + "⌋+1 = ⌊" + (n - st.span) + "/" + st.s + "⌋+1 = " + o;
    var caption = t("Input {i}×{i} with {padding}, {kernel}, stride {s} → output {o}×{o}; " +
      "window at output ({row}, {col}). {formula}", {i: st.i,
        padding: p ? t("zero padding p={p} (grey, hatched)", {p: p}) : t("no padding (p=0)"),
        kernel: st.d > 1 ? t("kernel {k}×{k} with dilation {d} (window spans {span}×{span})",
          {k: k, d: st.d, span: st.span}) : t("kernel {k}×{k}", {k: k}),
        s: st.s, o: o, row: row, col: col, formula: formula});
    var title2 = t("Convolution {params}: output {o}×{o}, window at ({row}, {col})",
      {params: "i=" + st.i + " k=" + k + " s=" + st.s + " p=" + p + " d=" + st.d, o: o,
        row: row, col: col});
    return { frame: frameText(q, ["i", "k", "s", "p", "d", "row", "col"]),
      html: svg(width, height, title2, body.join("")) + sum +
        "<p class='convlab-caption' style='" + TEXT + "'>" + esc(caption) + "</p>",
      state: st };
  }

  /**
   * One transposed convolution (ch5) drawn as scatter-add: input x[r][c] = 1 + r·i + c, kernel
   * as exampleKernel; the full (i−1)s + d(k−1) + 1 grid of sums; valid when output_padding is
   * smaller than the stride or the dilation and o = full − 2p + output_padding ≥ 1; then the
   * output y is rows/columns p … p+o−1 of the full grid (0 past its end).
   */
  function transposed(i, k, s, p, op, d) {
    var x = [], r, c, u, v;
    for (r = 0; r < i; r += 1) {
      var xr = [];
      for (c = 0; c < i; c += 1) { xr.push(1 + r * i + c); }
      x.push(xr);
    }
    var w = exampleKernel(k);
    var f = (i - 1) * s + d * (k - 1) + 1;
    var full = [], count = [];
    for (r = 0; r < f; r += 1) {
      full.push(new Array(f).fill(0));
      count.push(new Array(f).fill(0));
    }
    for (r = 0; r < i; r += 1) {
      for (c = 0; c < i; c += 1) {
        for (u = 0; u < k; u += 1) {
          for (v = 0; v < k; v += 1) {
            full[r * s + u * d][c * s + v * d] += x[r][c] * w[u][v];
            count[r * s + u * d][c * s + v * d] += 1;
          }
        }
      }
    }
    var o = f - 2 * p + op;
    var st = { i: i, k: k, s: s, p: p, op: op, d: d, x: x, w: w, f: f, full: full,
      count: count, o: o, valid: op < Math.max(s, d) && o >= 1, y: [] };
    if (st.valid) {
      for (r = 0; r < o; r += 1) {
        var yr = [];
        for (c = 0; c < o; c += 1) {
          yr.push(r + p < f && c + p < f ? full[r + p][c + p] : 0);
        }
        st.y.push(yr);
      }
    }
    return st;
  }

  function hatchPath(x, y, cells, cell) {
    return cells.map(function (rc) {
      return "M" + (x + rc[1] * cell) + " " + (y + rc[0] * cell + cell) + "l" + cell + " -" +
        cell;
    }).join("");
  }

  /** The transposed convolution explorer's picture (ch5) for slider values q. */
  function drawTransposed(q, spec) {
    var st = transposed(q.i, q.k, q.s, q.p, q.op, q.d);
    var key = [q.i, q.k, q.s, q.p, q.op, q.d].join(",");
    var refused = spec.refused ? spec.refused[key] : null;
    var i = st.i, k = st.k, f = st.f, p = st.p, o = st.o;
    var size = st.valid ? Math.max(f, p + o) : f;
    var cell = Math.max(17, Math.min(26, Math.floor((COLUMN - 100) / (i + k + size))));
    var font = cell >= 24 ? 12 : cell >= 20 ? 10 : 9;
    var m = 8, gap = 26, top = 28;
    var kx = m + i * cell + gap, gx = kx + k * cell + gap + 14;
    var fullLabel = st.valid ? t("full {f}×{f} (sums), output {o}×{o} (green)", {f: f, o: o}) :
      t("full {f}×{f} (sums): no output", {f: f});
    var inputLabel = t("input {i}×{i}", {i: i}), kernelLabel = t("kernel {k}×{k}", {k: k});
    var width = Math.max(gx + size * cell + m, gx + textWidth(fullLabel, 12) + m,
      m + textWidth(inputLabel, 12) + gap + textWidth(kernelLabel, 12));
    var height = top + Math.max(size, i, k) * cell + 8;
    var body = [label(m, top - 8, inputLabel), label(kx, top - 8, kernelLabel), grid(m, top, st.x.map(function (row) { return row.map(String); }), cell,
      "#E6F3FB", "#56B4E9", font), grid(kx, top, st.w.map(function (row) {
      return row.map(String);
    }), cell, TINT.kernel, ROLE.kernel, font)];
    var sums = [], r, c;
    for (r = 0; r < size; r += 1) {
      var row = [];
      for (c = 0; c < size; c += 1) { row.push(r < f && c < f ? String(st.full[r][c]) : ""); }
      sums.push(row);
    }
    var kept = function (n) { return st.valid && n >= p && n < p + o; };
    if (!st.valid) {
      body.push(label(gx, top - 8, fullLabel, " fill='" + ROLE.cropped + "'"));
      body.push("<g class='convlab-full'>" + grid(gx, top, sums, cell, "#fff", "#333", font) +
        "</g>");
      var title = t("Transposed convolution {params}: refused", {params: "i=" + i + " k=" + k +
        " s=" + st.s + " p=" + p + " op=" + st.op + " d=" + st.d});
      var rule = refused ? spec.texts[refused[0]] : "";
      var said = refused ? spec.texts[refused[1]] : "";
      return { frame: frameText(q, ["i", "k", "s", "p", "op", "d"]),
        html: svg(width, height, title, body.join("")) + refusal(rule, said), state: st };
    }
    body.push(label(gx, top - 8, fullLabel));
    var cropped = [], outText = [];
    for (r = 0; r < size; r += 1) {
      for (c = 0; c < size; c += 1) {
        if (!(kept(r) && kept(c))) { cropped.push([r, c]); }
      }
    }
    body.push(rect(gx, top, size * cell, size * cell, "#fff"));
    if (cropped.length) {
      body.push("<path d='" + cropped.map(function (rc) {
        return "M" + (gx + rc[1] * cell) + " " + (top + rc[0] * cell) + "h" + cell + "v" + cell +
          "h-" + cell + "z";
      }).join("") + "' fill='#EFA27A' fill-opacity='.45'/>");
      body.push("<path d='" + hatchPath(gx, top, cropped, cell) + "' stroke='" + ROLE.cropped +
        "' stroke-opacity='.5'/>");
    }
    var beyond = "";
    for (r = 0; r < size; r += 1) {
      for (c = 0; c < size; c += 1) {
        if (kept(r) && kept(c)) {
          outText.push(["", r, c]);
          if (r >= f || c >= f) {
            beyond += "M" + (gx + c * cell) + " " + (top + r * cell) + "h" + cell + "v" + cell +
              "h-" + cell + "z";
          }
        }
      }
    }
    var shown = sums.map(function (row, rr) {
      return row.map(function (v, cc) { return kept(rr) && kept(cc) ? "" : v; });
    });
    var outputs = sums.map(function (row, rr) {
      return row.map(function (v, cc) {
        return kept(rr) && kept(cc) ? String(st.y[rr - p][cc - p]) : "";
      });
    });
    body.push(grid(gx, top, shown, cell, "none", "#333", font, GREY));
    body.push("<g class='convlab-output' font-weight='bold'>" +
      grid(gx, top, outputs, cell, "none", "#333", font) + "</g>");
    if (beyond) {
      body.push("<path d='" + beyond + "' fill='none' stroke='#555' stroke-dasharray='3 2'/>");
    }
    body.push(rect(gx + p * cell, top + p * cell, o * cell, o * cell, "none", ROLE.output,
      " stroke-width='3'"));
    var rows = "";
    for (r = 0; r < size; r += 1) {
      rows += "<text x='" + (gx - 3) + "' y='" + (top + r * cell + cell / 2 + 3) + "'" +
        (kept(r) ? " font-weight='bold'" : " fill='" + GREY + "'") + ">" + r + "</text>";
    }
    body.push("<g font-size='10' text-anchor='end'>" + rows + "</g>");
    var end = p - st.op;
    var legend = [];
    if (p || st.op) {
      legend.push(t("Kept (green frame, bold): rows/columns {first}…{last} of the full grid; " +
        "cropped (hatched, grey numbers): {p} at the top/left, {end} at the bottom/right.",
        {first: p, last: p + o - 1, p: p, end: Math.max(end, 0)}));
    } else {
      legend.push(t("Padding 0 and output_padding 0: the output is the whole full grid."));
    }
    if (beyond) {
      legend.push(t("Dashed cells: output_padding {op} reaches past the full grid, where no " +
        "kernel copy lands, so PyTorch gives 0 (+ bias) there.", {op: st.op}));
    } else if (st.op) {
      legend.push(t("output_padding {op} keeps {op} more computed row(s)/column(s) at the " +
        "bottom/right that padding would crop (not zeros).", {op: st.op}));
    }
    var caption = t("{sentence}.", {sentence: t("Every input value times the kernel is added " +
      "into the full grid at stride {s} (dilation {d}); ", {s: st.s, d: st.d}) + "o = (" + i +
      "−1)·" + st.s + " − 2·" + p + " + " + st.d + "·(" + k + "−1) + " + st.op + " + 1 = " + o});
    var title3 = t("Transposed convolution {params}: output {o}×{o}", {params: "i=" + i + " k=" +
      k + " s=" + st.s + " p=" + p + " op=" + st.op + " d=" + st.d, o: o});
    return { frame: frameText(q, ["i", "k", "s", "p", "op", "d"]),
      html: svg(width, height, title3, body.join("")) + "<p class='convlab-caption' style='" +
        TEXT + "'>" + esc(then.apply(null, legend.concat([caption]))) + "</p>", state: st };
  }

  /**
   * Backward from one output pixel (ch3): ∂y[row][col]/∂x for y = conv2d(x, w) with the kernel
   * weights 1…k² (row by row). Each tap (u, v) of the window at (row, col) that reads an input
   * pixel (not the padding) gives that pixel the weight w[u][v]; taps never share a pixel.
   * Returns the size (or the refusal, as conv) and the [a, b, gradient] of every such pixel.
   */
  function gradient(i, k, s, p, d, row, col) {
    var st = conv(i, k, s, p, d);
    var entries = [];
    if (!st.error && row < st.o && col < st.o) {
      for (var u = 0; u < k; u += 1) {
        for (var v = 0; v < k; v += 1) {
          var a = row * s + u * d - p, b = col * s + v * d - p;
          if (a >= 0 && b >= 0 && a < i && b < i) { entries.push([a, b, u * k + v + 1]); }
        }
      }
    }
    return { i: i, k: k, s: s, p: p, d: d, o: st.o, n: st.n, span: st.span, error: st.error,
      torch: st.torch, entries: entries };
  }

  /** The gradient explorer's picture (ch3) for slider values q; row/col already valid. */
  function drawGradient(q) {
    var g = gradient(q.i, q.k, q.s, q.p, q.d, q.row, q.col);
    var n = g.n, k = g.k, o = g.o, p = g.p, r, c;
    var cell = Math.max(18, Math.min(26, Math.floor((COLUMN - 90) / (n + k + Math.max(o, 1)))));
    var font = cell >= 24 ? 12 : 10;
    var m = 8, gap = 26, top = 28;
    var ix = m, kx = ix + n * cell + gap, ox = kx + k * cell + gap + 10;
    var inputLabel = (p ? t("input {i}×{i}, padded to {n}×{n}", {i: g.i, n: n}) :
      t("input {i}×{i}", {i: g.i})) + ": ∂y/∂x";
    var outputLabel = g.error ? t("no output") : t("output {o}×{o}", {o: o});
    var padNote = t("grey hatched = zero padding: not an input, no gradient");
    var width = Math.max(ox + Math.max(o * cell, textWidth(outputLabel, 12)) + m,
      ix + textWidth(inputLabel, 12) + m, p ? ix + textWidth(padNote, 11) + m : 0);
    var height = top + Math.max(n, k, o) * cell + (p ? 22 : 8);
    var body = [label(ix, top - 8, inputLabel), rect(ix, top, n * cell, n * cell, "#fff")];
    var empty = [];
    for (r = 0; r < n; r += 1) { empty.push(new Array(n).fill("")); }
    if (p) {
      var hatch = "";
      for (r = 0; r < n; r += 1) {
        for (c = 0; c < n; c += 1) {
          if (r < p || c < p || r >= n - p || c >= n - p) {
            body.push(rect(ix + c * cell, top + r * cell, cell, cell, ROLE.padding));
            hatch += "M" + (ix + c * cell) + " " + (top + r * cell + cell) + "l" + cell + " -" +
              cell;
          }
        }
      }
      body.push("<path d='" + hatch + "' stroke='#B3B3B3'/>");
      body.push(label(ix, top + n * cell + 16, padNote, " font-size='11' fill='" + GREY + "'"));
    }
    var weights = [];
    for (r = 0; r < k; r += 1) {
      var wr = [];
      for (c = 0; c < k; c += 1) { wr.push(String(r * k + c + 1)); }
      weights.push(wr);
    }
    body.push(label(kx, top - 8, t("kernel {k}×{k}", {k: k})));
    body.push(grid(kx, top, weights, cell, TINT.kernel, ROLE.kernel, font));
    var params = "i=" + g.i + " k=" + k + " s=" + g.s + " p=" + p + " d=" + g.d;
    if (g.error) {
      body.push(grid(ix, top, empty, cell, "none", "#333", font));
      body.push(label(ox, top - 8, outputLabel, " fill='" + ROLE.cropped + "'"));
      return { frame: frameText(q, ["i", "k", "s", "p", "d"]),
        html: svg(width, height, t("Gradient explorer {params}: refused", {params: params}),
          body.join("")) +
          refusal(g.error, g.torch), state: g };
    }
    var values = empty.map(function (line) { return line.slice(); });
    var fill = "";
    g.entries.forEach(function (e) {
      values[e[0] + p][e[1] + p] = String(e[2]);
      fill += "M" + (ix + (e[1] + p) * cell) + " " + (top + (e[0] + p) * cell) + "h" + cell +
        "v" + cell + "h-" + cell + "z";
    });
    if (fill) {
      body.push("<path d='" + fill + "' fill='#F2D6E6' stroke='#CC79A7' stroke-width='2'/>");
    }
    body.push("<g class='convlab-gradient'>" + grid(ix, top, values, cell, "none", "#333", font) +
      "</g>");
    var row = q.row, col = q.col, s = g.s, d = g.d;
    body.push(label(ox, top - 8, outputLabel));
    var outCells = [];
    for (r = 0; r < o; r += 1) { outCells.push(new Array(o).fill("")); }
    body.push(grid(ox, top, outCells, cell, TINT.output, ROLE.output, font));
    var x0 = ix + col * s * cell, y0 = top + row * s * cell, taps = "";
    for (var u = 0; u < k; u += 1) {
      for (var v = 0; v < k; v += 1) {
        taps += "M" + (x0 + v * d * cell + 3) + " " + (y0 + u * d * cell + 3) + "h" + (cell - 6) +
          "v" + (cell - 6) + "h-" + (cell - 6) + "z";
      }
    }
    body.push("<path d='" + taps + "' fill='none' stroke='" + ROLE.kernel + "' stroke-width='2'/>");
    body.push(rect(x0, y0, g.span * cell, g.span * cell, "none", ROLE.kernel,
      " stroke-width='3' stroke-dasharray='6 3'"));
    body.push(grid(ox + col * cell, top + row * cell, [["1"]], cell, TINT.current, ROLE.current,
      font));
    body.push(rect(ox + col * cell, top + row * cell, cell, cell, "none", ROLE.current,
      " stroke-width='3'"));
    var summary;
    if (!g.entries.length) {
      summary = k === 1 ?
        t("Backward from y[{row},{col}]: its only tap reads padding, no input pixel gets a " +
          "gradient (y is 0 + bias).", {row: row, col: col}) :
        t("Backward from y[{row},{col}]: all {taps} taps read padding, no input pixel gets a " +
          "gradient (y is 0 + bias).", {row: row, col: col, taps: k * k});
    } else {
      var rs = g.entries.map(function (e) { return e[0]; });
      var cs = g.entries.map(function (e) { return e[1]; });
      var h = Math.max.apply(null, rs) - Math.min.apply(null, rs) + 1;
      var w = Math.max.apply(null, cs) - Math.min.apply(null, cs) + 1;
      var lost = k * k - g.entries.length;
      var got = g.entries.length === 1 ?
        t("Backward from y[{row},{col}]: 1 input pixel gets a gradient, spanning {h}×{w}",
          {row: row, col: col, h: h, w: w}) :
        t("Backward from y[{row},{col}]: {n} input pixels get a gradient, spanning {h}×{w}",
          {row: row, col: col, n: g.entries.length, h: h, w: w});
      summary = got + (lost ? t(" ({lost} of {taps} taps on the padding)",
        {lost: lost, taps: k * k}) : "") + t("; each holds the weight that multiplied it.");
    }
    var caption = t("{sentence}.", {sentence: t("Input {i}×{i}, kernel {k}×{k} (weights " +
      "1…{kk}), stride {s}, padding {p}, dilation {d} → output {o}×{o}. The highlighted input " +
      "pixels are the receptive field of the output pixel and the footprint of its gradient; " +
      "the window spans d(k−1)+1 = {span} pixels",
      {i: g.i, k: k, kk: k * k, s: s, p: p, d: d, o: o, span: g.span}) +
      (d > 1 && k > 1 ? (d === 2 ? t(", reading every second pixel (holes)") :
        t(", reading every third pixel (holes)")) : "")});
    return { frame: frameText(q, ["i", "k", "s", "p", "d", "row", "col"]),
      html: svg(width, height, t("Gradient of output pixel ({row}, {col}), {params}",
        {row: row, col: col, params: params}),
        body.join("")) + "<p class='convlab-caption' style='" + TEXT + "'>" +
        then("<b>" + esc(summary) + "</b>", esc(caption)) + "</p>", state: g };
  }

  /**
   * nn.Conv2d(C_in, C_out, k, groups=g) (ch2): refused unless g divides both channel counts
   * (PyTorch's nn.Conv2d message); otherwise the weight shape C_out × C_in/g × k × k, the
   * parameter count C_out·(C_in/g·k·k + 1) and, per output channel, the input channels its
   * kernel reads (those of its group).
   */
  function channels(cin, cout, k, g) {
    var st = { cin: cin, cout: cout, k: k, g: g };
    if (cin % g || cout % g) {
      var name = cin % g ? "in_channels" : "out_channels";
      var c = cin % g ? cin : cout;
      st.error = t("groups {g} must divide {name} {c} ({c} % {g} = {rest}); " +
        "in_channels={cin}, out_channels={cout}",
        {g: g, name: name, c: c, rest: c % g, cin: cin, cout: cout});
      st.torch = name + " must be divisible by groups";
      return st;
    }
    st.depth = cin / g;
    st.weight = [cout, cin / g, k, k];
    st.params = cout * (cin / g * k * k + 1);
    st.reads = [];
    for (var o = 0; o < cout; o += 1) {
      var group = Math.floor(o / (cout / g)), first = group * st.depth, chans = [];
      for (var j = 0; j < st.depth; j += 1) { chans.push(first + j); }
      st.reads.push(chans);
    }
    return st;
  }

  var GROUP_FILL = ["#E6F3FB", "#FBE5B5", "#CCEBE1", "#F2D6E6"];
  var GROUP_LINE = ["#56B4E9", "#E69F00", "#009E73", "#CC79A7"];

  /** The channels explorer's picture (ch2) for slider values q. */
  function drawChannels(q) {
    var st = channels(q.cin, q.cout, q.k, q.g);
    var m = 8, top = 40, rowH = 58, kc = 10, o, j;
    var cin = st.cin, cout = st.cout, k = st.k;
    var title = "nn.Conv2d(" + cin + ", " + cout + ", " + k + ", groups=" + st.g + ")";
    var body = [label(m, 18, cin > 1 ? t("input: {n} channels", {n: cin}) :
      t("input: 1 channel"), " font-size='14'")];
    var inputH = cin * 34;
    for (j = 0; j < cin; j += 1) {
      var grp = st.error ? 0 : Math.floor(j / st.depth);
      body.push(rect(m, top + j * 34, 60, 28, GROUP_FILL[grp], GROUP_LINE[grp]));
      body.push("<text x='" + (m + 30) + "' y='" + (top + j * 34 + 18) + "'>c" + j + "</text>");
    }
    if (st.error) {
      var h0 = top + Math.max(inputH, 40) + 8;
      return { frame: frameText(q, ["cin", "cout", "k", "g"]),
        html: svg(300, h0, t("{title}: refused", {title: title}), body.join("")) +
          refusal(st.error, st.torch),
        state: st };
    }
    var kx = Math.max(110, m + textWidth(t("input: {n} channels", {n: cin}), 14) + 14);
    var ox = kx + 360;
    body.push(label(kx, 18, cout > 1 ?
      t("{n} kernels, each {depth}×{k}×{k}", {n: cout, depth: st.depth, k: k}) :
      t("1 kernel, each {depth}×{k}×{k}", {depth: st.depth, k: k}), " font-size='14'"));
    body.push(label(ox, 18, cout > 1 ? t("output: {n} channels", {n: cout}) :
      t("output: 1 channel"), " font-size='14'"));
    var kernels = "";
    for (o = 0; o < cout; o += 1) {
      var y = top + o * rowH, g = Math.floor(o / (cout / st.g)), size = k * kc;
      for (j = st.depth - 1; j > 0; j -= 1) {
        kernels += rect(kx + j * 5, y + j * 5, size, size, GROUP_FILL[g], GROUP_LINE[g]);
      }
      var slice = [];
      for (j = 0; j < k; j += 1) { slice.push(new Array(k).fill("")); }
      kernels += grid(kx, y, slice, kc, GROUP_FILL[g], GROUP_LINE[g], 9);
      var reads = st.reads[o];
      var text = t("weight[{o}], b[{o}]: reads {channels}", {o: o, channels: "c" + reads[0] +
        (reads.length > 1 ? "…c" + reads[reads.length - 1] : "")});
      kernels += label(kx + size + 5 * (st.depth - 1) + 8, y + 14, text,
        " font-size='12' class='convlab-reads'");
      kernels += rect(ox, y + 2, 48, 34, TINT.output, ROLE.output);
      kernels += "<text x='" + (ox + 24) + "' y='" + (y + 23) + "' font-size='12'>" +
        esc(t("out {o}", {o: o})) + "</text>";
    }
    body.push(kernels);
    var height = top + Math.max(cout * rowH, inputH) + 8;
    var width = ox + Math.max(60, textWidth(t("output: {n} channels", {n: 4}), 14)) + m;
    var formula = t("parameters", {}) + " = C_out·(C_in/groups·k·k + 1) = " + cout + "·(" +
      cin + "/" + st.g + "·" + k + "·" + k + " + 1) = " + st.params;
    var shapeAndKernels = {shape: st.weight.join(", "), n: cout, depth: st.depth};
    var caption = (st.depth > 1 ?
      t("weight shape ({shape}): each of the {n} kernels covers the {depth} input channels of " +
        "its group", shapeAndKernels) :
      t("weight shape ({shape}): each of the {n} kernels covers the 1 input channel of its " +
        "group", shapeAndKernels)) +
      (st.g > 1 ? t(" (colours: {g} groups)", {g: st.g}) : "") +
      t(" and makes one output channel, plus one bias each.");
    return { frame: frameText(q, ["cin", "cout", "k", "g"]),
      html: svg(width, height, t("{title}: {n} parameters", {title: title, n: st.params}),
        body.join("")) +
        "<p class='convlab-caption' style='" + TEXT + "'>" + then(t("{sentence}.",
          {sentence: "<b class='convlab-params'>" + esc(formula) + "</b>"}), esc(caption)) +
        "</p>", state: st };
  }

  /* ---------------------------------------------------------------- image kernels (ch1) */

  /**
   * F.conv2d of an h×w grayscale image (8-bit values, row by row; the input is value/255) with
   * a 3×3 (or any square) kernel, stride s, zero padding p and dilation d, in doubles. Returns
   * the output height, width and rows.
   */
  function imageConv(pixels, h, w, kernel, s, p, d) {
    var k = kernel.length, span = d * (k - 1) + 1;
    var oh = Math.floor((h + 2 * p - span) / s) + 1, ow = Math.floor((w + 2 * p - span) / s) + 1;
    var y = [];
    for (var r = 0; r < oh; r += 1) {
      var row = [];
      for (var c = 0; c < ow; c += 1) {
        var sum = 0;
        for (var u = 0; u < k; u += 1) {
          var a = r * s + u * d - p;
          if (a < 0 || a >= h) { continue; }
          for (var v = 0; v < k; v += 1) {
            var b = c * s + v * d - p;
            if (b >= 0 && b < w) { sum += kernel[u][v] * (pixels[a * w + b] / 255); }
          }
        }
        row.push(sum);
      }
      y.push(row);
    }
    return { h: oh, w: ow, y: y };
  }

  /** Round half to even, as torch.round. */
  function roundEven(v) {
    var f = Math.floor(v), diff = v - f;
    if (diff > 0.5) { return f + 1; }
    if (diff < 0.5) { return f; }
    return f % 2 === 0 ? f : f + 1;
  }

  /**
   * The 8-bit grays shown for y, row by row (convlab.draw.png_bytes): with normalise the
   * smallest value is black and the largest white, otherwise values are clipped to [0, 1].
   */
  function imageGray(y, normalise) {
    var flat = [].concat.apply([], y), lo = 0, hi = 1;
    if (normalise) {
      lo = Math.min.apply(null, flat);
      hi = Math.max.apply(null, flat);
    }
    return flat.map(function (v) {
      var t = normalise ? (hi > lo ? (v - lo) / (hi - lo) : 0) : v;
      return roundEven(Math.min(1, Math.max(0, t)) * 255);
    });
  }

  /** An <img> of 8-bit grays (h×w) drawn at scale, through a canvas (browser only). */
  function grayImage(gray, h, w, scale, alt, cls) {
    var canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    var ctx = canvas.getContext("2d");
    var data = ctx.createImageData(w, h);
    for (var n = 0; n < gray.length; n += 1) {
      data.data[4 * n] = data.data[4 * n + 1] = data.data[4 * n + 2] = gray[n];
      data.data[4 * n + 3] = 255;
    }
    ctx.putImageData(data, 0, 0);
    return "<img class='" + cls + "' src='" + canvas.toDataURL("image/png") + "' alt='" +
      esc(alt) + "' width='" + w * scale + "' height='" + h * scale + "' data-width='" + w +
      "' data-height='" + h + "' style='image-rendering:pixelated;display:block;margin:0'/>";
  }

  /** The image kernel explorer's picture (ch1) for slider values q. */
  function drawImage(q, spec) {
    var img = spec.image, kernel = spec.kernels[q.kernel];
    var st = imageConv(img.pixels, img.h, img.w, kernel, q.s, q.p, q.d);
    var edge = q.kernel !== "sharpen" && [].concat.apply([], kernel).some(function (v) {
      return v < 0;
    });
    var gray = imageGray(st.y, edge);
    var scale = Math.max(2, Math.floor(2 * img.w / st.w)); /* about as wide as the input */
    var shape = "(" + st.h + ", " + st.w + ")";
    var weights = kernel.map(function (row) {
      return "[" + row.map(function (v) { return String(Math.round(v * 1e4) / 1e4); })
        .join(" ") + "]";
    }).join(" ");
    var figure = "margin:0 12px 0 0;padding:0";
    var html = "<div style='display:flex;flex-wrap:wrap;align-items:flex-start;color:#111;" +
      "background:#fff'><figure style='" + figure + "'>" +
      (spec.inputImage = spec.inputImage || grayImage(img.pixels, img.h, img.w, 2,
        t("input photograph, grayscale, {h}×{w}", {h: img.h, w: img.w}),
        "convlab-image-input")) +
      "<figcaption style='" + CAPTION + "'>" + esc(t("input {h}×{w}", {h: img.h, w: img.w})) +
      "</figcaption></figure><figure style='" + figure + "'>" +
      grayImage(gray, st.h, st.w, scale, t("{kernel} kernel, stride {s}, padding {p}, " +
        "dilation {d}: output {h}×{w}", {kernel: q.kernel, s: q.s, p: q.p, d: q.d, h: st.h,
        w: st.w}), "convlab-image-output") +
      "<figcaption style='" + CAPTION + "'>" + esc(t("output {h}×{w}", {h: st.h, w: st.w}) +
      (scale !== 2 ? t(" (drawn ×{scale})", {scale: scale}) : "")) +
      "</figcaption></figure></div>" +
      "<p class='convlab-caption' style='" + TEXT + "'>" + t("{label}: {text}", {label:
        "<b class='convlab-shape'>" + esc(t("F.conv2d output shape {shape}", {shape: shape})) +
        "</b>", text: esc(t("{kernel} kernel {weights}, stride {s}, padding {p}, dilation {d} " +
        "(the window spans {span} pixels). ", {kernel: q.kernel, weights: weights, s: q.s,
        p: q.p, d: q.d, span: q.d * 2 + 1}) + (edge ? t("Negative weights: shown scaled, the " +
        "smallest value black and the largest white.") : t("Shown clipped to [0, 1].")))}) +
      "</p>";
    return { frame: frameText(q, ["kernel", "s", "p", "d"]), html: html, state: st };
  }

  /* ---------------------------------------------------------------- receptive fields (ch4) */

  /**
   * One layer of a stack (ch4) applied to what comes in: the field {r, j, start} of its input
   * units (in input pixels) and their count n per side. layer = [type, k, s, p, d] with type
   * "conv", "max-pool" or "avg-pool". Returns the new field (r + d(k−1)j, js, start − pj), the
   * output size o per side and, when PyTorch refuses the layer on an n×n input, the rule in
   * words (error) and PyTorch's message (torch), in the order PyTorch checks: nn.AvgPool2d has
   * no dilation at all; nn.Conv2d checks the padded size; the pools the padding against half
   * the effective kernel, then (max-pool) against half the kernel, then the output size.
   */
  function rfStep(field, layer) {
    var type = layer[0], k = layer[1], s = layer[2], p = layer[3], d = layer[4];
    var n = field.n, span = d * (k - 1) + 1, padded = n + 2 * p;
    var out = { type: type, k: k, s: s, p: p, d: d, n: n, span: span,
      r: field.r + d * (k - 1) * field.j, j: field.j * s, start: field.start - p * field.j };
    if (type === "avg-pool" && d !== 1) {
      out.error = t("an avg-pool layer has no dilation (nn.AvgPool2d takes none; max-pool has " +
        "one), so d must be 1, but d = {d}", {d: d});
      out.torch = "AvgPool2d.__init__() got an unexpected keyword argument 'dilation'";
    } else if (type === "conv") {
      if (span > padded) {
        out.error = d !== 1 ?
          t("kernel {k} (dilated to {span}) does not fit the padded input {n}+2·{p}={padded}",
            {k: k, span: span, n: n, p: p, padded: padded}) :
          t("kernel {k} does not fit the padded input {n}+2·{p}={padded}",
            {k: k, n: n, p: p, padded: padded});
        out.torch = "Calculated padded input size per channel: (" + padded + " x " + padded +
          "). Kernel size: (" + span + " x " + span +
          "). Kernel size can't be greater than actual input size";
      }
    } else if (p > Math.floor(span / 2)) {
      out.error = d > 1 ?
        t("a pooling layer's padding must be at most half its effective (dilated) kernel, " +
          "⌊(d(k−1)+1)/2⌋ = ⌊{span}/2⌋ = {half}, but p = {p}",
          {span: span, half: Math.floor(span / 2), p: p}) :
        t("a pooling layer's padding must be at most half its kernel, ⌊k/2⌋ = ⌊{k}/2⌋ = {half}" +
          ", but p = {p}", {k: k, half: Math.floor(span / 2), p: p});
      out.torch = "pad should be at most half of effective kernel size, but got pad=" + p +
        ", kernel_size=" + k + " and dilation=" + d;
    } else if (p > Math.floor(k / 2)) {
      out.error = t("a max-pool layer's padding must also be at most half its kernel size " +
        "(dilation not counted), ⌊k/2⌋ = ⌊{k}/2⌋ = {half}, but p = {p}",
        {k: k, half: Math.floor(k / 2), p: p});
      out.torch = "pad should be smaller than or equal to half of kernel size, but got padW = " +
        p + ", padH = " + p + ", kW = " + k + ", kH = " + k;
    } else if (span > padded) {
      var small = Math.floor((padded - span) / s) + 1;
      var fit = {span: span, n: n, p: p, padded: padded, o: small};
      out.error = d > 1 ?
        t("the dilated window of {span} does not fit the padded input {n}+2·{p}={padded}, " +
          "so the output would be {o}×{o}", fit) :
        t("the window of {span} does not fit the padded input {n}+2·{p}={padded}, so the " +
          "output would be {o}×{o}", fit);
      out.torch = "Given input size: (1x" + n + "x" + n + "). Calculated output size: (1x" +
        small + "x" + small + "). Output size is too small";
    }
    out.o = out.error ? 0 : Math.floor((padded - span) / s) + 1;
    return out;
  }

  /**
   * A whole stack on an i×i input: one rfStep per layer from the input's own field
   * {r: 1, j: 1, start: 0, n: i}, up to and including the first layer PyTorch refuses.
   */
  function rfStack(i, layers) {
    var field = { r: 1, j: 1, start: 0, n: i }, rows = [];
    for (var l = 0; l < layers.length; l += 1) {
      var row = rfStep(field, layers[l]);
      rows.push(row);
      if (row.error) { break; }
      field = { r: row.r, j: row.j, start: row.start, n: row.o };
    }
    return rows;
  }

  /** A layer type's name in the page's language ("conv", "max-pool", "avg-pool"). */
  function rfType(type) {
    return type === "conv" ? t("conv") : type === "max-pool" ? t("max-pool") : t("avg-pool");
  }

  /* one colour per layer, each ≥ 4.5:1 on white (text in the table) */
  var FIELD = ["#0072B2", "#B34F00", "#00785A", "#A8417F", "#7A5F00"];

  /** The receptive field explorer's picture (ch4) for slider values q (q.stack: the layers). */
  function drawRf(q) {
    var rows = rfStack(q.i, q.stack), last = rows[rows.length - 1];
    var refused = last.error ? rows.length : 0, drawn = refused ? rows.slice(0, -1) : rows;
    var i = q.i, lo = 0, hi = i - 1, l;
    for (l = 0; l < drawn.length; l += 1) {
      lo = Math.min(lo, drawn[l].start);
      hi = Math.max(hi, drawn[l].start + drawn[l].r - 1);
    }
    /* as wide as the picture's box (a phone's screen), at most 600 px: text stays legible */
    var width = Math.max(320, Math.min(600, q.width || 600));
    var m = 8, lw = 92, x0 = m + lw, aw = width - x0 - m, count = hi - lo + 1;
    var cell = Math.min(24, aw / count), rowH = 22, top = 30;
    var X = function (x) { return Math.round((x0 + (x - lo) * cell) * 100) / 100; };
    var height = top + (drawn.length + 1) * rowH + 24;
    var body = [label(m, 16, cell >= 5 ?
      t("input row, pixels {lo}…{hi} (□ = 1 pixel)", {lo: lo, hi: hi}) :
      t("input row, pixels {lo}…{hi} (to scale)", {lo: lo, hi: hi}), " font-size='12'")];
    body.push(label(m, top + 15, t("input {i}", {i: i}), " font-size='11'"));
    var outside = "";
    if (lo < 0) { outside += rect(X(lo), top, X(0) - X(lo), rowH - 6, ROLE.padding); }
    if (hi > i - 1) { outside += rect(X(i), top, X(hi + 1) - X(i), rowH - 6, ROLE.padding); }
    body.push(outside);
    body.push(rect(X(0), top, X(i) - X(0), rowH - 6, "#E6F3FB", "#56B4E9"));
    if (cell >= 5) {
      var lines = "";
      for (var x = lo + 1; x <= hi; x += 1) {
        lines += "M" + X(x) + " " + top + "v" + (rowH - 6);
      }
      body.push("<path d='" + lines + "' stroke='#9DB9CC' stroke-width='0.5'/>");
    }
    var hatch = function (a, b, y) { /* hatching over pixels a…b of a bar at y */
      var path = "", step = Math.max(cell, 6);
      for (var t = X(a); t < X(b + 1) - 0.5; t += step) {
        path += "M" + Math.round(t * 100) / 100 + " " + (y + rowH - 6) + "l" +
          Math.round(Math.min(step, X(b + 1) - t) * 100) / 100 + " -" + (rowH - 6);
      }
      return path;
    };
    var ticks = [[lo, "start"], [0, "middle"], [i - 1, "middle"], [hi, "end"]], placed = [];
    var tickText = "";
    ticks.forEach(function (t) {
      var text = String(t[0]), w = textWidth(text, 10);
      var cx = X(t[0]) + cell / 2, left = t[1] === "start" ? X(t[0]) :
        t[1] === "end" ? X(t[0] + 1) - w : cx - w / 2;
      left = Math.max(x0, Math.min(left, width - m - w));
      if (placed.some(function (p) { return Math.abs(p - left) < w + 4; })) { return; }
      placed.push(left);
      tickText += "<text x='" + Math.round(left) + "' y='" + (top + rowH + 4) +
        "' text-anchor='start' font-size='10' fill='" + GREY + "'>" + esc(text) + "</text>";
    });
    body.push(tickText);
    var y;
    for (l = 0; l < drawn.length; l += 1) {
      var row = drawn[l], colour = FIELD[l], a = row.start, b = row.start + row.r - 1;
      y = top + (l + 1) * rowH + 10;
      body.push(label(m, y + 12, t("layer {n} {type}", {n: l + 1, type: rfType(row.type)}),
        " font-size='11' fill='" + colour + "' font-weight='bold'"));
      body.push(rect(X(a), y, X(b + 1) - X(a), rowH - 6, colour, colour,
        " fill-opacity='0.18' stroke-width='2'"));
      var out = "";
      if (a < 0) { out += hatch(a, Math.min(b, -1), y); }
      if (b > i - 1) { out += hatch(Math.max(a, i), b, y); }
      if (out) { body.push("<path d='" + out + "' stroke='" + colour + "' stroke-opacity='.6'/>"); }
    }
    var title = drawn.length === 1 ?
      t("Receptive fields of output 0 of 1 layer on an input of {i}", {i: i}) :
      t("Receptive fields of output 0 of {n} layers on an input of {i}", {n: drawn.length, i: i});
    var cellStyle = "padding:1px 6px;text-align:right;border-bottom:1px solid #ccc";
    var head = [t("layer"), t("size"), "r", "j", t("start"), t("output 0 sees")];
    head = head.map(function (h, n) {
      return "<th scope='col' style='" + cellStyle + (n ? "" : ";text-align:left") + "'>" + esc(h) +
        "</th>";
    }).join("");
    var body2 = rows.map(function (row, n) {
      var name = "<th scope='row' style='" + cellStyle + ";text-align:left;font-weight:normal'>" +
        "<b style='color:" + FIELD[n] + "'>" + (n + 1) + " " + esc(rfType(row.type)) +
        "</b> " +
        "<span style='white-space:nowrap'>k" + row.k + " s" + row.s + " p" + row.p + " d" +
        row.d + "</span></th>";
      if (row.error) {
        return "<tr class='convlab-rf-row' data-refused='1'>" + name + "<td colspan='5' " +
          "style='" + cellStyle + ";text-align:left;color:#A33B00'>" + row.n + "×" + row.n +
          " → " + esc(t("refused by PyTorch")) + "</td></tr>";
      }
      var cells = [row.n + "→" + row.o, row.r, row.j, row.start,
        row.start + "…" + (row.start + row.r - 1)];
      return "<tr class='convlab-rf-row' data-o='" + row.o + "' data-r='" + row.r + "' data-j='" +
        row.j + "' data-start='" + row.start + "'>" + name + cells.map(function (c) {
        return "<td style='" + cellStyle + "'>" + esc(c) + "</td>";
      }).join("") + "</tr>";
    }).join("");
    var table = "<table class='convlab-rf' style='border-collapse:collapse;margin:4px 0;" +
      "font-size:12px;color:#111;background:#fff'><thead><tr>" + head + "</tr></thead><tbody>" +
      body2 + "</tbody></table>";
    var caption;
    if (refused) {
      caption = t("Layer {l} ({type}) is refused on its {n}×{n} input; the fields of the " +
        "layers before it are drawn.", {l: refused, type: rfType(last.type), n: last.n});
    } else {
      var inPad = Math.max(0, -last.start) + Math.max(0, last.start + last.r - i);
      var seen = {l: rows.length, a: last.start, b: last.start + last.r - 1, r: last.r,
        j: last.j, start: last.start, out: Math.min(inPad, last.r), i: i};
      caption = inPad ?
        t("Output 0 of layer {l} sees input pixels {a}…{b}: r = {r}, j = {j}, start = {start} " +
          "({out} of them outside the {i} input pixels, in the padding).", seen) :
        t("Output 0 of layer {l} sees input pixels {a}…{b}: r = {r}, j = {j}, start = {start}.",
          seen);
    }
    caption = then(caption, t("Each layer: r grows by d(k−1)·j, start moves by −p·j, then j " +
      "becomes j·s. Max-pool and avg-pool have the same field arithmetic as a convolution with " +
      "the same k, s, p, d (PyTorch's avg-pool has no dilation). Bars: the field of output 0 " +
      "of each layer; hatched: the part outside the input (padding)."));
    var frame = frameText(q, ["i", "layers", "layer", "type", "k", "s", "p", "d"]) + " stack=" +
      q.stack.map(function (layer) { return layer.join(","); }).join(";");
    return { frame: frame,
      html: "<div style='background:#fff;color:#111;padding:2px 0'>" +
        svg(width, height, title, body.join(""), true) + table +
        (refused ? refusal(t("layer {l} ({type}, on its {n}×{n} input): {error}",
          {l: refused, type: rfType(last.type), n: last.n, error: last.error}),
          last.torch) : "") +
        "<p class='convlab-caption' style='" + TEXT + "'>" + esc(caption) + "</p></div>",
      state: rows };
  }

  /**
   * Keeps the receptive field explorer's layers (memory.stack) and its sliders in step: the
   * type/k/s/p/d sliders show the edited layer; moving them changes that layer; choosing another
   * layer loads its values. The edited layer snaps to the last layer shown. set(name, value)
   * moves a slider (and q) without another update.
   */
  function syncRf(q, spec, memory, set) {
    if (!memory.stack) {
      memory.stack = spec.stack.map(function (layer) { return layer.slice(); });
      memory.layer = q.layer;
    }
    if (q.layer > q.layers) { set("layer", q.layers); }
    var names = ["type", "k", "s", "p", "d"], n;
    if (q.layer !== memory.layer) {
      var layer = memory.stack[q.layer - 1];
      for (n = 0; n < names.length; n += 1) { set(names[n], layer[n]); }
      memory.layer = q.layer;
    } else {
      memory.stack[q.layer - 1] = names.map(function (name) { return q[name]; });
    }
    q.stack = memory.stack.slice(0, q.layers).map(function (l) { return l.slice(); });
  }

  function frameText(q, names) {
    return names.map(function (name) { return name + "=" + q[name]; }).join(" ");
  }

  /** Largest valid value for the position sliders of an explorer (snap), per kind. */
  function lastCell(q) {
    var st = conv(q.i, q.k, q.s, q.p, q.d);
    return { row: Math.max(st.o - 1, 0), col: Math.max(st.o - 1, 0) };
  }
  var LIMITS = { conv: lastCell, gradient: lastCell };
  var SYNC = { rf: syncRf };
  var DRAW = { conv: drawConv, transposed: drawTransposed, gradient: drawGradient,
    channels: drawChannels, image: drawImage, rf: drawRf };

  /* ---------------------------------------------------------------- binding to sliders */

  function sliderOf(rootEl, name) {
    var box = rootEl.querySelector(".convlab-slider-" + name);
    var target = box && box.querySelector(".slider");
    return target && target.noUiSlider ? { box: box, api: target.noUiSlider } : null;
  }

  function bind(picture) {
    var rootEl = picture.closest(".convlab-explorer");
    if (!rootEl) { return false; }
    var spec = JSON.parse(picture.getAttribute("data-spec"));
    var sliders = {};
    for (var name in spec.values) {
      if (spec.values[name].length < 2) { continue; }
      var found = sliderOf(rootEl, name);
      if (!found) { return false; } /* not rendered yet */
      sliders[name] = found;
    }
    picture.setAttribute("data-bound", "1");
    var busy = false, tallest = 0, memory = {};
    function values() {
      var q = {};
      for (var key in spec.values) {
        var options = spec.values[key];
        q[key] = sliders[key] ? options[Math.round(Number(sliders[key].api.get()))] : options[0];
      }
      return q;
    }
    function update() {
      if (busy) { return; }
      busy = true;
      try {
        var q = values();
        q.width = picture.clientWidth;
        if (SYNC[spec.kind]) {
          SYNC[spec.kind](q, spec, memory, function (name, value) {
            if (sliders[name]) { sliders[name].api.set(spec.values[name].indexOf(value)); }
            q[name] = value;
          });
        }
        var limits = LIMITS[spec.kind] ? LIMITS[spec.kind](q) : {};
        for (var key in limits) { /* a position past the output snaps back to its last cell */
          if (sliders[key] && q[key] > limits[key]) {
            sliders[key].api.set(spec.values[key].indexOf(limits[key]));
            q[key] = limits[key];
          }
        }
        STRINGS = spec.strings || {};
        var drawn = DRAW[spec.kind](q, spec);
        picture.setAttribute("data-frame", drawn.frame);
        picture.innerHTML = drawn.html;
        /* never shrink while the reader explores: a shorter page would scroll, and the sliders
         * would move under the pointer */
        tallest = Math.max(tallest, picture.offsetHeight);
        picture.style.minHeight = tallest + "px";
        for (key in sliders) { /* the readout shows the value, read-only; so does the handle */
          var readout = sliders[key].box.querySelector(".widget-readout");
          var handle = sliders[key].box.querySelector(".noUi-handle");
          var shown = key === "type" ? rfType(q[key]) : String(q[key]); /* a layer type's name */
          if (readout) {
            readout.textContent = shown;
            readout.contentEditable = "false";
          }
          if (handle) { handle.setAttribute("aria-valuetext", shown); }
        }
      } finally {
        busy = false;
      }
    }
    for (var key in sliders) { sliders[key].api.on("update.convlab", update); }
    if (spec.kind === "rf" && self.addEventListener) { /* drawn as wide as its box */
      self.addEventListener("resize", function () {
        if (picture.isConnected) {
          tallest = 0;
          picture.style.minHeight = "";
          update();
        }
      });
    }
    update();
    return true;
  }

  function bindAll(doc) {
    var pictures = doc.querySelectorAll(".convlab-js-picture:not([data-bound])");
    for (var n = 0; n < pictures.length; n += 1) { bind(pictures[n]); }
  }

  function start(doc) {
    if (!doc || !doc.body) { return; }
    var pending = false;
    new MutationObserver(function () {
      if (pending) { return; }
      pending = true;
      (self.requestAnimationFrame || setTimeout)(function () { pending = false; bindAll(doc); });
    }).observe(doc.body, { childList: true, subtree: true });
    bindAll(doc);
  }

  return { exampleInput: exampleInput, exampleKernel: exampleKernel, pad: pad, conv: conv,
    convTerms: convTerms, drawConv: drawConv,
    transposed: transposed, drawTransposed: drawTransposed, gradient: gradient,
    drawGradient: drawGradient, channels: channels, drawChannels: drawChannels,
    imageConv: imageConv, imageGray: imageGray, roundEven: roundEven, rfStep: rfStep,
    rfStack: rfStack, drawRf: drawRf, syncRf: syncRf, limits: LIMITS,
    start: start };
});
