/* ConvLab site glue (served by the site itself, no CDN).
 *
 * ipywidgets 8 typesets widget labels with the MathJax 2 API (MathJax.Hub.Queue); the site
 * uses MathJax 3, so without this shim every slider logs
 * "Cannot read properties of undefined (reading 'Queue')". Map the old call onto
 * MathJax 3's typesetPromise, waiting for MathJax to finish starting up.
 */
(function () {
  "use strict";
  function typeset(element) {
    var mj = window.MathJax;
    if (!mj || !mj.startup || !mj.startup.promise) { return; }
    /* Chained into MathJax.startup.promise: MathJax typesets one call at a time (two at once
     * can leave formulas half processed), and whoever waits for it waits for these too. */
    mj.startup.promise = mj.startup.promise
      .then(function () { return mj.typesetPromise(element ? [element] : undefined); })
      .catch(function () { /* a label that is not math: nothing to do */ });
  }
  function install() {
    var mj = window.MathJax;
    if (!mj || mj.Hub) { return; }
    mj.Hub = {
      Queue: function () {
        for (var i = 0; i < arguments.length; i += 1) {
          var job = arguments[i];
          if (Array.isArray(job) && job[0] === "Typeset") { typeset(job[2]); }
        }
      }
    };
  }
  install();
  document.addEventListener("DOMContentLoaded", install);

  /* Widgets render as soon as the page is parsed. The widget manager (html-manager's embed.js)
   * renders them at window "load", which waits for every image and font of the page; the
   * widget state it reads is in the HTML, so DOMContentLoaded is enough (0.3-1 s earlier).
   * While embed.js runs, its one "load" listener is caught (recognised by the script that
   * registers it) and run at DOMContentLoaded instead; every other listener is untouched. */
  var addListener = window.addEventListener;
  function renderAtDomReady(type, listener, options) {
    var script = document.currentScript;
    if (type === "load" && typeof listener === "function" && script
        && /\/html-manager\/embed\.js(\?|$)/.test(script.src)) {
      delete window.addEventListener;
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", function () { listener.call(window); });
      } else {
        listener.call(window);
      }
      return undefined;
    }
    return addListener.call(this, type, listener, options);
  }
  window.addEventListener = renderAtDomReady;
  document.addEventListener("DOMContentLoaded", function () {
    if (window.addEventListener === renderAtDomReady) { delete window.addEventListener; }
  });

  /* No layout shift while MathJax typesets: a formula's TeX source is wider or narrower than
   * the typeset formula, so the first screen's text re-wraps when MathJax replaces it (CLS
   * 0.16 on chapter 5). The article stays hidden (convlab.css) until MathJax has typeset the
   * formulas on and near the first screen, or for at most TYPESET_WAIT_MS if MathJax is slow
   * or missing; without JavaScript the class is never set and the article shows at once.
   * MathJax does not typeset the page by itself (startup.typeset is false, set in
   * convlab_site.py): the formulas near the screen come first, the article is shown, then
   * the rest are typeset — their re-wrapping happens off screen, where it moves nothing a
   * reader sees. The chain is MathJax.startup.promise, so code that waits for it (the label
   * shim above, fitFormulas below, the browser tests) waits for every formula. */
  var TYPESET_WAIT_MS = 3000;
  var root = document.documentElement;
  function reveal() { root.classList.remove("convlab-typesetting"); }
  root.classList.add("convlab-typesetting");
  window.setTimeout(reveal, TYPESET_WAIT_MS);
  /* The page's formulas (Sphinx marks each with the class "math"), split into those on and
   * near the screen and the rest. Each is typeset once: typesetting the whole page a second
   * time would make MathJax's MathML input typeset the hidden MathML that the first pass
   * added for screen readers. */
  function formulas(nearScreen) {
    var margin = window.innerHeight / 2;
    return Array.prototype.filter.call(document.querySelectorAll(".math"), function (el) {
      var box = el.getBoundingClientRect();
      var near = el.closest(".bd-article") !== null && box.bottom > -margin
        && box.top < window.innerHeight + margin && box.height > 0;
      return near === nearScreen;
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    var mj = window.MathJax;
    if (!mj || !mj.startup || !mj.startup.promise) { reveal(); return; }
    var rest = [];
    mj.startup.promise = mj.startup.promise
      .then(function () {  /* a task later: the widgets' DOMContentLoaded listener goes first */
        return new Promise(function (resolve) { window.setTimeout(resolve, 0); });
      })
      .then(function () {
        var first = formulas(true);
        rest = formulas(false);
        return first.length ? mj.typesetPromise(first) : null;
      })
      .then(reveal, reveal)
      .then(function () { return rest.length ? mj.typesetPromise(rest) : null; });
  });

  /* Accessible sliders: ipywidgets' slider handle carries no label, and a SelectionSlider
   * announces the option's index ("0") instead of its value ("1"). Give each handle the
   * slider's label and the value its readout shows, and keep them in sync. */
  function labelSliders() {
    var boxes = document.querySelectorAll(".widget-slider");
    for (var i = 0; i < boxes.length; i += 1) {
      var handle = boxes[i].querySelector(".noUi-handle");
      var label = boxes[i].querySelector(".widget-label");
      var readout = boxes[i].querySelector(".widget-readout");
      if (!handle) { continue; }
      if (label && label.textContent.trim()) {
        handle.setAttribute("aria-label", label.textContent.trim());
      }
      if (readout && readout.textContent.trim()) {
        handle.setAttribute("aria-valuetext", readout.textContent.trim());
      }
      /* A SelectionSlider's readout accepts typing but ignores it: keep it read-only so it
       * always shows the value the picture uses. */
      if (readout && readout.isContentEditable) { readout.contentEditable = "false"; }
    }
  }
  /* Explorers announce what they show: when a slider changes the frame, the caption of the
   * frame now on screen is read out politely. An explorer that has its own live region
   * (an element with aria-live inside .convlab-explorer) is left alone. */
  function visibleCaption(explorer) {
    /* A page-drawn explorer's caption (.convlab-caption) says what the frame shows; the
     * figcaptions of frame explorers (and the image explorer's "input 64×75") come second. */
    var selectors = [".convlab-caption", "figcaption"];
    for (var s = 0; s < selectors.length; s += 1) {
      var captions = explorer.querySelectorAll(selectors[s]);
      for (var i = 0; i < captions.length; i += 1) {
        if (captions[i].offsetParent !== null && captions[i].textContent.trim()) {
          return captions[i].textContent.trim();
        }
      }
    }
    return "";
  }
  function announceFrames() {
    var explorers = document.querySelectorAll(".convlab-explorer");
    for (var i = 0; i < explorers.length; i += 1) {
      var explorer = explorers[i];
      var region = explorer.querySelector(".convlab-announcer");
      if (!region) {
        if (explorer.querySelector("[aria-live]")) { continue; }
        region = document.createElement("p");
        region.className = "convlab-announcer convlab-sr-only";
        region.setAttribute("aria-live", "polite");
        explorer.appendChild(region);
        region.setAttribute("data-caption", visibleCaption(explorer));
        continue;  /* the first frame is on the page already: nothing to announce */
      }
      var caption = visibleCaption(explorer);
      if (caption && caption !== region.getAttribute("data-caption")) {
        region.setAttribute("data-caption", caption);
        region.textContent = caption;
      }
    }
  }
  /* Formulas fit the column on a phone: a formula wider than its line is typeset smaller
   * (down to 60 %); one that still does not fit scrolls, and then takes keyboard focus so
   * that keyboard users can scroll it too (otherwise formulas are not Tab stops). */
  function fitFormulas() {
    /* Measure every formula, then change them: measuring right after a change forces the
     * browser to lay the whole page out again, once per formula (about 1 s on chapter 4,
     * while its widgets were rendering). Here the page is laid out twice in all. */
    var formulas = Array.prototype.slice.call(
      document.querySelectorAll(".bd-article mjx-container"));
    var i;
    for (i = 0; i < formulas.length; i += 1) {
      if (formulas[i].style.fontSize) { formulas[i].style.fontSize = ""; }
    }
    var scales = formulas.map(function (el) {
      var display = el.getAttribute("display") === "true";
      var room = display ? el.clientWidth : el.parentElement.clientWidth;
      var need = display ? el.scrollWidth : el.getBoundingClientRect().width;
      return room > 0 && need > room + 1 ? Math.max(0.6, room / need) : 0;
    });
    for (i = 0; i < formulas.length; i += 1) {
      if (scales[i]) { formulas[i].style.fontSize = (scales[i] * 100).toFixed(1) + "%"; }
    }
    var scrolls = formulas.map(function (el) {
      return el.getAttribute("display") === "true" && el.scrollWidth > el.clientWidth + 1;
    });
    for (i = 0; i < formulas.length; i += 1) {
      if (scrolls[i]) {
        formulas[i].setAttribute("tabindex", "0");
      } else if (formulas[i].getAttribute("tabindex") === "0") {
        formulas[i].removeAttribute("tabindex");
      }
    }
  }
  function whenTypeset() {
    var mj = window.MathJax;
    if (mj && mj.startup && mj.startup.promise) { mj.startup.promise.then(fitFormulas); }
  }
  window.addEventListener("load", whenTypeset);
  window.addEventListener("resize", function () {
    window.requestAnimationFrame(fitFormulas);
  });

  var pending = false;
  function schedule() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () {
      pending = false;
      labelSliders();
      announceFrames();
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    new MutationObserver(schedule).observe(document.body,
      { childList: true, subtree: true, characterData: true, attributes: true,
        attributeFilter: ["contenteditable"] });
    schedule();
  });
})();
