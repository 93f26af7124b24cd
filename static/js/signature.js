/* Drawn signatures. Each [data-signature-pad] block holds a canvas; this turns it into a
 * signature pad (pointer events: mouse, pen and touch) and keeps the drawing in the form's hidden
 * input (data-input names its id) as a PNG data URL. The block is hidden in the markup and shown
 * only here, so without JavaScript the typed name alone signs. */
(function () {
  "use strict";

  // The page's language, from Django's JavaScript catalog (base.html loads it first).
  var gettext = window.gettext || function (text) { return text; };

  function setUp(block) {
    var input = document.getElementById(block.getAttribute("data-input"));
    var canvas = block.querySelector("canvas");
    var clearButton = block.querySelector("[data-signature-clear]");
    var status = block.querySelector("[data-signature-status]");
    // The page may include this script once per pad; each pad is set up once.
    if (!input || !canvas || typeof window.SignaturePad !== "function" || block.dataset.ready) {
      return;
    }
    block.dataset.ready = "1";
    block.hidden = false;
    var pad = new window.SignaturePad(canvas, {
      penColor: "#0b2e59",
      minWidth: 0.7,
      maxWidth: 2.6,
    });

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    function save() {
      if (pad.isEmpty()) {
        input.value = "";
        say(gettext("Nothing drawn yet."));
      } else {
        input.value = pad.toDataURL("image/png");
        say(gettext("Signature drawn."));
      }
    }

    function restore(url) {
      pad.fromDataURL(url, {
        ratio: 1,
        width: canvas.offsetWidth,
        height: canvas.offsetHeight,
      }).then(function () {
        say(gettext("Signature drawn."));
      });
    }

    // The canvas is sized in CSS; its drawing buffer follows the screen's pixel density, so
    // strokes stay sharp, and keeps what was drawn when the window is resized.
    function fit() {
      var ratio = Math.max(window.devicePixelRatio || 1, 1);
      var strokes = pad.toData();
      canvas.width = canvas.offsetWidth * ratio;
      canvas.height = canvas.offsetHeight * ratio;
      canvas.getContext("2d").scale(ratio, ratio);
      pad.clear();
      if (strokes.length) {
        pad.fromData(strokes);
      } else if (input.value) {
        restore(input.value);
      }
    }

    fit();
    window.addEventListener("resize", fit);
    pad.addEventListener("endStroke", save);
    if (clearButton) {
      clearButton.addEventListener("click", function () {
        pad.clear();
        save();
      });
    }
    if (input.form) {
      input.form.addEventListener("submit", function () {
        if (pad.toData().length) {
          save();
        }
      });
    }
  }

  function start() {
    var blocks = document.querySelectorAll("[data-signature-pad]");
    for (var i = 0; i < blocks.length; i += 1) {
      setUp(blocks[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
