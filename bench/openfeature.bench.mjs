// OpenFeature evaluation overhead: `client.getBooleanValue('rerank', true)` answered by
// firebreak's FirebreakProvider vs OpenFeature's own InMemoryProvider holding the same flag.
// Both go through the same client pipeline (hooks, context merge, promise), so the ratio is
// what the provider itself adds. Run through `npm run bench` (builds first), or
//   npm run build && node --expose-gc bench/run.mjs openfeature
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { createMonitor } from '../dist/index.js';
import { FirebreakProvider } from '../dist/openfeature.js';
import { table, fmt as units } from './lib.mjs';

export const title = 'OpenFeature provider evaluation';
export const order = 60;

let sink = 0;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Interleaved rounds of awaited batches (lib.mjs's interleave() is for synchronous loops):
 * each round runs every competitor once, in a rotating order, so drift on a shared machine
 * hits both alike; the ratio is the median of per-round ratios.
 */
async function interleaveAsync(competitors, { rounds = 21, batch = 20_000, warmup = 100_000 } = {}) {
  const names = Object.keys(competitors);
  for (const name of names) await competitors[name](warmup);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      const t0 = process.hrtime.bigint();
      await competitors[name](batch);
      samples[name].push(Number(process.hrtime.bigint() - t0) / batch);
    }
  }
  return samples;
}

export default async function openfeatureBench(ctx = { log: console.log, target() {} }) {
  const monitor = createMonitor({ service: 'bench' });
  monitor.feature('rerank', { risky: true });
  await OpenFeature.setProviderAndWait('firebreak', new FirebreakProvider(monitor));
  await OpenFeature.setProviderAndWait(
    'memory',
    new InMemoryProvider({ rerank: { variants: { on: true, off: false }, defaultVariant: 'on', disabled: false } }),
  );
  const ours = OpenFeature.getClient('firebreak');
  const theirs = OpenFeature.getClient('memory');
  if ((await ours.getBooleanValue('rerank', false)) !== true || (await theirs.getBooleanValue('rerank', false)) !== true) {
    throw new Error('openfeature bench: both providers must answer true for rerank');
  }
  const loop = (client) => async (n) => {
    let s = 0;
    for (let i = 0; i < n; i++) if (await client.getBooleanValue('rerank', true)) s++;
    sink += s;
  };
  ctx.log('\n## OpenFeature: getBooleanValue(\'rerank\', true)');
  const r = await interleaveAsync({ firebreak: loop(ours), inMemory: loop(theirs) });
  const fb = median(r.firebreak);
  const mem = median(r.inMemory);
  const ratio = median(r.firebreak.map((x, i) => x / r.inMemory[i]));
  const header = ['provider', 'ns/evaluation (median)', 'vs InMemoryProvider (paired)'];
  const body = [
    ['InMemoryProvider (OpenFeature)', units.ns(mem), '1.000×'],
    ['FirebreakProvider', units.ns(fb), units.ratio(ratio)],
  ];
  ctx.log('21 interleaved rounds of 20,000 awaited evaluations each');
  if (ctx.table) ctx.table('openfeature evaluation', header, body);
  else ctx.log(table(header, body));
  // Informational limit: the provider should cost no more than OpenFeature's reference provider, within noise.
  ctx.target('FirebreakProvider ÷ InMemoryProvider, getBooleanValue', { value: ratio, limit: 1.5, format: units.ratio });

  await OpenFeature.close();
  monitor.stop();
  if (sink === 42.5) ctx.log(''); // keeps the work observable
}

if (import.meta.url === `file://${process.argv[1]}`) await openfeatureBench();
