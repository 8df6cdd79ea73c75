"use strict";
(function () {
  // Rows are arrays in the order of data.columns (compact for thousands of jobs).
  var data = JSON.parse(document.getElementById("jobs-data").textContent);
  var col = {};
  data.columns.forEach(function (name, i) { col[name] = i; });
  var NUMERIC = { runs_30d: 1, failure_rate_30d: 1, days_since_last_run: 1,
                  monthly_projection_usd: 1, savings_identified_usd: 1, savings_potential_usd: 1,
                  billed_30d_usd: 1, billed_difference_usd: 1 };
  // The billed columns are shown only when the page has a bill (their headers are in the table).
  var BILLED = document.querySelector('#jobs th[data-col="billed_30d_usd"]') !== null;
  var money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
  var state = { sort: "monthly_projection_usd", desc: true, text: "", status: "" };
  var tbody = document.querySelector("#jobs tbody");
  var counter = document.getElementById("row-count");
  var headers = Array.prototype.slice.call(document.querySelectorAll("#jobs th[data-col]"));

  function searchable(row) {
    return [row[col.name], row[col.owner], row[col.team], row[col.cost_center], row[col.account_id], row[col.region],
            row[col.reasons], row[col.glue_version]].join(" ").toLowerCase();
  }
  var haystack = data.rows.map(searchable);

  function compare(a, b) {
    var i = col[state.sort], x = a[i], y = b[i];
    // Missing values sort last whichever the direction.
    if (x === null || x === undefined || x === "") return (y === null || y === undefined || y === "") ? 0 : 1;
    if (y === null || y === undefined || y === "") return -1;
    var order = NUMERIC[state.sort] ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
    return state.desc ? -order : order;
  }

  function cell(tr, text, className) {
    var td = document.createElement("td");
    td.textContent = text === null || text === undefined ? "—" : String(text);
    if (className) td.className = className;
    tr.appendChild(td);
    return td;
  }

  function nameCell(tr, row) {
    var td = document.createElement("td");
    var href = row[col.report];
    // Report links are relative paths the generator built; anything else is not a link.
    if (href && href.indexOf("jobs/") === 0) {
      var a = document.createElement("a");
      a.setAttribute("href", href);
      a.textContent = row[col.name];
      td.appendChild(a);
    } else {
      td.textContent = row[col.name];
    }
    td.className = "name";
    tr.appendChild(td);
  }

  function render() {
    var text = state.text.toLowerCase();
    var shown = [];
    for (var i = 0; i < data.rows.length; i++) {
      var row = data.rows[i];
      if (state.status && row[col.status] !== state.status) continue;
      if (text && haystack[i].indexOf(text) === -1) continue;
      shown.push(row);
    }
    shown.sort(compare);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (row) {
      var tr = document.createElement("tr");
      nameCell(tr, row);
      cell(tr, row[col.account_id]);
      cell(tr, row[col.region]);
      cell(tr, row[col.status], "status status-" + row[col.status]);
      cell(tr, row[col.priority]);
      cell(tr, row[col.owner]);
      cell(tr, row[col.team]);
      cell(tr, row[col.cost_center]);
      cell(tr, (row[col.glue_version] || "unset") + (row[col.eol_version] ? " (EOL)" : ""),
           row[col.eol_version] ? "eol" : "");
      cell(tr, row[col.runs_30d], "num");
      var rate = row[col.failure_rate_30d];
      cell(tr, rate === null ? null : Math.round(rate * 100) + "%", rate >= 0.5 ? "num bad" : "num");
      cell(tr, row[col.days_since_last_run], "num");
      cell(tr, money.format(row[col.monthly_projection_usd]), "num");
      if (BILLED) {
        var billed = row[col.billed_30d_usd], difference = row[col.billed_difference_usd];
        cell(tr, billed === null ? "not available" : money.format(billed), "num");
        cell(tr, difference === null ? "" : money.format(difference),
             difference !== null && difference > 0.005 ? "num bad" : "num").title = row[col.billed_cause] || "";
      }
      var saving = row[col.savings_identified_usd], potential = row[col.savings_potential_usd];
      cell(tr, saving ? money.format(saving) : "", "num");
      cell(tr, (row[col.savings_basis] || "").replace(/_/g, " "), "basis");
      cell(tr, potential ? money.format(potential) : "", "num");
      cell(tr, row[col.reasons].split(" ").join(", "), "reasons");
      fragment.appendChild(tr);
    });
    tbody.replaceChildren(fragment);
    counter.textContent = "Showing " + shown.length + " of " + data.rows.length + " jobs";
    headers.forEach(function (th) {
      var active = th.getAttribute("data-col") === state.sort;
      th.setAttribute("aria-sort", active ? (state.desc ? "descending" : "ascending") : "none");
    });
  }

  headers.forEach(function (th) {
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(button);
    button.addEventListener("click", function () {
      var name = th.getAttribute("data-col");
      if (state.sort === name) {
        state.desc = !state.desc;
      } else {
        state.sort = name;
        state.desc = !!NUMERIC[name];
      }
      render();
    });
  });
  document.getElementById("filter").addEventListener("input", function (event) {
    state.text = event.target.value;
    render();
  });
  document.getElementById("status-filter").addEventListener("change", function (event) {
    state.status = event.target.value;
    render();
  });
  render();
})();
