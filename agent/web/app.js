"use strict";
// Paceline's web view: renders the snapshot of GET /events (server-sent
// events) or, when that fails, of GET /api/state every 2 s. Text goes in
// through textContent only: names come from the configuration.
(function () {
  var $ = function (s) { return document.querySelector(s); };
  function h(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v; else e.setAttribute(k, v);
    }
    for (var i = 2; i < arguments.length; i++) add(e, arguments[i]);
    return e;
  }
  function add(e, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(e, x); }); return; }
    e.append(c instanceof Node ? c : String(c));
  }
  function b(text, cls, title) { return h("span", { "class": "b " + (cls || ""), title: title }, text); }
  function when(s) {
    if (!s || s.indexOf("0001-") === 0) return "";
    var d = new Date(s);
    if (isNaN(d)) return "";
    return d.toDateString() === new Date().toDateString() ? d.toLocaleTimeString() : d.toLocaleString();
  }
  function fill(id, rows, cols, empty) {
    var tb = $(id);
    tb.replaceChildren();
    if (!rows.length) { tb.append(h("tr", null, h("td", { "class": "empty", colspan: cols }, empty))); return; }
    rows.forEach(function (r) { tb.append(r); });
  }
  var roleCls = { Started: "ok", Promoted: "ok", Unpromoted: "in", Stopped: "" };
  function place(p, who) {
    if (p.failed) return b("FAILED " + who + (p["failed-op"] ? " (" + p["failed-op"] + ")" : ""), "bad");
    return b(p.role + " " + who, roleCls[p.role]);
  }
  var stateCls = { online: "ok", offline: "", unclean: "bad" };

  function render(s) {
    document.title = "Paceline · " + s.node;
    $("#self").textContent = s.node;
    $("#ver").textContent = s.version ? "(" + s.version + ")" : "";
    var q = s.quorum, qe = $("#quorum");
    qe.dataset.quorate = q ? String(q.quorate) : "";
    qe.title = q ? q.reason : "no membership on this node";
    qe.replaceChildren(q ? b(q.quorate ? "quorate" : "NO QUORUM", q.quorate ? "ok" : "bad") : b("unknown"),
      q ? " " + q.votes + "/" + q.expected + " votes" : "");
    $("#dc").dataset.dc = s.dc || "";
    $("#dc").replaceChildren(s.dc ? s.dc : b("none", "bad"), s.term ? h("span", { "class": "sub" }, " term " + s.term) : "");
    var on = s.nodes.filter(function (n) { return n.state === "online"; }).length;
    $("#nodecount").textContent = on + " of " + s.nodes.length + " online";
    var running = s.resources.filter(function (r) { return (r.on || []).some(function (p) { return !p.failed && p.role !== "Stopped"; }); }).length;
    $("#rsccount").textContent = running + " of " + s.resources.length + " running";
    var notes = [];
    if (s["maintenance-mode"]) notes.push("Cluster in maintenance mode: nothing is managed.");
    if ((s.unreachable || []).length) notes.push("Unreachable (state unknown): " + s.unreachable.join(", "));
    $("#notes").textContent = notes.join(" ");

    fill("#nodes", s.nodes.map(function (n) {
      return h("tr", { "data-node": n.name, "data-state": n.state },
        h("td", null, h("b", null, n.name), n.dc ? [" ", b("DC", "in")] : null),
        h("td", { "class": "state" }, b(n.state === "unclean" ? "UNCLEAN" : n.state, stateCls[n.state]),
          n.standby ? b("standby", "wa") : null, n.maintenance ? b("maintenance", "wa") : null),
        h("td", { "class": "sub" }, n.member || "never seen"),
        h("td", null, (n.resources || []).map(function (p) { return place(p, p.rsc); })));
    }), 4, "no nodes configured");

    fill("#resources", s.resources.map(function (r) {
      var ps = r.on || [];
      var held = ps.filter(function (p) { return !p.failed && p.role !== "Stopped"; });
      return h("tr", { "data-rsc": r.id, "data-on": held.map(function (p) { return p.node; }).join(" ") },
        h("td", null, h("b", null, r.id), r.group || r.clone ? h("div", { "class": "sub" }, [r.group ? "group " + r.group : "", r.clone ? "clone " + r.clone : ""].filter(Boolean).join(", ")) : null),
        h("td", { "class": "sub" }, r.agent),
        h("td", { "class": "where" }, ps.length ? ps.map(function (p) { return place(p, p.node); }) : b("Stopped")));
    }), 3, "no resources configured");

    fill("#failures", (s.failures || []).map(function (f) {
      return h("tr", null, h("td", null, f.node), h("td", null, f.rsc), h("td", null, f.op),
        h("td", null, b((f["rc-name"] || "rc " + f.rc) + (f.status && f.status !== "done" ? " (" + f.status + ")" : ""), "bad"),
          f.reason ? h("div", { "class": "sub" }, f.reason) : null),
        h("td", null, when(f.at)), h("td", null, f["fail-count"]));
    }), 6, "none");

    fill("#transitions", (s.transitions || []).map(function (t) {
      var res = t.aborted ? b("aborted", "wa") : (t.failed || []).length ? b((t.failed || []).length + " failed", "bad", t.failed.join("\n")) : b("complete", "ok");
      return h("tr", null, h("td", null, when(t.started)), h("td", null, t.dc), h("td", { "class": "sub" }, t.seq + " (term " + t.term + ")"),
        h("td", null, t.done + "/" + t.actions, (t.ops || []).length ? h("div", { "class": "sub" }, t.ops.join(", ")) : null),
        h("td", null, res), h("td", { "class": "sub" }, Math.round(t["took-ms"]) + " ms"));
    }), 6, "none on record");

    fill("#fencing", (s.fencing || []).map(function (f) {
      var cls = f.state === "done" ? "ok" : f.state === "failed" ? "bad" : "wa";
      return h("tr", null, h("td", null, when(f.started)), h("td", null, h("b", null, f.target)), h("td", null, f.action),
        h("td", null, b(f.confirmed ? "confirmed" : f.state, cls)), h("td", null, f.executor || ""), h("td", { "class": "sub" }, f.origin || ""),
        h("td", { "class": "sub" }, f.reason || ""));
    }), 7, "none");
  }

  var pollTimer = null, es = null;
  function mode(m) {
    var c = $("#conn");
    c.className = "conn " + m;
    c.dataset.mode = m;
    c.textContent = { live: "live", poll: "polling", down: "disconnected" }[m];
    document.body.classList.toggle("stale", m === "down");
  }
  function got(s) {
    render(s);
    $("#upd").textContent = "updated " + new Date().toLocaleTimeString();
  }
  function events() {
    if (!window.EventSource) { polling(); return; }
    es = new EventSource("events");
    es.addEventListener("state", function (e) {
      mode("live");
      try { got(JSON.parse(e.data)); } catch (err) { /* keep the last view */ }
    });
    es.onerror = function () {
      if (es.readyState === EventSource.CLOSED) { es = null; polling(); } else mode("down");
    };
  }
  function poll() {
    fetch("api/state", { cache: "no-store", credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) { location.href = "login"; return null; }
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (s) { if (s) { got(s); mode("poll"); } }, function () { mode("down"); });
  }
  // polling: the event stream was refused (too many streams, a proxy that
  // buffers): poll every 2 s, and try the stream again after a minute.
  function polling() {
    if (pollTimer) return;
    poll();
    pollTimer = setInterval(poll, 2000);
    setTimeout(function () { clearInterval(pollTimer); pollTimer = null; events(); }, 60000);
  }
  events();
})();
