/* A small canvas line-chart renderer for streaming series (written for this dashboard).
 * drawChart(canvas, {series: [{label, color, points: [[x, y], ...]}], xLog, yLog,
 *                    xTicks: [[x, label], ...] | null, xFormat, yFormat, yLabel})
 * Redraws the whole chart each call: callers call it at most a few times a second (conflated). */
"use strict";
const PALETTE = ["#4fc3f7", "#ffb74d", "#81c784", "#e57373", "#ba68c8", "#fff176", "#90a4ae", "#f06292"];

function niceTicks(lo, hi, count) {
  if (!(hi > lo)) { hi = lo + 1; }
  const raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * mag).find(s => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(Math.pow(10, e));
  return out.filter(v => v >= lo * 0.999 && v <= hi * 1.001);
}

function drawChart(canvas, opt) {
  const dpr = window.devicePixelRatio || 1;
  const cssW = canvas.clientWidth || canvas.width, cssH = canvas.clientHeight || canvas.height;
  if (canvas.width !== Math.round(cssW * dpr)) { canvas.width = Math.round(cssW * dpr); canvas.height = Math.round(cssH * dpr); }
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, cssW, cssH);
  const pad = {l: 64, r: 12, t: 10, b: 40};
  const W = cssW - pad.l - pad.r, H = cssH - pad.t - pad.b;
  const series = (opt.series || []).filter(s => s.points && s.points.length);
  g.font = "11px system-ui, sans-serif";
  if (!series.length) {
    g.fillStyle = "#78909c"; g.fillText(opt.empty || "no data yet", pad.l + 8, pad.t + 20); return;
  }
  const tx = v => opt.xLog ? Math.log10(v) : v, ty = v => opt.yLog ? Math.log10(Math.max(v, 1e-9)) : v;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const s of series) for (const [x, y] of s.points) {
    if (y === null || y === undefined) continue;
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  if (!opt.yLog && opt.yZero !== false) { y0 = Math.min(0, y0); y1 = y1 * 1.08 || 1; }
  else if (!opt.yLog) { const m = (y1 - y0) * 0.1 || Math.abs(y1) * 0.001 || 1; y0 -= m; y1 += m; } else { y0 = Math.max(y0, 1e-3) / 1.5; y1 = y1 * 1.5; }
  if (x1 <= x0) x1 = x0 + 1;
  const X = v => pad.l + (tx(v) - tx(x0)) / (tx(x1) - tx(x0)) * W;
  const Y = v => pad.t + H - (ty(v) - ty(y0)) / (ty(y1) - ty(y0)) * H;
  // grid and axes
  g.strokeStyle = "#263238"; g.fillStyle = "#90a4ae"; g.lineWidth = 1;
  const yt = opt.yLog ? logTicks(y0, y1) : niceTicks(y0, y1, 5);
  for (const v of yt) {
    const y = Y(v); g.beginPath(); g.moveTo(pad.l, y); g.lineTo(pad.l + W, y); g.stroke();
    g.fillText((opt.yFormat || String)(v), 4, y + 4);
  }
  const xt = opt.xTicks ? opt.xTicks.filter(t => t[0] >= x0 && t[0] <= x1) :
    niceTicks(x0, x1, 6).map(v => [v, (opt.xFormat || String)(v)]);
  for (const [v, label] of xt) {
    const x = X(v); g.beginPath(); g.moveTo(x, pad.t); g.lineTo(x, pad.t + H); g.stroke();
    g.fillText(label, x - g.measureText(label).width / 2, pad.t + H + 14);
  }
  g.strokeStyle = "#546e7a"; g.strokeRect(pad.l, pad.t, W, H);
  if (opt.yLabel) { g.fillText(opt.yLabel, 4, pad.t + H + 30); }
  // lines
  series.forEach((s, i) => {
    g.strokeStyle = s.color || PALETTE[i % PALETTE.length]; g.lineWidth = 1.6; g.beginPath();
    let started = false;
    for (const [x, y] of s.points) {
      if (y === null || y === undefined) { started = false; continue; }
      if (!started) { g.moveTo(X(x), Y(y)); started = true; } else g.lineTo(X(x), Y(y));
    }
    g.stroke();
  });
  // legend
  let lx = pad.l + 8;
  series.forEach((s, i) => {
    const c = s.color || PALETTE[i % PALETTE.length];
    g.fillStyle = c; g.fillRect(lx, pad.t + H + 24, 10, 3);
    g.fillStyle = "#cfd8dc"; g.fillText(s.label, lx + 14, pad.t + H + 30);
    lx += 24 + g.measureText(s.label).width;
  });
}
window.drawChart = drawChart;
window.CHART_PALETTE = PALETTE;
