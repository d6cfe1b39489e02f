#!/usr/bin/env node
/**
 * firebreak's kill switch read through OpenFeature: the service asks its
 * OpenFeature client whether to rerank; an operator action turns the
 * feature off and the same call site answers false, with the reason.
 *
 *   npm run build && node examples/openfeature/index.mjs
 */
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { createMonitor } from 'firebreak';
import { FirebreakProvider } from 'firebreak/openfeature';

const monitor = createMonitor({ service: 'search-api' });
monitor.feature('rerank', { risky: true, description: 'cross-encoder reranking' });
monitor.canary('cross-encoder-v2', { percent: 10 });

await OpenFeature.setProviderAndWait(new FirebreakProvider(monitor));
const flags = OpenFeature.getClient();
OpenFeature.addHandler(ProviderEvents.ConfigurationChanged, (e) => console.log(`event: levers changed: ${e?.flagsChanged?.join(', ')}`));

const show = async () => {
  const d = await flags.getBooleanDetails('rerank', true);
  console.log(`rerank → ${d.value} (${d.reason}${d.flagMetadata.reason ? `: ${d.flagMetadata.reason}` : ''})`);
};
await show();
const arms = { canary: 0, stable: 0 };
for (let i = 0; i < 1000; i++) arms[await flags.getStringValue('cross-encoder-v2', 'stable', { targetingKey: `user-${i}` })]++;
console.log(`cross-encoder-v2 over 1000 users → canary ${arms.canary}, stable ${arms.stable}`);

await monitor.actions.execute('feature.disable', { params: { name: 'rerank', reason: 'p95 over 2 s' }, by: 'alice', confirm: true });
await show();

await OpenFeature.close();
await monitor.close();
console.log('openfeature example complete');
