/* ConvLab site glue (served by the site itself, no CDN).
 *
 * Formulas are typeset when the site is built (book/_ext/convlab_site.py): the pages load no
 * MathJax, and ipywidgets' label typesetting (MathJax.Hub.Queue) does nothing without it.
 */
(function () {
  "use strict";

  /* Widgets render as soon as the page is parsed. The widget manager (html-manager's embed.js)
   * renders them at window "load", which waits for every image and font of the page; the
   * widget state it reads is in the HTML, so DOMContentLoaded is enough (0.2-0.4 s earlier).
   * While embed.js runs, the "load" listeners it registers (recognised by the script that
   * registers them) are run at DOMContentLoaded instead: its renderer and jQuery's ready
   * handler, which jQuery registers for DOMContentLoaded as well and runs once. Listeners of
   * every other script are untouched; after DOMContentLoaded nothing is redirected. */
  var addListener = window.addEventListener;
  function renderAtDomReady(type, listener, options) {
    var script = document.currentScript;
    if (type === "load" && typeof listener === "function" && script
        && /\/html-manager\/embed\.js(\?|$)/.test(script.src)) {
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
     * browser to lay the whole page out again, once per formula (about 1 s on chapter 4).
     * Here the page is laid out twice in all. */
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
  document.addEventListener("DOMContentLoaded", fitFormulas);
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
