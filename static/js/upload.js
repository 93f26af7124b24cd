/* The KPI upload pages.
 * - Mapping step: show only the KPI fields of the chosen layout (wide or long). Without
 *   JavaScript both sets stay visible and the form still works.
 * - Load page: poll the load's status (data-status-url) and move the progress bar; reload the
 *   page when the load has finished, to show its result. */
(function () {
  "use strict";

  // The page's language, from Django's JavaScript catalog (base.html loads it first).
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (key) { return values[key.slice(2, -2)]; });
  };

  function setUpLayoutSwitch() {
    var radios = document.querySelectorAll('input[name="layout"]');
    var sets = document.querySelectorAll("[data-layout]");
    if (!radios.length || !sets.length) {
      return;
    }
    function apply() {
      var checked = document.querySelector('input[name="layout"]:checked');
      var layout = checked ? checked.value : "";
      sets.forEach(function (set) {
        set.hidden = layout !== "" && set.getAttribute("data-layout") !== layout;
      });
    }
    radios.forEach(function (radio) {
      radio.addEventListener("change", apply);
    });
    apply();
  }

  function setUpProgress() {
    var block = document.querySelector("[data-load-progress]");
    if (!block) {
      return;
    }
    var url = block.getAttribute("data-status-url");
    var bar = block.querySelector("progress");
    var text = block.querySelector("[data-progress-text]");
    var failures = 0;

    function poll() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) {
            throw new Error("status " + response.status);
          }
          return response.json();
        })
        .then(function (data) {
          failures = 0;
          bar.value = data.percent;
          bar.textContent = data.percent + " %";
          if (text) {
            text.textContent = interpolate(
              gettext("%(status)s: %(percent)s (%(loaded)s of %(total)s values)."),
              {
                status: data.status_label,
                percent: data.percent + " %",
                loaded: data.rows_loaded,
                total: data.rows_total,
              },
              true
            );
          }
          if (data.done) {
            window.location.reload();
          } else {
            window.setTimeout(poll, 1000);
          }
        })
        .catch(function () {
          failures += 1;
          if (text && failures > 3) {
            text.textContent = gettext(
              "The progress cannot be read just now; reload the page later."
            );
          }
          window.setTimeout(poll, Math.min(10000, 1000 * (failures + 1)));
        });
    }
    window.setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpLayoutSwitch();
    setUpProgress();
  });
})();
