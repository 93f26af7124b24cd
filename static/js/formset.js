/*
 * Rows added and removed in place on the plan and template forms.
 *
 * Without this file the pages still work: each section has a blank row to fill, a "Remove this
 * row" box on each row and an add button that posts back for one more blank row. With it, the
 * add button clones the formset's empty form, the remove box becomes a button, a KPI row shows
 * the agent's current value as soon as its KPI is chosen, a deadline shows only the inputs its
 * kind needs, and the midpoint date is suggested from the period.
 */
(function () {
  "use strict";

  // The page's language, from Django's JavaScript catalog (base.html loads it first).
  var gettext = window.gettext || function (text) { return text; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (key) { return values[key.slice(2, -2)]; });
  };

  var kpiData = {};
  var dataNode = document.getElementById("kpi-data");
  if (dataNode) {
    try {
      kpiData = JSON.parse(dataNode.textContent) || {};
    } catch (e) {
      kpiData = {};
    }
  }

  function wrapperOf(input) {
    return input.closest(".mb-3") || input.closest(".form-check") || input.parentElement;
  }

  function helpFor(input) {
    var row = wrapperOf(input);
    return row ? row.querySelector(".form-text") : null;
  }

  // --- a KPI row: current value and target placeholder -------------------------------------
  function toggle(row, selector, hide) {
    row.querySelectorAll(selector).forEach(function (node) {
      node.hidden = hide;
    });
  }

  function updateKpi(select) {
    var row = select.closest("[data-formset-row]");
    if (!row) return;
    // A row with a KPI has a comparator and a target; one without, a standard in words.
    toggle(row, ".kpi-only", !select.value);
    toggle(row, ".qualitative-only", !!select.value);
    var info = kpiData[select.value];
    var current = row.querySelector("[data-current]");
    if (current) {
      current.value = select.value ? (info && info.current) || "no data" : "—";
      var help = helpFor(current);
      if (help) help.textContent = (info && info.window) || "";
    }
    var target = row.querySelector('input[name$="-target"]');
    if (target && info) {
      target.placeholder = info.unit === "seconds" ? "m:ss, e.g. 5:00" : info.unit === "percent" ? "e.g. 85" : "a number";
    }
  }

  // --- an action row: the inputs its kind of deadline needs --------------------------------
  function updateDeadline(select) {
    var row = select.closest("[data-formset-row]");
    if (!row) return;
    var date = row.querySelector(".deadline-date");
    var days = row.querySelector(".deadline-days");
    if (date) date.hidden = select.value !== "date";
    if (days) days.hidden = select.value !== "recurring";
  }

  // --- remove -------------------------------------------------------------------------------
  function initRow(row) {
    var box = row.querySelector("[data-formset-delete]");
    if (box && !row.querySelector("[data-formset-remove]")) {
      var holder = wrapperOf(box);
      holder.hidden = true;
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-link btn-sm text-danger px-0 mb-2";
      button.textContent = gettext("Remove this row");
      button.setAttribute("data-formset-remove", "");
      holder.parentNode.insertBefore(button, holder.nextSibling);
      button.addEventListener("click", function () {
        box.checked = true;
        row.hidden = true;
      });
      if (box.checked) row.hidden = true;
    }
    row.querySelectorAll("[data-kpi-select]").forEach(function (select) {
      toggle(row, ".kpi-only", !select.value);
      toggle(row, ".qualitative-only", !!select.value);
      select.addEventListener("change", function () {
        updateKpi(select);
      });
    });
    row.querySelectorAll("[data-deadline-kind]").forEach(function (select) {
      updateDeadline(select);
      select.addEventListener("change", function () {
        updateDeadline(select);
      });
    });
  }

  // --- add ----------------------------------------------------------------------------------
  function isBlank(row) {
    var fields = row.querySelectorAll("input, select, textarea");
    return Array.prototype.every.call(fields, function (field) {
      if (field.disabled || field.type === "hidden") return true;
      if (field.type === "checkbox" || field.type === "radio") return !field.checked;
      if (field.tagName === "SELECT") return field.selectedIndex <= 0;
      return field.value === "";
    });
  }

  function initFormset(container) {
    var prefix = container.getAttribute("data-formset");
    var total = container.querySelector('input[name="' + prefix + '-TOTAL_FORMS"]');
    var initial = container.querySelector('input[name="' + prefix + '-INITIAL_FORMS"]');
    var max = container.querySelector('input[name="' + prefix + '-MAX_NUM_FORMS"]');
    var rows = container.querySelector("[data-formset-rows]");
    var empty = container.querySelector("template[data-formset-empty]");
    var add = container.querySelector("[data-formset-add]");
    // The blank rows at the end are for browsers without scripts; here the add button gives
    // a fresh one, so untouched ones go (and the count with them, keeping indexes in order).
    var existing = rows.querySelectorAll("[data-formset-row]");
    var keep = parseInt(initial && initial.value, 10) || 0;
    for (var i = existing.length - 1; i >= keep && total; i--) {
      if (!isBlank(existing[i])) break;
      existing[i].remove();
      total.value = String(parseInt(total.value, 10) - 1);
    }
    rows.querySelectorAll("[data-formset-row]").forEach(initRow);
    if (!total || !empty || !add) return;
    add.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10) || 0;
      if (max && index >= parseInt(max.value, 10)) {
        add.disabled = true;
        return;
      }
      var html = empty.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      initRow(row);
      var first = row.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
      if (first) first.focus();
    });
  }

  // --- the midpoint, suggested at the middle of the period ----------------------------------
  function initPeriod() {
    var start = document.querySelector('input[name="period_start"]');
    var end = document.querySelector('input[name="period_end"]');
    var midpoint = document.querySelector('input[name="midpoint_date"]');
    if (!start || !end || !midpoint) return;
    function suggest() {
      var from = start.valueAsDate;
      var to = end.valueAsDate;
      if (!from || !to || to <= from) return;
      var days = Math.round((to - from) / 86400000);
      var middle = new Date(from.getTime() + Math.floor(days / 2) * 86400000);
      var text = middle.toISOString().slice(0, 10);
      var help = helpFor(midpoint);
      if (help) {
        help.textContent = interpolate(
          gettext("Required when the period is over 30 days. Suggested: %(date)s, the middle of the period."),
          { date: text },
          true
        );
      }
      if (days > 30 && !midpoint.value) midpoint.value = text;
    }
    start.addEventListener("change", suggest);
    end.addEventListener("change", suggest);
  }

  document.querySelectorAll("[data-formset]").forEach(initFormset);
  initPeriod();
})();
