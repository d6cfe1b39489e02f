// Helpers shared by the bench sections (bench/*.bench.mjs). Not a section itself.

/** mulberry32: a small seeded PRNG, so every run measures the same samples. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Log-normal latencies in ms: median `medianMs`, shape `sigma` (1.0 gives a
 * p99 about 10× the median: the long tail of a real service).
 */
export function logNormal(n, { seed = 42, medianMs = 50, sigma = 1.0 } = {}) {
  const rand = prng(seed);
  const out = new Float64Array(n);
  const mu = Math.log(medianMs);
  for (let i = 0; i < n; i += 2) {
    // Box-Muller: two independent normals per pair of uniforms.
    const u1 = 1 - rand();
    const u2 = rand();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = Math.exp(mu + sigma * r * Math.cos(2 * Math.PI * u2));
    if (i + 1 < n) out[i + 1] = Math.exp(mu + sigma * r * Math.sin(2 * Math.PI * u2));
  }
  return out;
}

/** Exact quantile of a sorted array, nearest-rank (the value at rank ⌈q·n⌉). */
export function exactQuantile(sorted, q) {
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function nowNs() {
  return process.hrtime.bigint();
}

/**
 * Times competitors side by side. Each competitor is `(n) => void` running its
 * operation n times. After a warm-up (which also calibrates a batch size of
 * about `batchMs` per competitor), the competitors run in interleaved rounds,
 * in a rotating order, so drift (thermal, GC, other processes) hits them all
 * alike. Returns the median ns/op per competitor and the spread of rounds.
 */
export function interleave(competitors, { rounds = 15, batchMs = 15, warmupMs = 150 } = {}) {
  const names = Object.keys(competitors);
  const batch = {};
  for (const name of names) {
    const fn = competitors[name];
    // Warm up until the JIT has settled and the timing is stable enough to size a batch.
    let n = 1000;
    let spent = 0;
    let perOp = 0;
    while (spent < warmupMs * 1e6) {
      const t0 = nowNs();
      fn(n);
      const dt = Number(nowNs() - t0);
      spent += dt;
      perOp = dt / n;
      if (dt < 5e6) n *= 2;
    }
    batch[name] = Math.max(1000, Math.round((batchMs * 1e6) / perOp));
  }
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const n = batch[name];
      const t0 = nowNs();
      competitors[name](n);
      samples[name].push(Number(nowNs() - t0) / n);
    }
  }
  return Object.fromEntries(
    names.map((name) => {
      const xs = samples[name];
      return [name, { nsPerOp: median(xs), min: Math.min(...xs), max: Math.max(...xs), batch: batch[name], samples: xs }];
    }),
  );
}

/**
 * Ratio a ÷ b from {@link interleave} results, as the median of the per-round
 * ratios: both ran back to back in each round, so drift slows both sides of a
 * pair and cancels out, where a ratio of medians would not.
 */
export function pairedRatio(a, b) {
  return median(a.samples.map((x, i) => x / b.samples[i]));
}

/**
 * Ratio a ÷ b of the fastest batches. On a shared machine other processes
 * only ever add time, and a short batch is often preempted: the fastest of
 * many short interleaved batches is the best estimate of the cost itself
 * (the reasoning behind Python's timeit reporting the minimum).
 */
export function bestRatio(a, b) {
  return a.min / b.min;
}

/** Left/right-aligned text table. */
export function table(header, rows) {
  const all = [header, ...rows].map((r) => r.map((c) => String(c)));
  const widths = header.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const numeric = header.map((_, i) =>
    rows.every((r) => typeof r[i] === 'number' || r[i] === '' || /^[-+]?[\d.,]+\s*[%×a-zA-Z/]*$/.test(String(r[i]))),
  );
  const line = (r) => r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ');
  return [line(all[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...all.slice(1).map(line)].join('\n');
}

export const fmt = {
  ns: (v) => `${v.toFixed(1)} ns`,
  ms: (v) => `${v.toFixed(3)} ms`,
  pct: (v) => `${(v * 100).toFixed(2)} %`,
  ratio: (v) => `${v.toFixed(3)}×`,
  kib: (v) => `${(v / 1024).toFixed(1)} KiB`,
};
