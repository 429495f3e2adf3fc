/* The dashboard page: login, one WebSocket with reconnect and catch-up, one renderer per panel,
 * operator actions through /api/action (the control plane decides and audits).
 * Everything shown is text set with textContent: nothing from the venue is parsed as HTML. */
"use strict";
const S = {version: 0, panels: {}, scale: 10000, ws: null, retryMs: 500, me: null, tab: "latency",
           measure: new URLSearchParams(location.search).has("measure"), shown: []};
window.dashboard = S;

const $ = id => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k instanceof Node ? k : String(k));
  return e;
}
function rows(tbody, list) { const b = typeof tbody === "string" ? document.querySelector(tbody) : tbody; b.replaceChildren(...list); }
const fmtNs = v => v === null || v === undefined ? "-" : v >= 1e6 ? (v / 1e6).toFixed(2) + " ms" : v >= 1e3 ? (v / 1e3).toFixed(1) + " µs" : v + " ns";
const fmtInt = v => v === null || v === undefined ? "-" : Number(v).toLocaleString("en-US");
function decimals(tick) { let d = 0; while (d < 6 && (tick * Math.pow(10, d)) % S.scale !== 0) d++; return d; }
const fmtPx = (v, tick) => v === null || v === undefined ? "-" : (v / S.scale).toFixed(decimals(tick || 1));
const fmtMoney = v => v === null || v === undefined ? "-" : (v / S.scale).toLocaleString("en-US", {minimumFractionDigits: 2, maximumFractionDigits: 2});
const fmtTime = ns => { const d = new Date(Number(ns) / 1e6); return isNaN(d) ? "-" : d.toISOString().slice(11, 23); };
// Engine times are CLOCK_MONOTONIC; the server sends the offset to the wall clock with each panel.
const fmtEngineTime = ns => fmtTime(Number(ns) + (S.wallOffsetNs || 0));
const fmtBytes = v => v === null || v === undefined ? "-" : v > 1 << 20 ? (v / (1 << 20)).toFixed(1) + " MiB" : (v / 1024).toFixed(0) + " KiB";

/* ---------------- login ---------------- */
async function post(url, body) {
  const r = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json", "X-Dashboard": "1"},
                              body: JSON.stringify(body || {}), credentials: "same-origin"});
  let data = {}; try { data = await r.json(); } catch (e) { data = {ok: false, code: "http_" + r.status, message: r.statusText}; }
  return data;
}
function showLogin(message) {
  document.body.classList.add("logged-out"); $("login-error").textContent = message || "";
  $("user").focus();
}
async function login(ev) {
  ev.preventDefault();
  $("login-error").textContent = "checking with the control plane…";
  const r = await post("/api/login", {user: $("user").value, token: $("token").value});
  if (!r.ok) { showLogin(`${r.code}: ${r.message}`); return; }
  $("token").value = ""; started(r);
}
function started(me) {
  S.me = me; document.body.classList.remove("logged-out");
  $("who").textContent = `${me.user} (${me.role})`; $("venue-name").textContent = me.venue;
  connect();
}
async function logout() { await post("/api/logout"); if (S.ws) S.ws.close(); S.ws = null; S.me = null; showLogin("logged out"); }

/* ---------------- WebSocket ---------------- */
function connect() {
  if (!S.me) return;
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`);
  S.ws = ws;
  ws.onopen = () => { ws.send(JSON.stringify({since: S.version})); S.retryMs = 500; setConn(true); };
  ws.onmessage = m => onMessage(JSON.parse(m.data));
  ws.onclose = ev => {
    setConn(false);
    if (S.ws !== ws) return;
    if (ev.code === 4401) { showLogin("session ended; log in again"); return; }
    setTimeout(connect, S.retryMs); S.retryMs = Math.min(S.retryMs * 2, 5000);
  };
}
function setConn(up) {
  const c = $("conn"); c.textContent = up ? "live" : "reconnecting…"; c.className = "conn " + (up ? "up" : "down");
  document.body.dataset.connected = up ? "1" : "0";
}
function onMessage(msg) {
  if (msg.type === "hello") { S.hello = msg; return; }
  if (msg.type !== "panel") return;
  if (msg.state && msg.state.wall_offset_ns !== undefined) S.wallOffsetNs = msg.state.wall_offset_ns;
  const prev = S.panels[msg.panel];
  if (prev && prev.version >= msg.version) return;      // an older state (catch-up race)
  S.panels[msg.panel] = msg; S.version = Math.max(S.version, msg.version);
  const r = RENDER[msg.panel]; if (r && visible(msg.panel)) r(msg.state);
}
// A panel on a hidden tab keeps its newest state and is drawn when its tab is shown (selectTab):
// the browser spends no layout or canvas work on what nobody sees (on a venue's own host, its CPUs).
const TAB_OF = {latency: "latency", books: "books", tape: "books", risk: "risk", alerts: "risk",
                strategies: "strategies", parents: "strategies", analytics: "strategies", tca: "strategies",
                audit: "strategies", reports: "strategies", health: "health"};
const visible = panel => !TAB_OF[panel] || TAB_OF[panel] === S.tab;

/* ---------------- actions ---------------- */
async function act(command, args, what) {
  const r = await post("/api/action", {command, args});
  toast(r.ok ? `${what}: done` : `${what}: refused (${r.code}: ${r.message})`, r.ok);
  return r;
}
function toast(text, ok) {
  const t = $("toast"); t.textContent = text; t.className = "show " + (ok ? "ok" : "bad");
  clearTimeout(toast.timer); toast.timer = setTimeout(() => { t.className = ""; }, 6000);
}
function button(label, cls, onclick, attrs) { return el("button", {class: "small " + cls, onclick, ...(attrs || {})}, label); }

/* ---------------- renderers ---------------- */
const RENDER = {};
RENDER.venue = st => {
  const s = st.status || {};
  if (s.price_scale) S.scale = s.price_scale;
  if (s.engine) $("engine-seq").textContent = "seq " + fmtInt(s.engine.seq);
  const open = s.alerts_open || 0, a = $("alerts-open");
  a.textContent = "alerts " + open; a.className = "badge" + (open ? " hot" : "");
  const m = st.metrics || {};
  rows("#venue-facts tbody", [
    ["engine", s.engine ? (s.engine.alive ? "alive" : "DOWN") + ` (cpu ${s.engine.cpu}, ${s.engine.producers} producers)` : "-"],
    ["events / s (control plane)", m.events_per_s !== undefined ? fmtInt(Math.round(m.events_per_s)) : "-"],
    ["live orders", fmtInt(s.orders_live)], ["sessions connected", fmtInt(s.sessions_connected)],
    ["kill switches engaged", (s.kill_switches || []).join(", ") || "none"],
    ["control requests (refused)", m.requests !== undefined ? `${fmtInt(m.requests)} (${fmtInt(m.refused)})` : "-"],
  ].map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
  S.status = s;
  if (S.panels.risk && visible("risk")) RENDER.risk(S.panels.risk.state);
};

RENDER.latency = st => {
  if (!st.available) { $("lat-error").textContent = "latency regions: " + (st.error || "not available"); return; }
  $("lat-error").textContent = ""; $("lat-clock").textContent = st.clock ? `(${st.clock})` : "";
  rows("#lat-table tbody", st.stages.map(r => el("tr", {class: r.stage === "end_to_end" ? "total" : ""},
    el("td", {}, r.stage), el("td", {class: "num"}, fmtInt(r.count)), el("td", {class: "num"}, fmtNs(r.p50_ns)),
    el("td", {class: "num"}, fmtNs(r.p99_ns)), el("td", {class: "num"}, fmtNs(r.p999_ns)), el("td", {class: "num"}, fmtNs(r.max_ns)),
    el("td", {class: "num"}, fmtNs(r.interval && r.interval.p50_ns)), el("td", {class: "num"}, fmtNs(r.interval && r.interval.p99_ns)))));
  $("lat-dominant").replaceChildren(...Object.entries(st.dominant || {}).map(([p, stage]) =>
    el("span", {class: "chip"}, el("b", {}, p), " " + (stage || "-"))));
  const ticks = [[1, "0%"], [2, "50%"], [10, "90%"], [100, "99%"], [1e3, "99.9%"], [1e4, "99.99%"], [1e5, "99.999%"], [1e6, "99.9999%"]];
  drawChart($("lat-curves"), {xLog: true, yLog: true, xTicks: ticks, yFormat: v => v >= 1000 ? (v / 1000) + " ms" : v + " µs",
    series: (st.curves || []).map(c => ({label: c.label, points: c.x.map((x, i) => [x, c.y_us[i]])}))});
  const names = Object.keys(st.history || {});
  drawChart($("lat-history"), {yLog: true, xFormat: v => new Date(v * 1000).toISOString().slice(11, 19),
    yFormat: v => v >= 1e6 ? (v / 1e6) + " ms" : v >= 1e3 ? (v / 1e3) + " µs" : v + " ns",
    series: names.map(n => ({label: n, points: st.history[n].map(p => [p[0], p[2]])}))});
};

function ladder(ins) {
  const maxQ = Math.max(1, ...ins.bids.map(b => b[1]), ...ins.asks.map(a => a[1]));
  const bar = (q, side) => el("div", {class: "bar " + side, style: `width:${Math.round(100 * q / maxQ)}%`});
  const asks = ins.asks.slice().reverse().map(a => el("tr", {class: "ask"}, el("td", {}), el("td", {class: "num"}, fmtPx(a[0], ins.tick)),
    el("td", {class: "num qty"}, bar(a[1], "ask"), el("span", {}, fmtInt(a[1]))), el("td", {class: "num muted"}, a[2])));
  const bids = ins.bids.map(b => el("tr", {class: "bid"}, el("td", {class: "num qty"}, bar(b[1], "bid"), el("span", {}, fmtInt(b[1]))),
    el("td", {class: "num"}, fmtPx(b[0], ins.tick)), el("td", {}), el("td", {class: "num muted"}, b[2])));
  const spread = ins.bids.length && ins.asks.length ? fmtPx(ins.asks[0][0] - ins.bids[0][0], ins.tick) : "-";
  const mid = el("tr", {class: "mid"}, el("td", {colspan: "4"}, `last ${fmtPx(ins.last, ins.tick)}   spread ${spread}`));
  return el("table", {class: "ladder", "data-symbol": ins.symbol},
    el("thead", {}, el("tr", {}, el("th", {}, "bid qty"), el("th", {}, "price"), el("th", {}, "ask qty"), el("th", {}, "#"))),
    el("tbody", {}, ...asks, mid, ...bids));
}
RENDER.books = st => {
  const cards = st.instruments.map(ins => {
    const a = ins.auction;
    const auction = !a ? "no auction yet" : a.matched_qty ? `last auction ${fmtPx(a.price, ins.tick)} × ${fmtInt(a.matched_qty)}, imbalance ${fmtInt(a.imbalance_qty)} ${a.imbalance_side}`
      : `last auction: no cross, imbalance ${fmtInt(a.imbalance_qty)} ${a.imbalance_side}`;
    const canvas = el("canvas", {class: "spark", width: "300", height: "110"});
    const card = el("div", {class: "card ladder-card", id: "book-" + ins.symbol},
      el("div", {class: "ladder-head"}, el("h2", {}, ins.symbol), el("span", {class: "phase " + ins.phase}, ins.phase.replace("_", "-")),
        el("span", {class: "muted"}, `${fmtInt(ins.trades)} trades · vol ${fmtInt(ins.volume)}`)),
      el("div", {class: "muted small"}, auction, ins.pending ? ` · next: ${ins.pending}` : ""),
      ladder(ins), canvas,
      el("div", {class: "actions"},
        button("Halt", "danger", () => act("halt", {instrument: ins.symbol}, `halt ${ins.symbol}`), {"data-action": "halt-" + ins.symbol}),
        button("Resume", "", () => act("resume", {instrument: ins.symbol}, `resume ${ins.symbol}`), {"data-action": "resume-" + ins.symbol})));
    return [card, canvas, ins];
  });
  $("ladders").replaceChildren(...cards.map(c => c[0]));
  for (const [, canvas, ins] of cards)
    drawChart(canvas, {empty: "no trades yet", yZero: false, xFormat: v => fmtEngineTime(v).slice(0, 8), yFormat: v => fmtPx(v, ins.tick),
      series: [{label: ins.symbol + " trades", points: ins.prices.map(p => [p[0], p[1]])}]});
  rows("#halts", (st.halts.length ? st.halts : [{what: "none today"}]).map(h =>
    el("li", {}, h.ts_ns ? el("span", {class: "muted"}, fmtEngineTime(h.ts_ns) + " ") : null, (h.instrument ? h.instrument + " " : "") + h.what)));
};
RENDER.tape = st => {
  const info = {}; for (const i of ((S.panels.books || {}).state || {instruments: []}).instruments) info[i.symbol] = i;
  rows("#tape tbody", st.trades.map(t => el("tr", {class: t.aggressor, "data-seq": t.seq},
    el("td", {class: "muted"}, fmtEngineTime(t.ts_ns)), el("td", {}, t.instrument), el("td", {}, t.aggressor),
    el("td", {class: "num"}, fmtPx(t.price, (info[t.instrument] || {}).tick)), el("td", {class: "num"}, fmtInt(t.qty)),
    el("td", {class: "muted"}, `${t.buy_account}/${t.sell_account}`))));
  if (S.measure) {
    const now = performance.timeOrigin + performance.now();
    for (const t of st.trades) if (!S.seen || !S.seen.has(t.seq)) { (S.seen = S.seen || new Set()).add(t.seq); S.shown.push([t.seq, t.ts_ns, now]); }
  }
};

function gauge(usage, limit) {
  if (limit === null || limit === undefined) return el("span", {class: "muted"}, usage === undefined || usage === null ? "-" : fmtMoney(usage));
  const f = limit > 0 ? Math.min(1, (usage || 0) / limit) : 0;
  return el("div", {class: "gauge" + (f >= 1 ? " breach" : f >= 0.8 ? " warn" : "")},
    el("div", {class: "fill", style: `width:${Math.round(f * 100)}%`}), el("span", {}, `${fmtMoney(usage)} / ${fmtMoney(limit)}`));
}
RENDER.risk = st => {
  const risk = st.risk || {}, firms = {};
  for (const a of ((S.status || {}).accounts || [])) firms[a.id] = a.firm_name;
  const strat = {}; for (const s of st.strategies || []) strat[s.account] = `${s.strategy} #${s.id}`;
  if (risk.error) rows("#risk-accounts tbody", [el("tr", {}, el("td", {colspan: "9", class: "error"}, risk.error))]);
  else rows("#risk-accounts tbody", (risk.accounts || []).map(a => {
    const u = a.usage || {}, l = a.limits || {};
    return el("tr", {"data-account": a.account}, el("td", {}, a.account), el("td", {}, (firms[a.account] || "-") + (strat[a.account] ? " / " + strat[a.account] : "")),
      el("td", {}, el("span", {class: "phase " + (a.kill_switch ? "halted" : "continuous")}, a.kill_switch ? "ENGAGED" : "off")),
      el("td", {}, gauge(u.var, l.var_limit)), el("td", {}, gauge(u.drawdown, l.drawdown_limit)), el("td", {}, gauge(u.loss, l.loss_limit)),
      el("td", {}, gauge(u.notional, l.notional_limit)),
      el("td", {}, l.concentration_limit ? `${((u.concentration || 0) * 100).toFixed(0)}% / ${(l.concentration_limit * 100).toFixed(0)}%` : (u.concentration !== undefined ? `${((u.concentration || 0) * 100).toFixed(0)}%` : "-")),
      el("td", {}, a.kill_switch
        ? button("Release", "", () => act("killswitch", {account: a.account, engaged: false}, `release kill switch ${a.account}`), {"data-action": "release-" + a.account})
        : button("Kill", "danger", () => act("killswitch", {account: a.account, engaged: true}, `kill switch ${a.account}`), {"data-action": "kill-" + a.account})));
  }));
  const pos = Array.isArray(st.positions) ? st.positions : [];
  const marks = {}; for (const i of ((S.status || {}).instruments || [])) marks[i.id] = i;
  rows("#positions tbody", pos.length ? pos.map(p => {
    const total = (p.realized_pnl || 0) + (p.unrealized_pnl || 0), ins = marks[p.instrument] || {};
    return el("tr", {}, el("td", {}, p.account), el("td", {}, strat[p.account] || firms[p.account] || "-"), el("td", {}, p.symbol || p.instrument),
      el("td", {class: "num"}, fmtInt(p.position)), el("td", {class: "num"}, p.avg_price === null ? "-" : (p.avg_price / S.scale).toFixed(4)),
      el("td", {class: "num"}, fmtPx(ins.last, ins.tick_size)), el("td", {class: "num " + sign(p.realized_pnl)}, fmtMoney(p.realized_pnl)),
      el("td", {class: "num " + sign(p.unrealized_pnl)}, fmtMoney(p.unrealized_pnl)), el("td", {class: "num " + sign(total)}, fmtMoney(total)));
  }) : [el("tr", {}, el("td", {colspan: "9", class: "muted"}, st.positions && st.positions.error ? st.positions.error : "no positions yet"))]);
};
const sign = v => v > 0 ? "pos" : v < 0 ? "neg" : "";
RENDER.alerts = st => rows("#alerts", st.alerts.length ? st.alerts.map(a => el("li", {class: a.level + (a.acked_by ? " acked" : ""), "data-alert": a.id},
  el("span", {class: "muted"}, fmtTime(a.ts_ns) + " "), el("b", {}, `${a.level} ${a.kind}`), " " + a.message + " ",
  a.acked_by ? el("span", {class: "muted ack"}, `acknowledged by ${a.acked_by} ${fmtTime(a.acked_ts_ns)}`)
    : a.id !== undefined ? button("Acknowledge", "", () => act("alerts.ack", {id: a.id}, `acknowledge alert ${a.id}`), {"data-action": "ack-" + a.id}) : null))
  : [el("li", {class: "muted"}, "no alerts")]);

RENDER.strategies = st => {
  const list = Array.isArray(st.strategies) ? st.strategies : [];
  $("strategies-note").textContent = st.strategies && st.strategies.error ? st.strategies.error :
    list.length ? "" : "no strategy running (operators start them with the shell's strategy start, or the control API strategy.start)";
  rows("#strategies tbody", list.map(s => el("tr", {}, el("td", {}, s.id), el("td", {}, s.strategy), el("td", {}, s.account), el("td", {}, s.instrument),
    el("td", {}, s.state), el("td", {class: "muted"}, Object.entries(s.params || {}).map(([k, v]) => `${k}=${v}`).join(", ")),
    el("td", {}, s.state === "running" ? button("Pause", "", () => act("strategy.pause", {id: s.id}, `pause strategy ${s.id}`), {"data-action": "spause-" + s.id})
      : s.state === "paused" ? button("Resume", "", () => act("strategy.resume", {id: s.id}, `resume strategy ${s.id}`), {"data-action": "sresume-" + s.id}) : null,
      s.state === "running" || s.state === "paused" ? button("Stop", "danger", () => act("strategy.stop", {id: s.id}, `stop strategy ${s.id}`), {"data-action": "stop-" + s.id}) : null))));
};
RENDER.parents = st => {
  const list = Array.isArray(st.parents) ? st.parents : [];
  const sym = {}; for (const i of ((S.status || {}).instruments || [])) sym[i.id] = i;
  const f2 = v => v === null || v === undefined ? "-" : Number(v).toFixed(2);
  rows("#parents tbody", list.length ? list.map(p => {
    const ins = sym[p.instrument] || {}, live = ["working", "paused", "waiting"].includes(p.state);
    const frac = p.qty ? Math.min(1, p.filled / p.qty) : 0;
    return el("tr", {"data-parent": p.id}, el("td", {}, p.id), el("td", {}, p.algo), el("td", {}, p.account), el("td", {}, ins.symbol || p.instrument),
      el("td", {}, p.side), el("td", {}, el("div", {class: "gauge"}, el("div", {class: "fill", style: `width:${Math.round(frac * 100)}%`}), el("span", {}, `${fmtInt(p.filled)} / ${fmtInt(p.qty)}`))),
      el("td", {class: "num"}, fmtInt(p.working)), el("td", {class: "num"}, p.avg_price === null || p.avg_price === undefined ? "-" : Number(p.avg_price).toFixed(4)),
      el("td", {class: "num"}, f2(p.shortfall_bps)), el("td", {class: "num"}, p.participation === null || p.participation === undefined ? "-" : (p.participation * 100).toFixed(1) + "%"),
      el("td", {class: "num"}, live ? Math.round(p.time_left_s) + " s" : "-"), el("td", {}, p.state),
      el("td", {}, live ? el("span", {class: "actions"},
        p.state === "paused" ? button("Resume", "", () => act("parent.resume", {id: p.id}, `resume parent ${p.id}`), {"data-action": "presume-" + p.id})
                             : button("Pause", "", () => act("parent.pause", {id: p.id}, `pause parent ${p.id}`), {"data-action": "pause-" + p.id}),
        button("Cancel", "danger", () => act("parent.cancel", {id: p.id}, `cancel parent ${p.id}`), {"data-action": "pcancel-" + p.id})) : null));
  }) : [el("tr", {}, el("td", {colspan: "13", class: "muted"}, st.parents && st.parents.error ? st.parents.error : "no parent orders (the control API's parent.add, or the shell's parent add)"))]);
};
RENDER.analytics = st => {
  const f = (v, d) => v === null || v === undefined ? "-" : Number(v).toFixed(d);
  rows("#analytics tbody", st.instruments.map(a => el("tr", {"data-symbol": a.symbol}, el("td", {}, a.symbol),
    el("td", {class: "num" + (a.vpin_cdf_last > 0.9 ? " neg" : "")}, f(a.vpin_last, 3)), el("td", {class: "num"}, f(a.vpin_cdf_last, 2)),
    el("td", {class: "num"}, f(a.vol_regime, 0)), el("td", {class: "num"}, f(a.trend_regime, 0)), el("td", {class: "num"}, a.kyle_lambda === null || a.kyle_lambda === undefined ? "-" : Number(a.kyle_lambda).toExponential(2)),
    el("td", {class: "num"}, f(a.effective_spread_bps, 2)), el("td", {class: "num"}, f(a.realised_spread_bps, 2)),
    el("td", {class: "num"}, f(a.price_impact_bps, 2)), el("td", {class: "num"}, f(a.adverse_selection_share, 2)), el("td", {class: "num"}, f(a.bars, 0)))));
};
RENDER.tca = st => {
  const f = v => v === null || v === undefined ? "-" : v.toFixed(2);
  rows("#tca tbody", Object.entries(st.measures || {}).map(([k, m]) => el("tr", {}, el("td", {}, k), el("td", {class: "num"}, fmtInt(m.shares)),
    el("td", {class: "num"}, f(m.slippage_arrival_bps)), el("td", {class: "num"}, f(m.effective_spread_bps)), el("td", {class: "num"}, f(m.markout_1s_bps)),
    el("td", {class: "num"}, m.fill_rate_market === null ? "-" : (m.fill_rate_market * 100).toFixed(1) + "%"), el("td", {class: "num"}, f(m.fee_bps)))));
};
RENDER.reports = st => {
  $("reports-note").textContent = !st.configured ? st.hint : st.error ? st.error
    : `${st.reports.length} in ${st.dir}; made by python -m trading report daily --out DIR`;
  rows("#reports", (st.reports || []).length ? st.reports.map(r => el("li", {"data-report": `${r.kind}-${r.date}`},
    el("b", {}, `${r.kind} ${r.date} `), ...["html", "pdf", "json"].filter(f => r.files[f]).map(f =>
      el("a", {href: "/reports/" + encodeURIComponent(r.files[f]), target: "_blank", rel: "noopener", class: "report-link", "data-format": f}, f.toUpperCase() + " "))))
    : [el("li", {class: "muted"}, st.configured ? "no reports yet" : "-")]);
};
RENDER.audit = st => rows("#audit", st.records.map(r => el("li", {class: r.outcome === "accepted" ? "ok" : "warn"},
  el("span", {class: "muted"}, (r.ts || "").slice(11, 23) + " "), el("b", {}, r.user || "?"), ` ${r.command} ${JSON.stringify(r.args || {})} → ${r.outcome}${r.code && r.code !== "ok" ? " (" + r.code + ")" : ""}`)));

function fillCell(f) {
  if (!f) return el("td", {class: "muted"}, "-");
  return el("td", {}, el("div", {class: "gauge" + (f.fill > 0.8 ? " breach" : f.fill > 0.5 ? " warn" : "")},
    el("div", {class: "fill", style: `width:${Math.max(1, Math.round(f.fill * 100))}%`}), el("span", {}, `${(f.fill * 100).toFixed(1)}% of ${fmtBytes(f.capacity_bytes)}`)));
}
RENDER.health = st => {
  rows("#procs tbody", st.processes.map(p => el("tr", {class: p.alive ? "" : "bad"}, el("td", {}, p.name), el("td", {}, p.pid), el("td", {}, p.state),
    el("td", {class: "num"}, p.cpu_pct !== undefined ? p.cpu_pct.toFixed(1) : "-"), el("td", {class: "num"}, fmtBytes(p.rss_bytes)),
    el("td", {class: "num"}, p.threads || "-"), el("td", {class: "num"}, p.uptime_s ? (p.uptime_s / 60).toFixed(1) + " min" : "-"))));
  const r = st.rings || {};
  rows("#rings tbody", r.available ? r.producers.map(p => el("tr", {}, el("td", {}, p.slot), el("td", {}, p.owner_pid || "free"),
    el("td", {class: "num"}, fmtInt(p.commands)), fillCell(p.cmd), fillCell(p.reply))) : [el("tr", {}, el("td", {colspan: "5", class: "error"}, r.error || "engine not reachable"))]);
  const ev = st.events || {}, j = r.journal;
  const extra = [["event log (this reader)", ev.capacity_bytes ? `${fmtBytes(ev.backlog_bytes)} behind of ${fmtBytes(ev.capacity_bytes)}, lapped ${ev.lapped}×, ${fmtInt(ev.read)} read` : "-"],
    ["journal lag", j ? `${fmtInt(j.lag)} commands (released ${fmtInt(j.released_seq)})` : "no journal"],
    ["engine commands / events", r.available ? `${fmtInt(r.commands)} / ${fmtInt(r.events)}` : "-"]];
  const md = st.market_data || {};
  rows("#capacity tbody", [...extra.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))),
    el("tr", {}, el("th", {}, "market data"), el("td", {id: "md-summary", class: md.stale ? "error" : "",
      "data-feed": md.feed ? "1" : "0", "data-subscribers": md.zmq_subscribers ?? "", "data-recovery": md.recovery_sessions ?? ""}, md.summary || "-"))]);
  const sess = Array.isArray(st.sessions) ? st.sessions : [];
  rows("#sessions tbody", sess.length ? sess.map(s => el("tr", {}, el("td", {}, s.session_id), el("td", {}, s.firm_id),
    el("td", {}, s.connected ? "yes" : "no"), el("td", {}, s.peer || "-"), el("td", {class: "num"}, s.in_seq ?? "-"), el("td", {class: "num"}, s.out_seq ?? "-"))) :
    [el("tr", {}, el("td", {colspan: "6", class: "muted"}, st.sessions && st.sessions.error ? st.sessions.error : "-"))]);
};
RENDER.feed = st => toast(st.error, false);

/* ---------------- tabs and start ---------------- */
function selectTab(name) {
  S.tab = name;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const p of document.querySelectorAll(".panel")) p.classList.toggle("active", p.id === "panel-" + name);
  for (const [n, m] of Object.entries(S.panels)) if (RENDER[n] && visible(n)) RENDER[n](m.state);   // canvases need a visible size
}
document.addEventListener("DOMContentLoaded", async () => {
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => selectTab(b.dataset.tab));
  $("login").addEventListener("submit", login); $("logout").addEventListener("click", logout);
  $("strategy-start").addEventListener("submit", ev => {
    ev.preventDefault();
    const args = {strategy: $("strat-name").value, account: parseInt($("strat-account").value, 10), instrument: $("strat-instrument").value};
    if ($("strat-params").value.trim()) args.params = $("strat-params").value.trim();
    act("strategy.start", args, `start ${args.strategy}`);
  });
  whoAmI();
});
// A restarted dashboard re-validates the session cookie with the control plane; "unavailable"
// means it could not ask yet (the session may be fine): ask again instead of logging out.
async function whoAmI() {
  const r = await fetch("/api/me", {credentials: "same-origin"}).catch(() => null);
  const me = r ? await r.json().catch(() => ({ok: false})) : {ok: false, code: "unavailable"};
  if (me.ok) started(me);
  else if (me.code === "unavailable") { showLogin("waiting for the control plane…"); setTimeout(whoAmI, 1000); }
  else showLogin("");
}
