/**
 * The dashboard's stylesheet, inlined into the page and allowed by its hash in
 * the Content-Security-Policy. Colour is never the only signal: every status
 * is also written out.
 */
export const DASHBOARD_CSS = `
:root {
  color-scheme: dark;
  --bg: #0f1419; --panel: #171e26; --panel2: #1e2731; --line: #2b3744; --text: #e3e9ef; --muted: #8a99a8;
  --ok: #3fb950; --warn: #d29922; --bad: #f85149; --info: #58a6ff; --nodata: #6e7b88; --purple: #bc8cff;
  --p50: #58a6ff; --p95: #d29922; --p99: #f85149;
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 16px; padding: 12px 20px; background: var(--panel); border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; font-weight: 600; }
header .service { color: var(--muted); }
header .spacer { flex: 1; }
.conn { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px; border: 1px solid var(--line); font-size: 13px; }
.conn::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: var(--nodata); }
.conn.live::before { background: var(--ok); }
.conn.stale::before { background: var(--warn); }
.conn.unreachable::before, .conn.auth::before { background: var(--bad); }
.banner { margin: 12px 20px 0; padding: 10px 14px; border-radius: 6px; border: 1px solid var(--bad); background: #2d1618; }
.banner.warn { border-color: var(--warn); background: #2b2411; }
main { padding: 16px 20px 40px; display: grid; gap: 16px; grid-template-columns: repeat(auto-fill, minmax(400px, 1fr)); }
@media (min-width: 1300px) { main { grid-template-columns: repeat(3, minmax(0, 1fr)); } section.span2 { grid-column: span 2; } }
section { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
section h2 { margin: 0 0 10px; font-size: 15px; font-weight: 600; display: flex; align-items: center; gap: 8px; }
section h2 .count { color: var(--muted); font-weight: 400; }
.muted { color: var(--muted); }
.empty { color: var(--muted); padding: 6px 0; }
.slos { display: grid; gap: 10px; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); }
.slo { background: var(--panel2); border-radius: 6px; padding: 10px 12px; border-left: 4px solid var(--nodata); }
.slo.ok { border-left-color: var(--ok); } .slo.warning { border-left-color: var(--warn); } .slo.breach { border-left-color: var(--bad); }
.slo .name { font-weight: 600; overflow-wrap: anywhere; }
.slo .value { font-size: 22px; font-variant-numeric: tabular-nums; }
.slo .target { color: var(--muted); font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.slo .budget { font-size: 12px; white-space: nowrap; }
.slo .budget meter { display: block; width: 100%; height: 8px; margin-top: 2px; }
.chart .offscale { fill: var(--warn); }
.chart .tlabel { fill: var(--bad); }
.chart .marker line { stroke: var(--text); stroke-width: 1; stroke-dasharray: 2 2; opacity: .7; }
.chart .marker text { fill: var(--text); font-size: 10px; font-weight: 700; }
.chart .m-incident-opened line { stroke: var(--bad); } .chart .m-incident-resolved line { stroke: var(--ok); } .chart .m-action-reverted line { stroke: var(--purple); }
.legend .l-rate { background: #39c5cf; } .legend .l-cache { background: #bc8cff; }
button.sort { background: none; border: 0; color: inherit; font: inherit; font-weight: 600; padding: 0; cursor: pointer; }
.silence-form { display: flex; flex-wrap: wrap; gap: 6px 10px; align-items: end; margin-bottom: 10px; }
.silence-form label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); }
.silence-form input { width: 12em; }
#silence-list td { white-space: nowrap; } #silence-list td:nth-child(5) { white-space: normal; }
table.routes caption { text-align: left; font-size: 12px; }
#fleet-view .meta { display: flex; gap: 14px; flex-wrap: wrap; align-items: center; margin: 0 0 8px; }
table.fleet caption { text-align: left; font-size: 12px; }
#fleet-view .banner { margin: 0 0 10px; }
.pill { white-space: nowrap; display: inline-block; padding: 0 8px; border-radius: 999px; font-size: 12px; font-weight: 600; border: 1px solid currentColor; text-transform: uppercase; letter-spacing: .02em; }
.s-ok, .s-resolved, .s-done, .s-enabled, .s-primary, .s-stable, .s-success, .s-configured, .s-live { color: var(--ok); }
.s-warning, .s-acknowledged, .s-medium, .s-pending, .s-forced, .s-adjusted, .s-noop, .s-stale { color: var(--warn); }
.s-breach, .s-open, .s-critical, .s-high, .s-failed, .s-timeout, .s-disabled, .s-stopped, .s-blocked, .s-excluded { color: var(--bad); }
.s-no-data, .s-low, .s-skipped { color: var(--nodata); }
.s-mitigating, .s-running { color: var(--info); }
.s-reverted { color: var(--purple); }
.chart { width: 100%; height: 170px; display: block; }
.chart .grid { stroke: var(--line); stroke-width: 1; }
.chart .target { stroke: var(--bad); stroke-dasharray: 4 4; stroke-width: 1; }
.chart .axis { fill: var(--muted); font-size: 10px; }
.chart polyline { fill: none; stroke-width: 2; stroke-linejoin: round; }
.legend { display: flex; gap: 14px; font-size: 12px; color: var(--muted); margin-top: 4px; flex-wrap: wrap; }
.legend i { display: inline-block; width: 12px; height: 3px; vertical-align: middle; margin-right: 4px; }
.legend .l-p50 { background: var(--p50); } .legend .l-p95 { background: var(--p95); } .legend .l-p99 { background: var(--p99); }
.legend .l-ok { background: var(--ok); } .legend .l-target { border-top: 2px dashed var(--bad); height: 0; }
.incident { background: var(--panel2); border-radius: 6px; padding: 12px; margin-bottom: 10px; border-left: 4px solid var(--nodata); }
.incident.critical, .incident.high { border-left-color: var(--bad); }
.incident.medium { border-left-color: var(--warn); }
.incident.low { border-left-color: var(--info); }
.incident .head { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.incident .summary { font-weight: 600; flex: 1 1 300px; overflow-wrap: anywhere; }
.incident .meta { color: var(--muted); font-size: 12px; margin: 4px 0 8px; display: flex; gap: 14px; flex-wrap: wrap; }
.row { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-top: 6px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; overflow-wrap: anywhere; }
th { color: var(--muted); font-weight: 500; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
details { margin-top: 8px; }
summary { cursor: pointer; color: var(--muted); }
button { white-space: nowrap; font: inherit; font-size: 13px; padding: 4px 12px; border-radius: 6px; border: 1px solid var(--line); background: #263241; color: var(--text); cursor: pointer; }
button:hover:not(:disabled) { border-color: var(--info); }
button:disabled { opacity: .5; cursor: default; }
button.danger { border-color: #6e2b2b; background: #3a1d1f; }
button.primary { border-color: #1f6feb; background: #173a6b; }
input, textarea, select { font: inherit; background: var(--bg); color: var(--text); border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; }
textarea { width: 100%; min-height: 54px; resize: vertical; }
dialog { background: var(--panel); color: var(--text); border: 1px solid var(--line); border-radius: 10px; padding: 18px 20px; max-width: 460px; width: calc(100% - 40px); }
dialog::backdrop { background: rgba(0, 0, 0, .6); }
dialog h3 { margin: 0 0 8px; font-size: 16px; }
dialog .row { justify-content: flex-end; margin-top: 14px; }
dialog input { width: 100%; margin-top: 6px; }
.toasts { position: fixed; right: 16px; bottom: 16px; display: grid; gap: 8px; z-index: 20; max-width: 420px; }
.toast { background: var(--panel2); border: 1px solid var(--line); border-left: 4px solid var(--ok); border-radius: 6px; padding: 8px 12px; overflow-wrap: anywhere; }
.toast.error { border-left-color: var(--bad); }
.group + .group { margin-top: 14px; }
.group h3 { font-size: 13px; margin: 0 0 4px; color: var(--muted); font-weight: 500; text-transform: uppercase; letter-spacing: .04em; }
`;
