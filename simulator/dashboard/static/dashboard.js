// Live journal: new requests appear at the top without reloading the page. The page works
// without this script; it only saves pressing reload.
(function () {
  "use strict";
  var table = document.getElementById("journal");
  if (!table) { return; }
  var body = table.tBodies[0];
  var state = document.getElementById("live-state");
  var src = table.getAttribute("data-src");
  var last = parseInt(table.getAttribute("data-last") || "0", 10);
  var busy = false;
  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    fetch(src + "&after=" + last, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        var holder = document.createElement("tbody");
        holder.innerHTML = html;
        var rows = Array.prototype.slice.call(holder.rows);
        rows.forEach(function (row) {
          var seq = parseInt(row.getAttribute("data-seq"), 10);
          if (seq > last) { last = seq; }
        });
        for (var i = rows.length - 1; i >= 0; i--) { body.insertBefore(rows[i], body.firstChild); }
        while (body.rows.length > 200) { body.deleteRow(body.rows.length - 1); }
        state.textContent = "live";
      })
      .catch(function () { state.textContent = "live (reconnecting…)"; })
      .then(function () { busy = false; });
  }
  setInterval(poll, 1000);
}());
