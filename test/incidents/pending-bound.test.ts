import { describe, expect, it } from 'vitest';
import { setup } from './helpers.js';

/** Custom detectors, one per scope, firing while `firing` has their scope. */
function detectors(monitor: ReturnType<typeof setup>['monitor'], scopes: string[], firing: Set<string>, forMs: number) {
  for (const scope of scopes) {
    monitor.detector({ name: `d-${scope}`, type: 'model-failure', scope, evaluate: () => firing.has(scope), severity: 'high', forMs, clearForMs: 0 });
  }
}

describe('maxPending: conditions tracked while pending are bounded and released', () => {
  it('finished conditions are released: far more incidents than the bound open and resolve one after another', () => {
    const { clock, monitor } = setup({ incidents: { maxPending: 2, maxActive: 1, reopenWithinMs: 0 } });
    const scopes = Array.from({ length: 8 }, (_, i) => `model-${i}`);
    const firing = new Set<string>();
    detectors(monitor, scopes, firing, 0);
    for (const scope of scopes) {
      firing.add(scope);
      const opened = monitor.evaluate().incidents.opened;
      expect(opened.map((i) => i.scope)).toEqual([scope]);
      firing.delete(scope);
      clock.advance(1_000);
      const resolved = monitor.evaluate().incidents.resolved;
      expect(resolved.map((i) => i.scope)).toEqual([scope]);
      clock.advance(1_000);
    }
    const stats = monitor.stats().incidents;
    expect(stats.pendingOverflow).toBe(0);
    expect(stats.pending).toEqual([]);
    expect(stats.byStatus.resolved).toBe(8);
  });

  it('beyond maxPending + maxActive new firing conditions are ignored and counted, then tracked once room frees up', () => {
    const { clock, monitor } = setup({ incidents: { maxPending: 2, maxActive: 1 } });
    const scopes = ['a', 'b', 'c', 'd', 'e'];
    const firing = new Set(scopes);
    detectors(monitor, scopes, firing, 60_000);
    monitor.evaluate();
    let stats = monitor.stats().incidents;
    expect(stats.pending.map((p) => p.scope).sort()).toEqual(['a', 'b', 'c']);
    expect(stats.pendingOverflow).toBe(2);
    clock.advance(10_000);
    monitor.evaluate();
    expect(monitor.stats().incidents.pendingOverflow).toBe(4); // counted on every evaluation they are turned away
    // Two of the tracked ones clear: their slots go to the waiting ones.
    firing.delete('a');
    firing.delete('b');
    clock.advance(10_000);
    monitor.evaluate();
    stats = monitor.stats().incidents;
    expect(stats.pending.map((p) => p.scope).sort()).toEqual(['c', 'd', 'e']);
    expect(stats.pendingOverflow).toBe(4);
    expect(stats.pending.find((p) => p.scope === 'd')).toMatchObject({ since: clock.now(), opensAt: clock.now() + 60_000, severity: 'high' });
  });
});
