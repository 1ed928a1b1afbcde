// Optional filtering for long tables: a table with data-filter gets a search box. The page works
// the same without this script; it only hides rows that do not match what the reader types.
(function () {
  "use strict";
  document.querySelectorAll("table[data-filter]").forEach(function (table, i) {
    var label = document.createElement("label");
    label.className = "filter";
    label.textContent = "Filter rows: ";
    var input = document.createElement("input");
    input.type = "search";
    input.id = "filter-" + i;
    input.setAttribute("aria-controls", table.id || "");
    label.appendChild(input);
    table.parentNode.insertBefore(label, table);
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase();
      table.querySelectorAll("tbody tr").forEach(function (row) {
        row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
  });
})();
