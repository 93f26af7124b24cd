/* A form's error summary ([data-error-summary]) takes focus when the page loads, so a screen
 * reader reads it and a phone shows it; each of its links moves the focus to its field. */
(function () {
  "use strict";

  function focusField(event) {
    var id = decodeURIComponent(this.hash.slice(1));
    var target = document.getElementById(id);
    if (!target) {
      return;
    }
    event.preventDefault();
    var label = document.querySelector('label[for="' + id + '"]');
    (label || target).scrollIntoView({ block: "center", behavior: "instant" });
    if (typeof target.focus === "function") {
      if (!target.matches("input, select, textarea, button, a, [tabindex]")) {
        target.setAttribute("tabindex", "-1");
      }
      target.focus({ preventScroll: true });
    }
  }

  function setUp() {
    var summary = document.querySelector("[data-error-summary]");
    if (!summary) {
      return;
    }
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", focusField);
    });
    summary.scrollIntoView({ block: "start", behavior: "instant" });
    summary.focus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
