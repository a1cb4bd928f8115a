(function () {
  "use strict";
  document.documentElement.className = "js";
  function rowsOf(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }
  function applyFilter(section) {
    var input = section.querySelector("input.filter");
    var needle = input ? input.value.toLowerCase() : "";
    var table = section.querySelector("table.findings");
    if (!table) { return; }
    var shown = 0;
    rowsOf(table).forEach(function (row) {
      var text = row.textContent;
      Array.prototype.forEach.call(row.querySelectorAll("input.full"), function (i) { text += " " + i.value; });
      var hit = !needle || text.toLowerCase().indexOf(needle) >= 0;
      row.hidden = !hit;
      if (hit) { shown += 1; }
    });
    var out = section.querySelector("output.shown");
    if (out) { out.textContent = shown + " shown"; }
  }
  function sortBy(table, col, button) {
    var dir = button.getAttribute("data-dir") === "asc" ? "desc" : "asc";
    Array.prototype.forEach.call(table.querySelectorAll("th"), function (th) { th.removeAttribute("aria-sort"); });
    button.setAttribute("data-dir", dir);
    button.parentNode.setAttribute("aria-sort", dir === "asc" ? "ascending" : "descending");
    var rows = rowsOf(table);
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
      var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return dir === "asc" ? c : -c;
    });
    rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
  }
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (!id) { return; }
    var el = document.getElementById(id);
    var inner = el && el.tagName === "SECTION" ? el.querySelector("details") : null;
    if (inner) { inner.open = true; }
    while (el) { if (el.tagName === "DETAILS") { el.open = true; } el = el.parentElement; }
  }
  Array.prototype.forEach.call(document.querySelectorAll("section.kindsec"), function (section) {
    var input = section.querySelector("input.filter");
    if (input) { input.addEventListener("input", function () { applyFilter(section); }); }
    var table = section.querySelector("table.findings");
    if (!table) { return; }
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      var b = th.querySelector("button");
      if (b) { b.addEventListener("click", function () { sortBy(table, col, b); }); }
    });
  });
  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (t && t.classList && t.classList.contains("copy")) {
      var input = t.previousElementSibling;
      input.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(input.value).catch(function () {}); }
    }
  });
  var printAll = document.getElementById("print-evidence");
  if (printAll) {
    printAll.addEventListener("click", function () {
      document.body.classList.add("print-evidence");
      Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
      window.print();
      document.body.classList.remove("print-evidence");
    });
  }
  var save = document.getElementById("save-json");
  if (save) {
    save.addEventListener("click", function () {
      var text = document.getElementById("report-data").textContent;
      var a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
      a.download = "report.json";
      a.click();
    });
  }
  window.addEventListener("hashchange", openTarget);
  openTarget();
}());
