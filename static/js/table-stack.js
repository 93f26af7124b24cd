/* Tables that stack on a phone (table.table-stack, static/css/app.css): each cell shows its
 * column's name before its value. A cell that names its column itself (data-label) keeps it;
 * the others take their column header's text, so a template need not repeat every heading. */
(function () {
  "use strict";

  function headerText(cell) {
    return (cell.innerText || cell.textContent || "").replace(/[▲▼]/g, "").replace(/\s+/g, " ").trim();
  }

  function label(table) {
    var headRow = table.tHead && table.tHead.rows[0];
    if (!headRow) {
      return;
    }
    var names = [];
    Array.prototype.forEach.call(headRow.cells, function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) {
        names.push(headerText(cell));
      }
    });
    var rows = [];
    Array.prototype.forEach.call(table.tBodies, function (body) {
      rows.push.apply(rows, body.rows);
    });
    if (table.tFoot) {
      rows.push.apply(rows, table.tFoot.rows);
    }
    rows.forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        var span = cell.colSpan || 1;
        // A cell across the whole row ("No plans match.") needs no column name.
        if (span < names.length && !cell.hasAttribute("data-label") && names[column]) {
          cell.setAttribute("data-label", names[column]);
        }
        column += span;
      });
    });
  }

  function setUp() {
    document.querySelectorAll("table.table-stack").forEach(label);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
