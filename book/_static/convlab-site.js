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
    if (!mj || typeof mj.typesetPromise !== "function") { return; }
    var ready = mj.startup && mj.startup.promise ? mj.startup.promise : Promise.resolve();
    ready.then(function () { return mj.typesetPromise(element ? [element] : undefined); })
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
  var pending = false;
  function schedule() {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; labelSliders(); });
  }
  document.addEventListener("DOMContentLoaded", function () {
    new MutationObserver(schedule).observe(document.body,
      { childList: true, subtree: true, characterData: true, attributes: true,
        attributeFilter: ["contenteditable"] });
    schedule();
  });
})();
