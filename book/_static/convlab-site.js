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
})();
