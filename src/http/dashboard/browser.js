// @ts-check
/* The dashboard's browser script: plain ES2020, no dependencies, no imports.
 * It is not bundled: src/http/dashboard/script.ts inlines this file's text
 * into the page at build time (the `?raw` import), and the page allows it by
 * its hash in the Content-Security-Policy. Type-checked against the DOM by
 * `npm run typecheck` (tsconfig.dashboard.json). */
(function () {
  'use strict';
  var body = document.body;
  var POLL_MS = Math.max(1000, Number(body.getAttribute('data-poll-ms')) || 5000);
  var HISTORY = Math.max(10, Number(body.getAttribute('data-history')) || 120);
  var TOKEN_KEY = 'firebreak.token';
  var NO_TOKEN_KEY = 'firebreak.no-token';
  var BASE = location.pathname.replace(/\/dashboard\/?$/, '');
  var SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3 };

  var state = { lastOk: 0, lastError: null, history: [], polling: false, again: false, timer: null, serverSkew: 0, slos: [], authFailed: false, markers: [], utc: true };
  var cards = new Map();

  /** Elements of the page by id (inputs, dialogs…: typed loosely on purpose). @param {string} id @returns {any} */
  function $(id) { return document.getElementById(id); }

  function h(tag, props) {
    var el = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        var v = props[k];
        if (v === undefined || v === null || v === false) return;
        if (k === 'class') el.className = v;
        else if (k === 'text') el.textContent = String(v);
        else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? '' : String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }
  function append(el, kid) {
    if (kid === undefined || kid === null || kid === false) return;
    if (Array.isArray(kid)) { kid.forEach(function (k) { append(el, k); }); return; }
    el.appendChild(typeof kid === 'object' ? kid : document.createTextNode(String(kid)));
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function s(tag, attrs, text) {
    var el = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { el.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) el.textContent = String(text);
    return el;
  }
  function pill(value, prefix) {
    var v = value === undefined || value === null ? '' : String(value);
    return h('span', { class: 'pill s-' + v.replace(/[^a-z0-9-]/gi, ''), text: (prefix || '') + v });
  }
  function safeUrl(v) {
    if (typeof v !== 'string') return null;
    try { var u = new URL(v); return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null; } catch (e) { return null; }
  }
  /** Owner, runbook link and escalation contacts as elements; [] when none is set. */
  function runbookBits(rb) {
    if (!isObj(rb)) return [];
    var out = [];
    if (typeof rb.owner === 'string' && rb.owner) out.push(h('span', { 'data-field': 'owner', text: 'owner ' + rb.owner }));
    var url = safeUrl(rb.url);
    if (url) out.push(h('a', { 'data-field': 'runbook', href: url, target: '_blank', rel: 'noopener noreferrer', text: 'runbook' }));
    var contacts = Array.isArray(rb.contacts) ? rb.contacts.filter(function (c) { return typeof c === 'string' && c; }) : [];
    if (contacts.length) out.push(h('span', { 'data-field': 'contacts', text: 'escalate: ' + contacts.join(', ') }));
    return out;
  }
  function isObj(v) { return typeof v === 'object' && v !== null && !Array.isArray(v); }
  function list(v) {
    if (Array.isArray(v)) return v.filter(isObj);
    if (isObj(v)) {
      for (var i = 1; i < arguments.length; i++) if (Array.isArray(v[arguments[i]])) return v[arguments[i]].filter(isObj);
    }
    return [];
  }
  /** A map or array of named things → [{ name, ...stats }]. */
  function named(v) {
    if (Array.isArray(v)) return v.filter(isObj);
    if (!isObj(v)) return [];
    return Object.keys(v).filter(function (k) { return isObj(v[k]); }).map(function (k) { return Object.assign({ name: k }, v[k]); });
  }
  function num(v) { return typeof v === 'number' && isFinite(v) ? v : null; }
  function fmtMs(v) { v = num(v); return v === null ? '—' : v < 10 ? v.toFixed(2) + ' ms' : Math.round(v) + ' ms'; }
  function fmtPct(v, d) { v = num(v); return v === null ? '—' : (v * 100).toFixed(d === undefined ? 2 : d) + '%'; }
  function fmtDur(ms) {
    ms = num(ms); if (ms === null) return '';
    if (ms < 0) ms = 0;
    if (ms < 1000) return Math.round(ms) + 'ms';
    var sec = Math.floor(ms / 1000); if (sec < 60) return sec + 's';
    var m = Math.floor(sec / 60); if (m < 60) return m + 'm ' + String(sec % 60).padStart(2, '0') + 's';
    var hr = Math.floor(m / 60); if (hr < 24) return hr + 'h ' + String(m % 60).padStart(2, '0') + 'm';
    return Math.floor(hr / 24) + 'd ' + (hr % 24) + 'h';
  }
  /** UTC (24 h) by default, like the CLI, timelines and post-mortems; the header toggle switches to local time. */
  function fmtTime(at) {
    if (num(at) === null) return '';
    var d = new Date(at);
    if (state.utc) return d.toISOString().slice(11, 19);
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0') + ':' + String(d.getSeconds()).padStart(2, '0');
  }
  function serverNow() { return Date.now() + state.serverSkew; }

  function toast(message, isError) {
    var t = h('div', { class: 'toast' + (isError ? ' error' : ''), role: isError ? 'alert' : 'status', text: message });
    $('toasts').appendChild(t);
    while ($('toasts').children.length > 4) $('toasts').removeChild($('toasts').firstChild);
    setTimeout(function () { t.remove(); }, isError ? 9000 : 5000);
  }

  // ---- HTTP ---------------------------------------------------------------
  var memoryToken = '';
  function token() { try { return sessionStorage.getItem(TOKEN_KEY) || memoryToken; } catch (e) { return memoryToken; } }
  function setToken(t, noToken) {
    try {
      if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
      if (noToken) sessionStorage.setItem(NO_TOKEN_KEY, '1'); else sessionStorage.removeItem(NO_TOKEN_KEY);
    } catch (e) { /* storage off: the token lasts until reload */ }
    memoryToken = t || '';
  }
  /** Either a token is set or the operator chose to go on without one (a router mounted with auth: 'none'). */
  function haveCredentials() { try { return !!token() || sessionStorage.getItem(NO_TOKEN_KEY) === '1'; } catch (e) { return !!memoryToken; } }

  function api(method, path, payload) {
    var headers = { accept: 'application/json' };
    var t = token();
    if (t) headers.authorization = 'Bearer ' + t;
    var ctrl = new AbortController();
    var timer = setTimeout(function () { ctrl.abort(); }, Math.max(POLL_MS, 5000));
    /** @type {RequestInit} */
    var init = { method: method, headers: headers, credentials: 'omit', cache: 'no-store', signal: ctrl.signal };
    if (method === 'POST') { headers['content-type'] = 'application/json'; init.body = JSON.stringify(payload || {}); }
    return fetch(BASE + path, init).then(function (res) {
      clearTimeout(timer);
      var ct = res.headers.get('content-type') || '';
      var read = ct.indexOf('json') >= 0 ? res.json().catch(function () { return null; }) : res.text();
      return read.then(function (data) {
        if (res.ok) return data;
        var e = isObj(data) && isObj(data.error) ? data.error : {};
        /** @type {any} */
        var err = new Error(typeof e.message === 'string' ? e.message : 'HTTP ' + res.status);
        err.status = res.status; err.code = typeof e.code === 'string' ? e.code : 'HTTP_' + res.status; err.details = e.details;
        throw err;
      });
    }, function (e) {
      clearTimeout(timer);
      /** @type {any} */
      var err = new Error(e && e.name === 'AbortError' ? 'no answer in time' : 'server unreachable');
      err.status = 0; err.code = 'UNREACHABLE';
      throw err;
    });
  }
  function optional(p) { return p.then(function (v) { return v; }, function (e) { if (e.status === 401 || e.status === 0) throw e; return undefined; }); }

  // ---- connection state -----------------------------------------------------
  function setConn(kind, label) {
    var c = $('conn');
    c.className = 'conn ' + kind;
    c.textContent = label;
  }
  function tick() {
    var banner = $('banner');
    var since = state.lastOk ? Date.now() - state.lastOk : null;
    $('updated').textContent = since === null ? 'no data yet' : 'updated ' + fmtDur(since) + ' ago';
    if (state.authFailed) { setConn('auth', 'token needed'); }
    else if (state.lastError) {
      setConn('unreachable', 'unreachable');
      banner.hidden = false; banner.className = 'banner';
      banner.textContent = 'Cannot reach the service (' + state.lastError + ').' + (state.lastOk ? ' Showing data from ' + fmtDur(since) + ' ago.' : '') + ' Retrying every ' + fmtDur(POLL_MS) + '.';
    } else if (since !== null && since > 2.5 * POLL_MS) {
      setConn('stale', 'stale');
      banner.hidden = false; banner.className = 'banner warn';
      banner.textContent = 'Data is stale: last update ' + fmtDur(since) + ' ago.';
    } else if (state.lastOk) { setConn('live', 'live'); banner.hidden = true; }
  }

  // ---- dialogs --------------------------------------------------------------
  function askToken(message) {
    var d = $('token-dialog');
    $('token-message').textContent = message || 'Enter an API token for this service (kept in this tab only).';
    $('token-input').value = '';
    if (!d.open) d.showModal();
    $('token-input').focus();
  }
  function confirmAction(title, message, confirmLabel) {
    return new Promise(function (resolve) {
      var d = $('confirm-dialog');
      $('confirm-title').textContent = title;
      $('confirm-message').textContent = message;
      $('confirm-ok').textContent = confirmLabel || 'Run';
      function done(v) { $('confirm-ok').removeEventListener('click', ok); d.removeEventListener('close', cancel); if (d.open) d.close(); resolve(v); }
      function ok() { done(true); }
      function cancel() { done(false); }
      $('confirm-ok').addEventListener('click', ok);
      d.addEventListener('close', cancel);
      d.showModal();
    });
  }

  // ---- operator actions ---------------------------------------------------
  function operate(button, label, method, path, payload, after) {
    if (button) button.disabled = true;
    return api(method, path, payload).then(function (data) {
      var ex = isObj(data) && isObj(data.execution) ? data.execution : data;
      var st = isObj(ex) ? (ex.outcome !== undefined ? ex.outcome : ex.status) : undefined;
      if (st === 'failed' || st === 'timeout' || st === 'timed-out') toast(label + ': ' + st + (isObj(ex) && typeof ex.error === 'string' ? ' — ' + ex.error : ''), true);
      else toast(label + ': ' + (st === 'noop' ? 'already in that state' : 'done') + (isObj(ex) && typeof ex.message === 'string' ? ' — ' + ex.message : ''));
      if (after) after(data);
      refreshNow();
    }, function (err) {
      if (err.status === 401) { state.authFailed = true; askToken('The token was rejected. Enter a valid token.'); }
      else if (err.status === 403) toast(label + ': forbidden — this token cannot change anything (operator role needed).', true);
      else toast(label + ': ' + err.message, true);
    }).then(function () { if (button) button.disabled = false; });
  }
  function enc(v) { return encodeURIComponent(String(v)); }

  // ---- SLOs ---------------------------------------------------------------
  function renderSlos(slos) {
    var box = $('slos');
    if (slos.length === 0) { box.replaceChildren(h('div', { class: 'empty', text: 'No SLOs configured.' })); return; }
    box.replaceChildren.apply(box, slos.map(function (o) {
      var ms = o.unit === 'ms';
      var op = o.direction === 'min' ? '≥ ' : '≤ ';
      return h('div', { class: 'slo ' + String(o.status), 'data-slo': o.name },
        h('div', { class: 'name', text: o.name }),
        h('div', { class: 'value', text: ms ? fmtMs(o.value) : fmtPct(o.value) }),
        h('div', { class: 'target', text: 'target ' + op + (ms ? fmtMs(o.target) : fmtPct(o.target)) }),
        h('div', { class: 'target', text: (num(o.samples) === null ? 0 : o.samples) + ' samples' }),
        num(o.errorBudgetRemaining) !== null || num(o.burnRate) !== null ? h('div', { class: 'budget', 'data-field': 'budget' },
          h('span', { text: 'budget ' + (num(o.errorBudgetRemaining) === null ? '—' : fmtPct(o.errorBudgetRemaining, 1)) + ' left' }),
          h('span', { text: ' · burn ' + (num(o.burnRate) === null ? '—' : o.burnRate.toFixed(2) + '×') }),
          h('meter', { min: 0, max: 1, low: 0.25, high: 0.5, optimum: 1, value: Math.max(0, Math.min(1, num(o.errorBudgetRemaining) || 0)), 'aria-label': o.name + ' error budget remaining' })) : null,
        pill(o.status));
    }));
  }

  // ---- charts -------------------------------------------------------------
  var PALETTE = ['#58a6ff', '#d29922', '#bc8cff', '#3fb950', '#f85149', '#39c5cf'];
  var MARK = { 'incident-opened': '!', 'incident-resolved': '✓', 'action-applied': 'A', 'action-reverted': 'R' };
  function niceTop(top) {
    if (top <= 0) return { max: 1, steps: 4 };
    var exp = Math.pow(10, Math.floor(Math.log10(top)));
    var f = top / exp;
    var nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10;
    return { max: nf * exp, steps: nf === 2.5 || nf === 5 ? 5 : 4 };
  }
  /**
   * One chart. The y-axis is scaled to the data only: a threshold inside the
   * range is a dashed line, one outside it a labelled marker at the edge (so
   * 70 ms of real latency is not a flat line under an 800 ms threshold).
   * x is time: incidents and actions are vertical markers with a letter.
   */
  function chart(svg, lines, opts) {
    var W = 600, H = 170, L = 52, R = 8, T = 14, B = 20;
    var samples = state.history;
    var vals = [];
    lines.forEach(function (ln) { samples.forEach(function (p) { var v = ln.get(p); if (num(v) !== null) vals.push(v); }); });
    var lo = vals.length ? Math.min.apply(null, vals) : 0;
    var hi = vals.length ? Math.max.apply(null, vals) : 1;
    var min = opts.min !== undefined ? opts.min(lo, hi) : 0;
    var nt = opts.max !== undefined ? { max: opts.max(hi), steps: 4 } : niceTop(Math.max(hi, min) * 1.1 - min);
    var max = opts.max !== undefined ? nt.max : min + nt.max;
    var steps = nt.steps;
    if (max <= min) max = min + 1;
    var n = samples.length;
    var t0 = n ? samples[0].at : 0, t1 = n ? samples[n - 1].at : 1;
    if (t1 <= t0) t0 = t1 - 1;
    var x = function (t) { return L + ((W - L - R) * (t - t0)) / (t1 - t0); };
    var y = function (v) { return T + (H - T - B) * (1 - (v - min) / (max - min)); };
    var kids = [];
    for (var g = 0; g <= steps; g++) {
      var gv = min + ((max - min) * g) / steps;
      kids.push(s('line', { class: 'grid', x1: L, x2: W - R, y1: y(gv), y2: y(gv) }));
      kids.push(s('text', { class: 'axis', x: L - 6, y: y(gv) + 3, 'text-anchor': 'end' }, opts.fmt(gv)));
    }
    var off = [];
    (opts.targets || []).forEach(function (t) {
      if (t.value > max || t.value < min) { off.push((t.value > max ? '▲ ' : '▼ ') + t.label + ' ' + opts.fmt(t.value) + ' (off scale)'); return; }
      kids.push(s('line', { class: 'target', x1: L, x2: W - R, y1: y(t.value), y2: y(t.value) }));
      kids.push(s('text', { class: 'axis tlabel', x: W - R - 2, y: y(t.value) - 3, 'text-anchor': 'end' }, t.label + ' ' + opts.fmt(t.value)));
    });
    if (off.length) kids.push(s('text', { class: 'axis offscale', x: W - R, y: 10, 'text-anchor': 'end', 'data-offscale': '1' }, off.join(' · ')));
    if (n) {
      state.markers.forEach(function (m) {
        if (num(m.at) === null || m.at < t0 || m.at > t1) return;
        var mx = x(m.at);
        var gm = s('g', { class: 'marker m-' + String(m.kind).replace(/[^a-z-]/g, ''), 'data-marker': m.kind });
        gm.appendChild(s('title', {}, fmtTime(m.at) + ' ' + String(m.kind).replace('-', ' ') + ': ' + (m.label || '')));
        gm.appendChild(s('line', { x1: mx, x2: mx, y1: T, y2: H - B }));
        gm.appendChild(s('text', { x: mx + 2, y: T + 8 }, MARK[m.kind] || '•'));
        kids.push(gm);
      });
    }
    lines.forEach(function (ln) {
      var pts = [];
      samples.forEach(function (p) { var v = ln.get(p); if (num(v) !== null) pts.push(x(p.at).toFixed(1) + ',' + y(Math.min(max, Math.max(min, v))).toFixed(1)); });
      if (pts.length) {
        kids.push(s('polyline', { points: pts.join(' '), stroke: ln.colour, 'data-series': ln.key, 'stroke-dasharray': ln.dash || '' }));
        var lastPt = pts[pts.length - 1].split(',');
        kids.push(s('circle', { cx: lastPt[0], cy: lastPt[1], r: 3, fill: ln.colour }));
      }
    });
    if (n) {
      kids.push(s('text', { class: 'axis', x: L, y: H - 4 }, fmtTime(t0)));
      kids.push(s('text', { class: 'axis', x: W - R, y: H - 4, 'text-anchor': 'end' }, fmtTime(t1) + (state.utc ? ' UTC' : ' local')));
    } else {
      kids.push(s('text', { class: 'axis', x: (W + L) / 2, y: H / 2, 'text-anchor': 'middle' }, 'waiting for data…'));
    }
    svg.replaceChildren.apply(svg, kids);
  }
  function field(k) { return function (p) { return p[k]; }; }
  function fmtAxisMs(v) { return v >= 1000 ? (v / 1000).toFixed(1) + 's' : v < 10 ? v.toFixed(1) + 'ms' : Math.round(v) + 'ms'; }
  function ratioMin(lo) { return Math.max(0, Math.min(0.9, Math.floor((lo - 0.01) * 100) / 100)); }
  function fmtRatio(v) { return (v * 100).toFixed(1) + '%'; }
  function budgetSlos() { return state.slos.filter(function (o) { return num(o.errorBudgetRemaining) !== null || num(o.burnRate) !== null; }).slice(0, PALETTE.length); }
  function sloLines(metric) {
    return budgetSlos().map(function (o, i) {
      return { key: metric + ':' + o.name, colour: PALETTE[i], dash: i % 2 ? '5 3' : '', get: function (p) { var sp = isObj(p.slos) ? p.slos[o.name] : null; return isObj(sp) ? sp[metric] : null; } };
    });
  }
  function legend(id, lines, names) {
    $(id).replaceChildren.apply($(id), lines.map(function (ln, i) { return h('span', null, h('i', { style: null, 'data-colour': ln.colour }), names[i]); }));
    Array.prototype.forEach.call($(id).querySelectorAll('i'), function (el, i) { el.style.background = lines[i].colour; });
  }
  function renderCharts() {
    var lat = state.slos.filter(function (o) { return o.kind === 'latency' && !o.route; }).map(function (o) { return { value: o.target, label: o.name }; });
    chart($('latency-chart'), [
      { key: 'p50', colour: '#58a6ff', get: field('p50') }, { key: 'p95', colour: '#d29922', get: field('p95'), dash: '6 3' }, { key: 'p99', colour: '#f85149', get: field('p99'), dash: '2 3' },
    ], { targets: lat, fmt: fmtAxisMs });
    var sr = state.slos.filter(function (o) { return o.kind === 'success-rate' && !o.route; }).map(function (o) { return { value: o.target, label: o.name }; });
    chart($('success-chart'), [{ key: 'successRate', colour: '#3fb950', get: field('successRate') }], { targets: sr, min: ratioMin, max: function () { return 1; }, fmt: fmtRatio });
    chart($('rate-chart'), [{ key: 'rate', colour: '#39c5cf', get: field('rate') }], { fmt: function (v) { return (v < 10 ? v.toFixed(1) : Math.round(v)) + '/s'; } });
    var ch = state.slos.filter(function (o) { return o.kind === 'cache-hit-rate' && !o.cache; }).map(function (o) { return { value: o.target, label: o.name }; });
    chart($('cache-chart'), [{ key: 'cacheHitRate', colour: '#bc8cff', get: field('cacheHitRate') }], { targets: ch, min: function (lo) { return Math.max(0, Math.floor((lo - 0.05) * 10) / 10); }, max: function () { return 1; }, fmt: fmtRatio });
    var bs = budgetSlos();
    var bl = sloLines('budget');
    chart($('budget-chart'), bl, { targets: [{ value: 0, label: 'exhausted' }], min: function (lo) { return Math.min(0, Math.floor(lo * 10) / 10); }, max: function (hi) { return Math.max(1, hi); }, fmt: fmtRatio });
    legend('budget-legend', bl, bs.map(function (o) { return o.name; }));
    var br = sloLines('burn');
    chart($('burn-chart'), br, { targets: [{ value: 1, label: 'budget pace' }], fmt: function (v) { return (v < 10 ? v.toFixed(1) : Math.round(v)) + '×'; } });
    legend('burn-legend', br, bs.map(function (o) { return o.name; }));
    var last = state.history[state.history.length - 1];
    $('latency-now').textContent = last ? 'now: p50 ' + fmtMs(last.p50) + ' · p95 ' + fmtMs(last.p95) + ' · p99 ' + fmtMs(last.p99) : '';
    $('success-now').textContent = last ? 'now: ' + fmtPct(last.successRate) : '';
    $('rate-now').textContent = last && num(last.rate) !== null ? 'now: ' + last.rate.toFixed(1) + '/s (window average)' : '';
    $('cache-now').textContent = last ? 'now: ' + fmtPct(last.cacheHitRate, 1) : '';
  }

  // ---- incidents ----------------------------------------------------------
  function incidentCard(inc) {
    var id = String(inc.id);
    var c = { el: null, parts: {} };
    c.parts.severity = h('span');
    c.parts.priority = h('span');
    c.parts.summary = h('span', { class: 'summary' });
    c.parts.status = h('span');
    c.parts.meta = h('div', { class: 'meta' });
    c.parts.ack = h('button', { class: 'primary', 'data-action': 'acknowledge', text: 'Acknowledge', onclick: function () {
      operate(c.parts.ack, 'Acknowledge ' + id, 'POST', '/admin/incidents/' + enc(id) + '/acknowledge', {});
    } });
    c.parts.procBox = h('div', { class: 'procedures', hidden: true });
    c.parts.procBtn = h('button', { 'data-action': 'procedures', text: 'Procedures', onclick: function () {
      if (!c.parts.procBox.hidden) { c.parts.procBox.hidden = true; return; }
      loadProcedures(id, c);
    } });
    c.parts.timelineCount = h('span');
    c.parts.timeline = h('div');
    c.parts.notes = h('textarea', { placeholder: 'Resolution notes: what fixed it, root cause…', 'aria-label': 'Resolution notes', maxlength: '4000' });
    c.parts.resolve = h('button', { class: 'danger', 'data-action': 'resolve', text: 'Resolve', onclick: function () {
      var notes = c.parts.notes.value.trim();
      if (!notes) { toast('Write resolution notes first.', true); c.parts.notes.focus(); return; }
      operate(c.parts.resolve, 'Resolve ' + id, 'POST', '/admin/incidents/' + enc(id) + '/resolve', { notes: notes }, function () { c.parts.notes.value = ''; });
    } });
    c.el = h('div', { class: 'incident', 'data-incident-id': id },
      h('div', { class: 'head' }, c.parts.severity, c.parts.priority, c.parts.summary, c.parts.status),
      c.parts.meta,
      h('div', { class: 'row' }, c.parts.ack, c.parts.procBtn),
      c.parts.procBox,
      h('details', { class: 'timeline' }, h('summary', null, 'Timeline ', c.parts.timelineCount), c.parts.timeline),
      h('details', { class: 'resolve' }, h('summary', null, 'Resolve with notes…'), c.parts.notes, h('div', { class: 'row' }, c.parts.resolve)));
    return c;
  }
  function updateCard(c, inc) {
    var p = c.parts;
    c.el.className = 'incident ' + String(inc.severity);
    p.severity.replaceWith(p.severity = pill(inc.severity));
    p.priority.replaceWith(p.priority = pill(inc.priority));
    p.status.replaceWith(p.status = pill(inc.status));
    p.summary.textContent = inc.summary || inc.type || '';
    var opened = num(inc.openedAt);
    var age = num(inc.ageMs) !== null ? inc.ageMs : opened === null ? null : serverNow() - opened;
    var acked = num(inc.acknowledgedAt) !== null || inc.acknowledged === true;
    // replaceChildren does not flatten arrays (it would stringify one), hence apply over a flat list.
    p.meta.replaceChildren.apply(p.meta, [
      h('span', { text: String(inc.type || '') + (inc.scope ? ' · ' + inc.scope : '') }),
      h('span', { text: 'age ' + fmtDur(age) }),
      h('span', { 'data-field': 'acknowledged', text: acked ? 'acknowledged' + (inc.acknowledgedBy ? ' by ' + inc.acknowledgedBy : '') : 'not acknowledged' }),
    ].concat(runbookBits(inc.runbook), fleetBits(inc.fleet), [h('span', { class: 'muted', text: String(inc.id) })]));
    p.ack.hidden = acked || inc.status !== 'open';
    var tl = list(inc.timeline);
    p.timelineCount.textContent = '(' + tl.length + ')';
    if (p.timeline.getAttribute('data-n') !== String(tl.length)) {
      p.timeline.setAttribute('data-n', String(tl.length));
      p.timeline.replaceChildren(h('table', null,
        h('thead', null, h('tr', null, h('th', { text: 'When' }), h('th', { text: 'What' }), h('th', { text: 'Who' }), h('th', { text: 'Details' }))),
        h('tbody', null, tl.map(function (e) {
          return h('tr', null,
            h('td', { class: 'num', title: fmtTime(e.at), text: opened === null || num(e.at) === null ? fmtTime(e.at) : e.at < opened ? '−' + fmtDur(opened - e.at) : '+' + fmtDur(e.at - opened) }),
            h('td', null, pill(e.kind)),
            h('td', { text: e.by || '' }),
            h('td', { text: e.message || '' }));
        }))));
    }
  }
  function loadProcedures(id, c) {
    c.parts.procBtn.disabled = true;
    return api('GET', '/admin/incidents/' + enc(id) + '/procedures').then(function (data) {
      renderProcedures(id, c, list(data, 'steps', 'procedures'), isObj(data) ? data.runbook : undefined);
      c.parts.procBox.hidden = false;
    }, function (err) { toast('Procedures: ' + err.message, true); }).then(function () { c.parts.procBtn.disabled = false; });
  }
  function renderProcedures(id, c, steps, runbook) {
    var head = runbookBits(runbook);
    var header = head.length ? h('div', { class: 'meta', 'data-field': 'procedure-runbook' }, head) : null;
    if (steps.length === 0) { c.parts.procBox.replaceChildren(header || '', h('div', { class: 'empty', text: 'No playbook steps for this incident type.' })); return; }
    c.parts.procBox.replaceChildren(header || '', h('table', null,
      h('thead', null, h('tr', null, ['#', 'Step', 'Est.', 'Mode', 'Status', 'Verify', ''].map(function (t) { return h('th', { text: t }); }))),
      h('tbody', null, steps.map(function (st, i) {
        var action = st.actionId || st.action || st.id;
        var needsConfirm = st.requiresConfirm === true;
        var run = h('button', { 'data-action': 'run-step', 'data-step': action, text: needsConfirm ? 'Run…' : 'Run', onclick: function () {
          var go = function () {
            operate(run, String(action), 'POST', '/admin/incidents/' + enc(id) + '/actions/' + enc(action), { confirm: needsConfirm, params: isObj(st.params) ? st.params : {} }, function () {
              loadProcedures(id, c);
            });
          };
          if (!needsConfirm) { go(); return; }
          confirmAction('Run ' + (st.title || action) + '?', 'This action requires confirmation' + (st.risk === 'risky' ? ' and is marked risky' : '') + '. ' + (st.description || '') + ' It is recorded on the incident timeline with your token\'s name.', 'Run ' + action).then(function (yes) { if (yes) go(); });
        } });
        return h('tr', null,
          h('td', { class: 'num', text: String(st.step || i + 1) }),
          h('td', null, h('div', { text: st.title || action }), h('div', { class: 'muted', text: String(action) }), h('div', { class: 'meta' }, runbookBits(st.runbook))),
          h('td', { class: 'num', text: num(st.estimatedSeconds) === null ? '' : fmtDur(st.estimatedSeconds * 1000) }),
          h('td', { text: st.mode || (st.auto === true ? 'auto' : st.auto === false ? 'manual' : '') }),
          h('td', null, st.status ? pill(st.status) : ''),
          h('td', { text: st.verification || '' }),
          h('td', null, run));
      }))));
  }
  function renderIncidents(active) {
    var box = $('incidents');
    active.sort(function (a, b) { return (SEVERITY_RANK[a.severity] ?? 9) - (SEVERITY_RANK[b.severity] ?? 9) || (a.openedAt || 0) - (b.openedAt || 0); });
    $('incident-count').textContent = '(' + active.length + ')';
    var seen = new Set();
    active.forEach(function (inc) {
      var id = String(inc.id);
      seen.add(id);
      var c = cards.get(id);
      if (!c) { c = incidentCard(inc); cards.set(id, c); }
      updateCard(c, inc);
      box.appendChild(c.el);
    });
    cards.forEach(function (c, id) { if (!seen.has(id)) { c.el.remove(); cards.delete(id); } });
    $('no-incidents').hidden = active.length > 0;
  }
  function renderResolved(resolved) {
    var box = $('resolved');
    resolved = resolved.slice().sort(function (a, b) { return (b.resolvedAt || 0) - (a.resolvedAt || 0); }).slice(0, 5);
    if (resolved.length === 0) { box.replaceChildren(); return; }
    box.replaceChildren(h('details', null, h('summary', null, 'Recently resolved (' + resolved.length + ')'), h('table', null,
      h('thead', null, h('tr', null, ['Incident', 'Severity', 'Duration', 'Resolved', 'Notes'].map(function (t) { return h('th', { text: t }); }))),
      h('tbody', null, resolved.map(function (i) {
        return h('tr', { 'data-resolved-id': String(i.id) },
          h('td', null, h('div', { text: i.summary || i.type }), h('div', { class: 'muted', text: String(i.id) })),
          h('td', null, pill(i.severity)),
          h('td', { class: 'num', text: fmtDur(i.durationMs) }),
          h('td', { text: fmtTime(i.resolvedAt) + (i.resolvedBy ? ' by ' + i.resolvedBy : '') }),
          h('td', { text: Array.isArray(i.notes) ? i.notes.filter(function (n) { return typeof n === 'string'; }).join(' · ') : '' }));
      })))));
  }

  // ---- routes ---------------------------------------------------------------
  var routeSort = { key: 'requests', desc: true };
  var ROUTE_COLS = [
    ['route', 'Route'], ['requests', 'Requests'], ['share', 'Traffic share'], ['p95', 'p95'], ['errorShare', 'Error share'], ['successRate', 'Success'],
  ];
  var lastRoutes = {};
  function renderRoutes(routes) {
    lastRoutes = routes;
    var rows = named(routes);
    var total = 0, fails = 0;
    rows.forEach(function (r) { total += num(r.requests) || 0; fails += num(r.failures) || 0; });
    rows = rows.map(function (r) {
      var lm = isObj(r.latencyMs) ? r.latencyMs : {};
      return { route: String(r.name), requests: num(r.requests) || 0, share: total ? (num(r.requests) || 0) / total : null, p95: num(lm.p95), errorShare: fails ? (num(r.failures) || 0) / fails : 0, successRate: num(r.successRate) };
    });
    var k = routeSort.key, dir = routeSort.desc ? -1 : 1;
    rows.sort(function (a, b) { var x = a[k], y = b[k]; if (x === y) return a.route < b.route ? -1 : 1; if (x === null) return 1; if (y === null) return -1; return (x < y ? -1 : 1) * dir; });
    rows = rows.slice(0, 20);
    var box = $('routes');
    if (rows.length === 0) { box.replaceChildren(h('div', { class: 'empty', text: 'No requests in the window.' })); return; }
    box.replaceChildren(h('table', { class: 'routes' },
      h('caption', { class: 'muted', text: 'Top ' + rows.length + ' routes in the window, sorted by ' + k + (routeSort.desc ? ' (descending)' : ' (ascending)') }),
      h('thead', null, h('tr', null, ROUTE_COLS.map(function (c) {
        var sorted = c[0] === k;
        return h('th', { 'aria-sort': sorted ? (routeSort.desc ? 'descending' : 'ascending') : 'none', scope: 'col' },
          h('button', { type: 'button', class: 'sort', 'data-sort': c[0], text: c[1] + (sorted ? (routeSort.desc ? ' ▼' : ' ▲') : ''), onclick: function () {
            routeSort = { key: c[0], desc: sorted ? !routeSort.desc : c[0] !== 'route' };
            renderRoutes(lastRoutes);
          } }));
      }))),
      h('tbody', null, rows.map(function (r) {
        return h('tr', { 'data-route': r.route },
          h('td', { text: r.route }),
          h('td', { class: 'num', text: String(r.requests) }),
          h('td', { class: 'num', text: fmtPct(r.share, 1) }),
          h('td', { class: 'num', text: fmtMs(r.p95) }),
          h('td', { class: 'num', text: fmtPct(r.errorShare, 1) }),
          h('td', { class: 'num', text: fmtPct(r.successRate) }));
      }))));
  }

  // ---- silences and maintenance ------------------------------------------------
  function renderSilences(silences, windows) {
    var box = $('silence-list');
    var rows = silences.slice(0, 20);
    box.replaceChildren(
      rows.length === 0 ? h('div', { class: 'empty', text: 'No silences.' }) : h('table', null,
        h('thead', null, h('tr', null, ['Matchers', 'State', 'Ends', 'By', 'Comment', ''].map(function (t) { return h('th', { scope: 'col', text: t }); }))),
        h('tbody', null, rows.map(function (x) {
          var st = typeof x.state === 'string' ? x.state : '';
          return h('tr', { 'data-silence': String(x.id) },
            h('td', { text: Array.isArray(x.matchers) ? x.matchers.filter(isObj).map(function (m) { return String(m.name) + (typeof m.op === 'string' ? m.op : '=') + String(m.value); }).join(', ') : '' }),
            h('td', null, pill(st)),
            h('td', { text: fmtTime(x.endsAt) }),
            h('td', { text: x.createdBy || x.by || '' }),
            h('td', { text: x.comment || '' }),
            h('td', null, st === 'expired' ? '' : btn('Expire', '', function (b) { operate(b, 'Expire silence', 'DELETE', '/admin/silences/' + enc(x.id)); }, 'silence-expire')));
        }))),
      windows.length === 0 ? h('div', { class: 'empty', text: 'No maintenance windows.' }) : h('table', null,
        h('thead', null, h('tr', null, ['Window', 'Open now', 'Next', 'Comment'].map(function (t) { return h('th', { scope: 'col', text: t }); }))),
        h('tbody', null, windows.slice(0, 20).map(function (w) {
          return h('tr', { 'data-window': String(w.id) },
            h('td', { text: w.name || w.id }),
            h('td', null, pill(w.active ? 'open' : 'closed')),
            h('td', { text: w.active ? 'until ' + fmtTime(w.activeUntil) : fmtTime(w.nextStartAt) }),
            h('td', { text: w.comment || '' }));
        }))));
  }

  // ---- fleet ----------------------------------------------------------------
  /**
   * GET /stats/fleet as a marker: absent (no fleet: the route serving the
   * page says so by data-fleet, or a 404; the section stays hidden), degraded (503: Redis unreachable) or the merged window.
   */
  function fleetRead() {
    if (body.getAttribute('data-fleet') !== 'on') return Promise.resolve({ kind: 'absent' });
    return api('GET', '/stats/fleet').then(function (data) {
      // A host stats section named `fleet` answers here too: only a fleet's reply has replicas.
      return isObj(data) && isObj(data.replicas) ? { kind: 'ok', data: data } : { kind: 'absent' };
    }, function (e) {
      if (e.status === 401 || e.status === 0) throw e;
      if (e.status === 404) return { kind: 'absent' };
      if (e.status === 503) return { kind: 'degraded', message: e.message };
      return { kind: 'error', message: e.message };
    });
  }
  var lastFleet = null;
  function renderFleet(f) {
    var section = $('fleet'), box = $('fleet-view');
    if (!f || f.kind === 'absent') { section.hidden = true; box.replaceChildren(); lastFleet = null; return; }
    section.hidden = false;
    var data = f.kind === 'ok' ? f.data : lastFleet;
    if (f.kind === 'ok') lastFleet = f.data;
    var kids = [];
    if (f.kind === 'degraded') kids.push(h('div', { class: 'banner warn', role: 'status', 'data-field': 'fleet-degraded', text: 'Redis unreachable: acting on last known state.' + (data ? ' Replicas below are as last seen.' : '') }));
    else if (f.kind === 'error') kids.push(h('div', { class: 'banner warn', role: 'status', 'data-field': 'fleet-error', text: 'Fleet view unavailable: ' + f.message }));
    if (data) {
      var reps = isObj(data.replicas) ? data.replicas : {};
      var rows = [];
      (Array.isArray(reps.merged) ? reps.merged : []).forEach(function (r) { if (typeof r === 'string') rows.push({ replica: r, state: 'live', detail: 'in the window' }); });
      list(reps.stale).forEach(function (r) { rows.push({ replica: String(r.replica), state: 'stale', detail: 'silent for ' + fmtDur(r.silentForMs) + ': left out' }); });
      list(reps.excluded).forEach(function (r) { rows.push({ replica: String(r.replica), state: 'excluded', detail: String(r.reason || '') + (r.detail ? ': ' + r.detail : '') }); });
      rows.sort(function (a, b) { return a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0; });
      var o = isObj(data.overall) ? data.overall : {};
      var l = isObj(o.latencyMs) ? o.latencyMs : {};
      var live = rows.filter(function (r) { return r.state === 'live'; }).length;
      kids.push(h('div', { class: 'meta', 'data-field': 'fleet-summary' },
        h('span', { text: live + ' of ' + rows.length + ' replicas live' }),
        h('span', { text: 'fleet success ' + fmtPct(o.successRate) }),
        h('span', { text: 'fleet p95 ' + fmtMs(l.p95) }),
        h('span', { text: (num(o.requests) === null ? 0 : o.requests) + ' requests in the window' }),
        typeof data.status === 'string' ? pill(data.status, 'SLOs ') : null,
        typeof data.readBy === 'string' ? h('span', { class: 'muted', text: 'read by ' + data.readBy }) : null));
      kids.push(rows.length === 0 ? h('div', { class: 'empty', text: 'No replica has published a window yet.' }) : h('table', { class: 'fleet' },
        h('caption', { class: 'muted', text: 'Replicas of ' + String(data.service || 'the service') }),
        h('thead', null, h('tr', null, ['Replica', 'State', 'Detail'].map(function (t) { return h('th', { scope: 'col', text: t }); }))),
        h('tbody', null, rows.map(function (r) {
          return h('tr', { 'data-replica': r.replica, 'data-state': r.state },
            h('th', { scope: 'row', text: r.replica }),
            h('td', null, pill(r.state)),
            h('td', { text: r.detail }));
        }))));
    }
    box.replaceChildren.apply(box, kids);
  }
  /** Owner and sightings of a fleet-shared incident; [] for a local one. */
  function fleetBits(fl) {
    if (!isObj(fl)) return [];
    var out = [];
    if (typeof fl.owner === 'string' && fl.owner) out.push(h('span', { 'data-field': 'fleet-owner', text: 'owner: ' + fl.owner }));
    var seen = list(fl.replicas).map(function (r) { return r.replica; }).filter(function (r) { return typeof r === 'string' && r; });
    if (seen.length) out.push(h('span', { 'data-field': 'fleet-seen', text: 'seen by: ' + seen.join(', ') }));
    if (typeof fl.openedBy === 'string' && fl.openedBy && fl.openedBy !== fl.owner) out.push(h('span', { 'data-field': 'fleet-opened-by', text: 'opened by ' + fl.openedBy }));
    return out;
  }

  // ---- controls -----------------------------------------------------------
  function controlGroup(title, rows, columns) {
    if (rows.length === 0) return null;
    return h('div', { class: 'group', 'data-group': title.toLowerCase() }, h('h3', { text: title }), h('table', null,
      h('thead', null, h('tr', null, columns.map(function (c) { return h('th', { text: c[0] }); }))),
      h('tbody', null, rows.map(function (r) {
        return h('tr', { 'data-control': String(r.name) }, columns.map(function (c) { var v = c[1](r); return typeof v === 'object' && v !== null ? h('td', null, v) : h('td', { text: v === undefined || v === null ? '' : String(v) }); }));
      }))));
  }
  function btn(label, cls, onclick, action) { var b = h('button', { class: cls, 'data-action': action, text: label }); b.addEventListener('click', function () { onclick(b); }); return b; }
  function confirmThen(title, message, label, fn) { return function (b) { confirmAction(title, message, label).then(function (yes) { if (yes) fn(b); }); }; }
  function renderControls(ctrl) {
    var features = named(ctrl.features), caches = named(ctrl.caches), limiters = named(ctrl.rateLimiters), fallbacks = named(ctrl.fallbacks), canaries = named(ctrl.canaries);
    var groups = [
      controlGroup('Features', features, [
        ['Feature', function (r) { return r.name; }],
        ['State', function (r) { return pill(r.enabled === false ? 'disabled' : 'enabled'); }],
        ['Risky', function (r) { return r.risky ? 'yes' : ''; }],
        ['', function (r) {
          return r.enabled === false
            ? btn('Enable', '', function (b) { operate(b, 'Enable ' + r.name, 'POST', '/admin/features/' + enc(r.name) + '/enable', {}); }, 'feature-enable')
            : btn('Disable', 'danger', confirmThen('Disable feature ' + r.name + '?', 'Requests stop using ' + r.name + ' until it is enabled again.', 'Disable', function (b) { operate(b, 'Disable ' + r.name, 'POST', '/admin/features/' + enc(r.name) + '/disable', {}); }), 'feature-disable');
        }],
      ]),
      controlGroup('Caches', caches, [
        ['Cache', function (r) { return r.name; }],
        ['State', function (r) { return pill(r.disabled === true || r.enabled === false ? 'disabled' : 'enabled'); }],
        ['Size', function (r) { return num(r.size) === null ? '' : r.size; }],
        ['Hit rate (since start)', function (r) { return fmtPct(r.hitRate, 1); }],
        ['', function (r) {
          var off = r.disabled === true || r.enabled === false;
          var box = h('div', { class: 'row' });
          box.appendChild(btn('Clear', '', confirmThen('Clear cache ' + r.name + '?', 'Every entry is dropped; the next requests miss.', 'Clear', function (b) { operate(b, 'Clear cache ' + r.name, 'POST', '/admin/cache/clear', { cache: r.name }); }), 'cache-clear'));
          box.appendChild(off
            ? btn('Enable', '', function (b) { operate(b, 'Enable cache ' + r.name, 'POST', '/admin/cache/enable', { cache: r.name }); }, 'cache-enable')
            : btn('Disable', 'danger', confirmThen('Disable cache ' + r.name + '?', 'The cache becomes a pass-through until enabled again.', 'Disable', function (b) { operate(b, 'Disable cache ' + r.name, 'POST', '/admin/cache/disable', { cache: r.name }); }), 'cache-disable'));
          return box;
        }],
      ]),
      controlGroup('Rate limiters', limiters, [
        ['Limiter', function (r) { return r.name; }],
        ['Limit', function (r) { var l = isObj(r.limit) ? r.limit : r; var m = num(l.maxRequests) !== null ? l.maxRequests : num(l.currentLimit); return m === null ? '' : m + (num(l.windowSeconds) !== null ? ' / ' + l.windowSeconds + 's' : ''); }],
        ['Allowed', function (r) { return num(r.allowed) === null ? '' : r.allowed; }],
        ['Limited', function (r) { return num(r.limited) === null ? '' : r.limited; }],
        ['Blocked keys', function (r) { return Array.isArray(r.blocked) ? r.blocked.length : ''; }],
        ['State', function (r) { return pill(r.adjusted ? 'adjusted' : 'configured'); }],
      ]),
      controlGroup('Fallbacks', fallbacks, [
        ['Model', function (r) { return r.name; }],
        ['Serving', function (r) { return pill(r.forced ? 'forced' : 'primary', ''); }],
        ['Primary', function (r) { return num(r.primary) !== null ? r.primary : num(r.primaryCalls) !== null ? r.primaryCalls : ''; }],
        ['Fallback', function (r) { return num(r.fallback) !== null ? r.fallback : num(r.fallbackCalls) !== null ? r.fallbackCalls : ''; }],
        ['', function (r) {
          return r.forced
            ? btn('Restore primary', '', function (b) { operate(b, 'Restore ' + r.name, 'POST', '/admin/model/' + enc(r.name) + '/restore', {}); }, 'model-restore')
            : btn('Force fallback', 'danger', confirmThen('Force fallback for ' + r.name + '?', 'Every call is answered by the fallback until restored.', 'Force fallback', function (b) { operate(b, 'Fallback ' + r.name, 'POST', '/admin/model/' + enc(r.name) + '/fallback', {}); }), 'model-fallback');
        }],
      ]),
      controlGroup('Canaries', canaries, [
        ['Canary', function (r) { return r.name; }],
        ['Percent', function (r) { return num(r.percent) === null ? '' : r.percent + '%'; }],
        ['State', function (r) { return pill(r.stopped || r.emergencyStopped || r.locked ? 'stopped' : r.enabled === false ? 'disabled' : 'enabled'); }],
        ['', function (r) {
          var stopped = r.stopped || r.emergencyStopped || r.locked;
          return stopped
            ? btn('Resume', '', confirmThen('Resume canary ' + r.name + '?', 'Canary traffic starts again at ' + (num(r.percent) === null ? 'its configured share' : r.percent + '%') + '. This needs confirmation.', 'Resume', function (b) { operate(b, 'Resume canary ' + r.name, 'POST', '/admin/canary/resume', { canary: r.name, confirm: true }); }), 'canary-resume')
            : btn('Emergency stop', 'danger', confirmThen('Emergency stop canary ' + r.name + '?', 'All traffic goes to stable and the canary stays locked until resumed.', 'Emergency stop', function (b) { operate(b, 'Emergency stop ' + r.name, 'POST', '/admin/canary/emergency-stop', { canary: r.name }); }), 'canary-emergency-stop');
        }],
      ]),
    ].filter(Boolean);
    var box = $('controls');
    if (groups.length === 0) box.replaceChildren(h('div', { class: 'empty', text: 'No controls registered.' }));
    else box.replaceChildren.apply(box, groups);
  }

  // ---- polling ------------------------------------------------------------
  function poll() {
    if (state.polling) { state.again = true; return; }
    state.polling = true;
    clearTimeout(state.timer);
    var sentAt = Date.now();
    Promise.all([
      api('GET', '/stats/slo'),
      api('GET', '/stats/metrics'),
      optional(api('GET', '/admin/incidents?status=active')),
      optional(api('GET', '/admin/incidents?status=resolved')),
      optional(api('GET', '/stats/controls')),
      optional(api('GET', '/stats/history')),
      optional(api('GET', '/admin/silences')),
      optional(api('GET', '/admin/maintenance')),
      fleetRead(),
    ]).then(function (r) {
      var slo = r[0], metrics = isObj(r[1]) ? r[1] : {};
      state.lastOk = Date.now(); state.lastError = null; state.authFailed = false;
      if (num(metrics.at) !== null) state.serverSkew = metrics.at - (sentAt + state.lastOk) / 2;
      if (typeof metrics.service === 'string') $('service').textContent = metrics.service;
      state.slos = list(slo, 'slos');
      if (state.slos.length === 0) state.slos = list(metrics, 'slos');
      renderSlos(state.slos);
      var o = isObj(metrics.overall) ? metrics.overall : {};
      var l = isObj(o.latencyMs) ? o.latencyMs : {};
      var hist = isObj(r[5]) ? r[5] : null;
      if (hist && Array.isArray(hist.points)) {
        // The server's ring: the baseline is there the moment the page opens.
        state.history = hist.points.filter(function (p) { return isObj(p) && num(p.at) !== null; });
        state.markers = list(hist, 'markers');
      } else {
        // An older server without /stats/history: fall back to a ring filled by polling.
        var wms = num(metrics.windowMs);
        state.history.push({ at: num(metrics.at) !== null ? metrics.at : state.lastOk, p50: num(l.p50), p95: num(l.p95), p99: num(l.p99), successRate: num(o.successRate), rate: wms && num(o.requests) !== null ? o.requests / (wms / 1000) : null, cacheHitRate: null, slos: {} });
        while (state.history.length > HISTORY) state.history.shift();
      }
      renderRoutes(isObj(metrics.routes) ? metrics.routes : {});
      renderSilences(list(r[6], 'silences'), list(r[7], 'windows', 'maintenance'));
      renderCharts();
      renderIncidents(list(r[2], 'incidents'));
      renderResolved(list(r[3], 'incidents'));
      var ctrl = isObj(r[4]) ? r[4] : {};
      renderControls(ctrl);
      renderFleet(r[8]);
      body.setAttribute('data-state', 'ready');
    }, function (err) {
      if (err.status === 401) {
        state.authFailed = true;
        askToken(token() ? 'The token was rejected (401). Enter a valid token.' : 'This service needs a token to show its data.');
      } else if (err.status === 403) {
        state.lastError = 'this token may not read stats (403)';
      } else {
        state.lastError = err.message;
      }
      body.setAttribute('data-state', 'error');
    }).then(function () {
      state.polling = false;
      tick();
      if (state.again) { state.again = false; poll(); return; }
      // While the token is being re-entered there is no point asking again (and logging more 401s).
      if (!state.authFailed) state.timer = setTimeout(poll, POLL_MS);
    });
  }
  function refreshNow() { poll(); }

  // ---- wiring -------------------------------------------------------------
  $('token-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var v = $('token-input').value.trim();
    if (!v) return;
    setToken(v, false);
    state.authFailed = false;
    $('token-dialog').close();
    refreshNow();
  });
  $('token-none').addEventListener('click', function () {
    setToken('', true);
    state.authFailed = false;
    $('token-dialog').close();
    refreshNow();
  });
  $('forget-token').addEventListener('click', function () { setToken('', false); clearTimeout(state.timer); cards.forEach(function (c) { c.el.remove(); }); cards.clear(); askToken('Token forgotten. Enter a token to continue.'); });
  $('refresh').addEventListener('click', function () { if (haveCredentials()) refreshNow(); else askToken(); });
  $('confirm-cancel').addEventListener('click', function () { $('confirm-dialog').close(); });
  $('tz').addEventListener('change', function () { state.utc = $('tz').value !== 'local'; renderCharts(); });
  $('silence-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var name = $('silence-name').value.trim(), value = $('silence-value').value.trim();
    var minutes = Number($('silence-minutes').value);
    var comment = $('silence-comment').value.trim();
    if (!name || !value || !(minutes > 0) || !comment) { toast('Silence: matcher, duration and comment are all required.', true); return; }
    operate($('silence-create'), 'Silence', 'POST', '/admin/silences', { matchers: [{ name: name, value: value }], durationMs: Math.round(minutes * 60000), comment: comment });
  });
  $('poll-every').textContent = 'refresh every ' + fmtDur(POLL_MS);
  setInterval(tick, 1000);
  renderCharts();
  // No request goes out before the operator has given a token (or chosen to go without one).
  if (haveCredentials()) poll(); else askToken();
})();
