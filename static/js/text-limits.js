// Text limits, shown as the user types. A field with data-limit gets a counter under it; past
// the limit the counter turns red and says by how much. Nothing is ever cut: the browser's own
// maxlength (which silently drops what is pasted beyond it) is not used, and the server refuses
// an overlong text with a message at its field.
(function () {
  "use strict";
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  };

  function counterFor(field) {
    var limit = parseInt(field.getAttribute("data-limit"), 10);
    if (!limit || field.type === "hidden" || field.disabled) {
      return;
    }
    var counter = document.createElement("div");
    counter.className = "form-text text-limit";
    counter.setAttribute("aria-live", "polite");
    if (field.id) {
      counter.id = field.id + "-limit";
      var described = field.getAttribute("aria-describedby");
      field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);
    }
    field.insertAdjacentElement("afterend", counter);

    function update() {
      var used = field.value.length;
      var over = used - limit;
      if (over > 0) {
        counter.textContent = interpolate(
          ngettext(
            "%(used)s / %(limit)s characters: %(over)s too many. Shorten the text; it is not saved while it is too long.",
            "%(used)s / %(limit)s characters: %(over)s too many. Shorten the text; it is not saved while it is too long.",
            over
          ),
          { used: used, limit: limit, over: over },
          true
        );
        counter.classList.add("text-danger", "fw-semibold");
        field.classList.add("is-invalid");
      } else {
        counter.textContent = interpolate(
          gettext("%(used)s / %(limit)s characters"), { used: used, limit: limit }, true
        );
        counter.classList.remove("text-danger", "fw-semibold");
        if (!field.dataset.serverInvalid) {
          field.classList.remove("is-invalid");
        }
      }
    }
    if (field.classList.contains("is-invalid")) {
      field.dataset.serverInvalid = "1";
    }
    field.addEventListener("input", update);
    update();
  }

  function setUp(root) {
    root.querySelectorAll("input[data-limit], textarea[data-limit]").forEach(counterFor);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUp(document);
    // Rows added by the formset script come from a <template>: give them counters too.
    new MutationObserver(function (changes) {
      changes.forEach(function (change) {
        change.addedNodes.forEach(function (node) {
          if (node.nodeType === 1) {
            if (node.matches && node.matches("[data-limit]") && !node.nextElementSibling?.classList.contains("text-limit")) {
              counterFor(node);
            } else if (node.querySelectorAll) {
              node.querySelectorAll("input[data-limit], textarea[data-limit]").forEach(function (f) {
                var next = f.nextElementSibling;
                if (!next || !next.classList.contains("text-limit")) {
                  counterFor(f);
                }
              });
            }
          }
        });
      });
    }).observe(document.body, { childList: true, subtree: true });
  });
})();
