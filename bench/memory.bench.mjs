// Memory per route series at the default window (5 minutes in 10-second slots).
import { createMonitor } from '../dist/index.js';
import { ManualClock } from '../dist/testing.js';
import { fmt, table } from './lib.mjs';

export const title = 'bytes per route series at the default window (5 min in 10 s slots)';
export const order = 30;

const SERIES = 200;
const ROUNDS = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

function snapshot() {
  // Collect until the heap stops shrinking: V8 flushes unused bytecode only
  // after a few full collections, which would otherwise show up as a negative delta.
  let heap = Infinity;
  for (let i = 0; i < 12; i++) {
    globalThis.gc();
    const h = process.memoryUsage().heapUsed;
    if (h >= heap && i >= 4) break;
    heap = Math.min(heap, h);
  }
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.external };
}

function fill(clock, monitor, routes) {
  for (const route of routes) monitor.recordRequest({ route, durationMs: 12, status: 200 });
  // Touch every slot of every series, so nothing is measured before it is used.
  for (let s = 0; s < 30; s++) {
    clock.advance(10_000);
    for (const route of routes) monitor.recordRequest({ route, durationMs: 12 + s, status: s % 7 === 0 ? 503 : 200 });
  }
}

export default function memory(ctx) {
  // Route strings are made before the first snapshot: the host owns them either way.
  const routes = Array.from({ length: SERIES }, (_, i) => `GET /api/v1/resource${i}/:id`);
  // A throwaway run first, so compiled code and feedback are not counted as series memory.
  // It stays referenced until both snapshots are taken, so its release is not counted either.
  const warm = new ManualClock();
  const warmMonitor = createMonitor({ service: 'warm-up', clock: warm, maxRoutes: SERIES });
  fill(warm, warmMonitor, routes);
  // Five rounds of 200 series, every monitor kept alive, and the median per-series
  // delta: one heap reading is off by a few hundred KB whenever V8 trims something else.
  const kept = [];
  const heapDeltas = [];
  const externalDeltas = [];
  for (let round = 0; round < ROUNDS; round++) {
    const clock = new ManualClock();
    const before = snapshot();
    const monitor = createMonitor({ service: `memory-${round}`, clock, maxRoutes: SERIES });
    fill(clock, monitor, routes);
    const after = snapshot();
    if (monitor.store.routes.size !== SERIES) throw new Error('series were not all created');
    kept.push(monitor);
    heapDeltas.push((after.heap - before.heap) / SERIES);
    externalDeltas.push((after.external - before.external) / SERIES);
  }
  if (warmMonitor.store.routes.size !== SERIES) throw new Error('series were not all created');
  const heapPer = median(heapDeltas);
  const externalPer = median(externalDeltas);
  const arrays = kept[0].store.routes.get(routes[0]).bytes;

  ctx.log(
    table(
      ['measure', 'bytes per series', 'KiB'],
      [
        ['LatencyWindow.bytes (typed arrays)', arrays, fmt.kib(arrays)],
        [`heap delta over ${SERIES} series (objects, map entries, monitor; median of ${ROUNDS})`, Math.round(heapPer), fmt.kib(heapPer)],
        ['  the rounds', heapDeltas.map((d) => Math.round(d)).join(' '), ''],
        [`external delta over ${SERIES} series (array buffers; median of ${ROUNDS})`, Math.round(externalPer), fmt.kib(externalPer)],
        ['total measured (heap + external)', Math.round(heapPer + externalPer), fmt.kib(heapPer + externalPer)],
      ],
    ),
  );
  ctx.target('LatencyWindow.bytes', { value: arrays, limit: 64 * 1024, format: fmt.kib });
  ctx.target(`measured per series (heap + external, ${SERIES} series)`, { value: heapPer + externalPer, limit: 64 * 1024, format: fmt.kib });
}
