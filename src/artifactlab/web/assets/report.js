// artifactlab report: draw the embedded Plotly figures and make every table sortable.
//
// The page embeds {"figures": {ID: {"data": [...], "layout": {...}}}} in <script id="data">;
// each <div data-figure="ID"> becomes one Plotly plot (hover shows each point's text).
// Clicking a table header (or Enter/Space on it) sorts the table by that column: numbers
// by value (a cell's data-value, else its text without thousands separators), text
// alphabetically, empty cells last; a second click reverses the order.
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("data").textContent);

  function drawFigures() {
    var divs = document.querySelectorAll("[data-figure]");
    Array.prototype.forEach.call(divs, function (div) {
      var spec = data.figures[div.getAttribute("data-figure")];
      if (!spec) {
        return;
      }
      Plotly.newPlot(div, spec.data, spec.layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["sendDataToCloud"],
      });
    });
  }

  // the sort key of a cell: [0, number], [1, text] or [2, ""] for an empty cell
  function sortKey(td) {
    if (!td) {
      return [2, ""];
    }
    var raw = td.hasAttribute("data-value") ? td.getAttribute("data-value") : td.textContent;
    raw = raw.trim();
    if (raw === "" || raw === "None" || raw === "n/a") {
      return [2, ""];
    }
    var plain = raw.replace(/,/g, "");
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(plain)) {
      return [0, parseFloat(plain)];
    }
    return [1, raw.toLowerCase()];
  }

  function compare(a, b) {
    if (a[0] !== b[0]) {
      return a[0] - b[0];
    }
    if (a[1] < b[1]) {
      return -1;
    }
    return a[1] > b[1] ? 1 : 0;
  }

  function sortTable(table, column, th) {
    var body = table.tBodies[0];
    var descending = th.getAttribute("aria-sort") === "ascending";
    var rows = Array.prototype.slice.call(body.rows).map(function (row, i) {
      return { row: row, key: sortKey(row.cells[column]), index: i };
    });
    rows.sort(function (a, b) {
      var c = compare(a.key, b.key);
      if (descending && a.key[0] !== 2 && b.key[0] !== 2) {
        c = -c;
      }
      return c !== 0 ? c : a.index - b.index;
    });
    rows.forEach(function (r) {
      body.appendChild(r.row);
    });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  }

  function makeSortable(table) {
    if (!table.tHead || !table.tBodies.length) {
      return;
    }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, column) {
      th.tabIndex = 0;
      th.title = "sort by this column";
      th.addEventListener("click", function () {
        sortTable(table, column, th);
      });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          sortTable(table, column, th);
        }
      });
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), makeSortable);
  drawFigures();
})();
