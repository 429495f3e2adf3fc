/* The deployment index: venues with links to their dashboards, and the consolidator's NBBO.
 * Polls /api/deployment once a second; every value is set with textContent. */
"use strict";
const $ = id => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) { if (k === "class") e.className = v; else e.setAttribute(k, v); }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
let scale = 10000;
const px = v => v === null || v === undefined ? "-" : (v / scale).toFixed(4);
const qty = v => v === null || v === undefined ? "-" : Number(v).toLocaleString("en-US");

function venueRow(v) {
  const procs = Object.entries(v.processes || {});
  const down = procs.filter(([, p]) => !p.alive).map(([n]) => n);
  const md = v.market_data || {};
  return el("tr", {"data-venue": v.id},
    el("td", {}, el("b", {}, v.id)), el("td", {}, v.type), el("td", {}, (v.instruments || []).join(", ")),
    el("td", {}, v.dashboard ? el("a", {href: v.dashboard, target: "_blank", rel: "noopener", class: "venue-dashboard"}, v.dashboard) : "none"),
    el("td", {class: down.length ? "error" : ""}, procs.length ? (down.length ? `down: ${down.join(", ")}` : `${procs.length} running`) : "-"),
    el("td", {}, v.order_entry || "-"),
    el("td", {class: "md" + (md.stale ? " error" : ""), "data-subscribers": md.zmq_subscribers ?? ""}, md.summary || "-"));
}
function nbboRow(ins, u) {
  if (!u) return el("tr", {"data-symbol": ins.symbol}, el("td", {}, ins.symbol), el("td", {colspan: "8", class: "muted"}, "no update yet"));
  const n = u.nbbo;
  const prot = (u.protected || []).map(q => `${q.venue} ${px(q.bid)} × ${px(q.ask)}`).join("   ");
  return el("tr", {"data-symbol": ins.symbol}, el("td", {}, ins.symbol), el("td", {}, n.state),
    el("td", {class: "num"}, qty(n.bid_size)), el("td", {class: "num nbbo-bid"}, px(n.bid)), el("td", {class: "num nbbo-ask"}, px(n.ask)),
    el("td", {class: "num"}, qty(n.ask_size)), el("td", {}, (n.bid_venues || []).join(", ")), el("td", {}, (n.ask_venues || []).join(", ")),
    el("td", {class: "muted"}, prot + ((u.self_help || []).length ? `   self-help: ${u.self_help.join(", ")}` : "")));
}
function render(st) {
  if (!st.ok) { $("sip-note").textContent = st.error; return; }
  scale = st.price_scale || 10000;
  $("deployment-name").textContent = st.name || "";
  $("venues").tBodies[0].replaceChildren(...st.venues.map(venueRow));
  const latest = st.nbbo.latest || {};
  $("nbbo").tBodies[0].replaceChildren(...(st.instruments || []).map(i => nbboRow(i, latest[String(i.id)])));
  const s = st.nbbo.stats;
  $("sip-note").textContent = `from ${st.sip}` + (s ? `; ${qty(s.updates)} updates, consolidator latency P50 ${(s.latency_p50_ns / 1e3).toFixed(1)} µs` : "") +
    (st.nbbo.lost ? `; ${st.nbbo.lost} updates lost` : "");
}
async function poll() {
  try {
    const r = await fetch("/api/deployment", {cache: "no-store"});
    render(await r.json());
    $("conn").textContent = "live"; $("conn").className = "conn up";
  } catch (e) {
    $("conn").textContent = "reconnecting…"; $("conn").className = "conn down";
  }
  setTimeout(poll, 1000);
}
document.addEventListener("DOMContentLoaded", poll);
