package bench

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// WriteTable prints one line per result: the summary table. The server's
// CPU time per record and per MB lead, because they are what carries over
// to another machine: throughput on a machine shared with the load
// generator depends on how much CPU the generator leaves the server.
func WriteTable(w io.Writer, results []*Result) {
	fmt.Fprintf(w, "%-11s %-12s %10s %9s %5s %6s %12s %9s %9s %9s %9s %9s %6s %6s %7s  %s\n",
		"target", "workload", "srv µs/rec", "srv ms/MB", "conns", "shards", "records/s", "MB/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "cliCPU", "srvCPU", "retries", "errors / check")
	for _, r := range results {
		fmt.Fprintf(w, "%-11s %-12s %10s %9s %5d %6d %12.0f %9.1f %9.3f %9.3f %9.3f %9.3f %5.0f%% %6s %7d  %s\n",
			r.Label, r.Name, perText(r.ServerMicrosPerRecord, 2), perText(r.ServerMillisPerMB, 1), r.Conns, r.Shards, r.RecordsPerSec, r.MBPerSec,
			r.Latency.P50, r.Latency.P99, r.Latency.P999, r.Latency.Max,
			r.ClientCPU, cpuText(r.ServerCPU), r.Retries, r.Problems())
	}
}

// perText formats a per-record or per-MB cost, "n/a" when unknown.
func perText(v float64, decimals int) string {
	if v < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.*f", decimals, v)
}

func cpuText(pct float64) string {
	if pct < 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.0f%%", pct)
}

// Problems describes the run's errors and correctness account in one
// line, "ok" when there is nothing to say.
func (r *Result) Problems() string {
	var parts []string
	for _, k := range sortedErrors(r.Errors) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, r.Errors[k]))
	}
	if r.Failed > 0 {
		parts = append(parts, fmt.Sprintf("failed×%d", r.Failed))
	}
	if r.Unsent > 0 {
		parts = append(parts, fmt.Sprintf("unsent×%d at the end", r.Unsent))
	}
	if c := r.Check; c != nil {
		if c.OK() {
			parts = append(parts, fmt.Sprintf("check ok (%d/%d read)", c.Acked-c.Missing, c.Acked))
		} else {
			parts = append(parts, fmt.Sprintf("CHECK FAILED: missing %d, duplicate %d, corrupt %d, out-of-order %d",
				c.Missing, c.Duplicate, c.Corrupt, c.OutOfOrder))
			if c.FirstError != "" {
				parts = append(parts, "first: "+c.FirstError)
			}
		}
	}
	if r.PutLatency != nil {
		parts = append(parts, fmt.Sprintf("put p50 %.3f p99 %.3f ms", r.PutLatency.P50, r.PutLatency.P99))
	}
	if r.Err != "" {
		parts = append(parts, "ERROR: "+r.Err)
	}
	if r.Records == 0 {
		parts = append(parts, "NO RECORDS")
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, ", ")
}

// WriteJSON writes the results as one indented JSON array.
func WriteJSON(w io.Writer, results []*Result) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(results)
}

// WriteHTML writes a self-contained page (inline SVG drawn by inline
// script; no network assets) with each run's throughput over time and its
// latency distribution.
func WriteHTML(w io.Writer, title string, results []*Result) error {
	data, err := json.Marshal(results)
	if err != nil {
		return err
	}
	return reportPage.Execute(w, map[string]any{"Title": title, "Data": template.JS(data)})
}

var reportPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#222}
table{border-collapse:collapse;margin-bottom:24px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,td:nth-child(2),td:last-child{text-align:left}
.run{display:flex;gap:24px;flex-wrap:wrap;margin-bottom:28px}
svg{border:1px solid #ddd;background:#fff}.bad{color:#b00;font-weight:bold}
</style></head><body>
<h1>{{.Title}}</h1>
<table id="summary"></table>
<div id="runs"></div>
<script>
const results = {{.Data}};
const fmt = (v, d) => (v === undefined || v === null) ? "" : Number(v).toFixed(d);
const tbl = document.getElementById("summary");
tbl.innerHTML = "<tr><th>target</th><th>workload</th><th>server µs/record</th><th>server ms/MB</th><th>records/s</th><th>MB/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th><th>client CPU</th><th>server CPU</th><th>errors / check</th></tr>";
for (const r of results) {
  const row = tbl.insertRow();
  const ok = !r.error && r.records > 0 && (!r.check || (r.check.missing + r.check.duplicate + r.check.corrupt + r.check.out_of_order) === 0);
  const errs = Object.entries(r.errors || {}).map(([k, v]) => k + "×" + v).join(", ");
  const chk = r.check ? (ok ? "check ok" : "CHECK FAILED " + JSON.stringify(r.check)) : "";
  for (const v of [r.label, r.name, r.server_us_per_record < 0 ? "n/a" : fmt(r.server_us_per_record, 2), r.server_ms_per_mb < 0 ? "n/a" : fmt(r.server_ms_per_mb, 1), fmt(r.records_per_sec, 0), fmt(r.mb_per_sec, 1), fmt(r.latency.p50_ms, 3), fmt(r.latency.p99_ms, 3),
      fmt(r.latency.p999_ms, 3), fmt(r.latency.max_ms, 3), fmt(r.client_cpu_pct, 0) + "%", r.server_cpu_pct < 0 ? "n/a" : fmt(r.server_cpu_pct, 0) + "%",
      [errs, chk, r.error || ""].filter(Boolean).join("; ")]) {
    const c = row.insertCell(); c.textContent = v;
  }
  if (!ok) row.lastChild.className = "bad";
}
const NS = "http://www.w3.org/2000/svg";
function el(name, attrs, parent, text) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}
// chart draws a line chart of pts [[x,y]] with axes; logx maps x with xmap.
function chart(parent, title, xlabel, ylabel, pts, xmap, xticks) {
  const W = 520, H = 260, L = 64, R = 16, T = 28, B = 40;
  const svg = el("svg", {width: W, height: H}, parent);
  el("text", {x: W / 2, y: 18, "text-anchor": "middle", "font-weight": "bold"}, svg, title);
  if (!pts.length) { el("text", {x: W / 2, y: H / 2, "text-anchor": "middle"}, svg, "no data"); return; }
  const xs = pts.map(p => xmap(p[0])), ys = pts.map(p => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs) || 1, y1 = Math.max(...ys) * 1.1 || 1;
  const px = x => L + (xmap(x) - x0) / ((x1 - x0) || 1) * (W - L - R);
  const py = y => H - B - y / y1 * (H - T - B);
  el("line", {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: "#888"}, svg);
  el("line", {x1: L, y1: T, x2: L, y2: H - B, stroke: "#888"}, svg);
  for (let i = 0; i <= 4; i++) {
    const y = y1 * i / 4;
    el("text", {x: L - 6, y: py(y) + 4, "text-anchor": "end", "font-size": 11}, svg, y >= 100 ? y.toFixed(0) : y.toPrecision(3));
    el("line", {x1: L, y1: py(y), x2: W - R, y2: py(y), stroke: "#eee"}, svg);
  }
  for (const t of xticks(x0, x1)) {
    el("text", {x: px(t[0]), y: H - B + 16, "text-anchor": "middle", "font-size": 11}, svg, t[1]);
  }
  el("text", {x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", "font-size": 12}, svg, xlabel);
  el("text", {x: 14, y: (T + H - B) / 2, "text-anchor": "middle", "font-size": 12, transform: "rotate(-90 14 " + (T + H - B) / 2 + ")"}, svg, ylabel);
  el("polyline", {points: pts.map(p => px(p[0]) + "," + py(p[1])).join(" "), fill: "none", stroke: "#1f77b4", "stroke-width": 2}, svg);
}
const lin = x => x;
const linTicks = (a, b) => [0, 1, 2, 3, 4].map(i => { const v = a + (b - a) * i / 4; return [v, v.toFixed(1)]; });
const nines = p => -Math.log10(Math.max(1e-6, 1 - p / 100)); // 0 → 0, 90 → 1, 99 → 2 …
const nineTicks = () => [[0, "0"], [90, "90"], [99, "99"], [99.9, "99.9"], [99.99, "99.99"], [99.999, "99.999"]];
const runs = document.getElementById("runs");
for (const r of results) {
  const h = document.createElement("h3");
  h.textContent = r.label + " · " + r.name + " (" + r.conns + " conns, " + r.shards + " shards, " + r.record_bytes + " B records" + (r.batch > 1 ? ", batch " + r.batch : "") + ")";
  runs.appendChild(h);
  const div = document.createElement("div"); div.className = "run"; runs.appendChild(div);
  const tl = r.timeline || [];
  chart(div, "throughput (records/s)", "seconds", "records/s", tl.map(p => [p.t, p.records_per_sec]), lin, linTicks);
  chart(div, "p99 latency per interval (ms)", "seconds", "ms", tl.filter(p => p.p99_ms > 0).map(p => [p.t, p.p99_ms]), lin, linTicks);
  chart(div, r.latency_kind + " latency distribution (ms)", "percentile", "ms", (r.distribution || []).map(q => [q.percentile, q.ms]), nines, nineTicks);
}
</script></body></html>
`))
