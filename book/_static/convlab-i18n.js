/* ConvLab language switcher (book/_ext/convlab_i18n.py renders the links).
 *
 * A link to the same page in another language keeps the section the reader is on: its href
 * gets the page's current #anchor (section ids are the same in every edition). Without
 * JavaScript the link still leads to the top of the same page. */
(function () {
  "use strict";
  function syncAnchors() {
    var links = document.querySelectorAll("a.convlab-language-link");
    for (var i = 0; i < links.length; i += 1) {
      var href = links[i].getAttribute("href").split("#")[0];
      links[i].setAttribute("href", href + window.location.hash);
    }
  }
  document.addEventListener("DOMContentLoaded", syncAnchors);
  /* sphinx-togglebutton's buttons have an English aria-label written by its script; in a
   * translated edition the page says which (CONVLAB_TOGGLE_LABEL = [English, translation]). */
  window.addEventListener("load", function () {
    var label = window.CONVLAB_TOGGLE_LABEL;
    if (!label) { return; }
    var buttons = document.querySelectorAll("button.toggle-button");
    for (var i = 0; i < buttons.length; i += 1) {
      if (buttons[i].getAttribute("aria-label") === label[0]) {
        buttons[i].setAttribute("aria-label", label[1]);
      }
    }
  });
  window.addEventListener("hashchange", syncAnchors);
  /* An in-page link or scroll-spy may change the hash without a hashchange event. */
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a.convlab-language-link") : null;
    if (link) { syncAnchors(); }
  }, true);
})();
