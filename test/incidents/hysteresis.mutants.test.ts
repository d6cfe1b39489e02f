import { describe, expect, it } from 'vitest';
import { Condition } from '../../src/incidents/hysteresis.js';

const cfg = { forMs: 60_000, clearForMs: 120_000 };
const T = 1_000_000;

describe('Condition: opening', () => {
  it('opens exactly when the condition has held for forMs, dated from the first firing reading', () => {
    const c = new Condition();
    expect(c.step(T, 'high', undefined, cfg)).toEqual({ kind: 'pending' });
    expect(c.pendingSince).toBe(T);
    expect(c.pendingSeverity).toBe('high');
    expect(c.idle).toBe(false);
    expect(c.step(T + 59_999, 'medium', undefined, cfg)).toEqual({ kind: 'pending' });
    expect(c.pendingSeverity).toBe('medium');
    expect(c.step(T + 60_000, 'critical', undefined, cfg)).toEqual({ kind: 'open', severity: 'critical', detectedAt: T });
    expect(c.pendingSince).toBeUndefined();
    expect(c.pendingSeverity).toBeUndefined();
    expect(c.idle).toBe(true);
  });

  it('a clear or a missing reading restarts the wait for opening', () => {
    for (const gap of [null, undefined] as const) {
      const c = new Condition();
      c.step(T, 'high', undefined, cfg);
      expect(c.step(T + 30_000, gap, undefined, cfg)).toEqual({ kind: 'none' });
      expect(c.pendingSince).toBeUndefined();
      expect(c.pendingSeverity).toBeUndefined();
      expect(c.idle).toBe(true);
      expect(c.step(T + 40_000, 'high', undefined, cfg)).toEqual({ kind: 'pending' });
      expect(c.step(T + 99_999, 'high', undefined, cfg)).toEqual({ kind: 'pending' });
      expect(c.step(T + 100_000, 'high', undefined, cfg)).toEqual({ kind: 'open', severity: 'high', detectedAt: T + 40_000 });
    }
  });

  it('forMs 0 opens on the first firing reading', () => {
    const c = new Condition();
    expect(c.step(T, 'low', undefined, { forMs: 0, clearForMs: 0 })).toEqual({ kind: 'open', severity: 'low', detectedAt: T });
  });
});

describe('Condition: while an incident is open', () => {
  it('escalates at once to a worse severity', () => {
    const c = new Condition();
    expect(c.step(T, 'critical', 'high', cfg)).toEqual({ kind: 'escalate', severity: 'critical' });
  });

  it('the incident severity itself changes nothing', () => {
    const c = new Condition();
    expect(c.step(T, 'high', 'high', cfg)).toEqual({ kind: 'none' });
    expect(c.idle).toBe(true);
  });

  it('resolves only once a clear reading has held for clearForMs', () => {
    const c = new Condition();
    expect(c.step(T, null, 'high', cfg)).toEqual({ kind: 'none' });
    expect(c.clearSince).toBe(T);
    expect(c.idle).toBe(false);
    expect(c.step(T + 119_999, null, 'high', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 120_000, null, 'high', cfg)).toEqual({ kind: 'clear' });
  });

  it('a no-data reading mid-wait leaves the clear wait running', () => {
    const c = new Condition();
    c.step(T, null, 'high', cfg);
    expect(c.step(T + 60_000, undefined, 'high', cfg)).toEqual({ kind: 'none' });
    expect(c.clearSince).toBe(T);
    expect(c.idle).toBe(false);
    expect(c.step(T + 120_000, null, 'high', cfg)).toEqual({ kind: 'clear' });
  });

  it('a firing reading mid-wait restarts the clear wait', () => {
    const c = new Condition();
    c.step(T, null, 'high', cfg);
    expect(c.step(T + 60_000, 'high', 'high', cfg)).toEqual({ kind: 'none' });
    expect(c.clearSince).toBeUndefined();
    c.step(T + 70_000, null, 'high', cfg);
    expect(c.step(T + 189_999, null, 'high', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 190_000, null, 'high', cfg)).toEqual({ kind: 'clear' });
  });

  it('de-escalates once a lower severity has held for clearForMs, to the worst seen meanwhile', () => {
    const c = new Condition();
    expect(c.step(T, 'low', 'critical', cfg)).toEqual({ kind: 'none' });
    expect(c.idle).toBe(false);
    expect(c.step(T + 50_000, 'medium', 'critical', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 100_000, 'low', 'critical', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 119_999, 'low', 'critical', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 120_000, 'low', 'critical', cfg)).toEqual({ kind: 'deescalate', severity: 'medium' });
    expect(c.idle).toBe(true);
    // The next wait starts afresh: its worst is not carried over from the last one.
    expect(c.step(T + 130_000, 'low', 'medium', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 250_000, 'low', 'medium', cfg)).toEqual({ kind: 'deescalate', severity: 'low' });
  });

  it('a wait interrupted by the incident severity restarts, and de-escalation still happens after it', () => {
    const c = new Condition();
    c.step(T, 'medium', 'critical', cfg);
    c.step(T + 100_000, 'medium', 'critical', cfg);
    expect(c.step(T + 110_000, 'critical', 'critical', cfg)).toEqual({ kind: 'none' }); // back at its own severity
    expect(c.idle).toBe(true);
    // Lower again: the wait counts from here, not from T.
    expect(c.step(T + 120_000, 'low', 'critical', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 239_999, 'low', 'critical', cfg)).toEqual({ kind: 'none' });
    // The worst of the new wait only: 'medium' belonged to the interrupted one.
    expect(c.step(T + 240_000, 'low', 'critical', cfg)).toEqual({ kind: 'deescalate', severity: 'low' });
  });

  it('a wait interrupted by a worse severity restarts after the escalation', () => {
    const c = new Condition();
    c.step(T, 'low', 'high', cfg);
    expect(c.step(T + 100_000, 'critical', 'high', cfg)).toEqual({ kind: 'escalate', severity: 'critical' });
    c.step(T + 110_000, 'medium', 'critical', cfg);
    expect(c.step(T + 229_999, 'medium', 'critical', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 230_000, 'medium', 'critical', cfg)).toEqual({ kind: 'deescalate', severity: 'medium' });
  });

  it('a clear reading interrupts a de-escalation wait; the next lower reading starts a new one', () => {
    const c = new Condition();
    c.step(T, 'medium', 'critical', cfg);
    c.step(T + 100_000, null, 'critical', cfg);
    expect(c.clearSince).toBe(T + 100_000);
    c.step(T + 110_000, 'low', 'critical', cfg);
    expect(c.clearSince).toBeUndefined();
    expect(c.step(T + 229_999, 'low', 'critical', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 230_000, 'low', 'critical', cfg)).toEqual({ kind: 'deescalate', severity: 'low' });
  });

  it('a no-data reading mid de-escalation wait leaves it running', () => {
    const c = new Condition();
    c.step(T, 'low', 'high', cfg);
    expect(c.step(T + 60_000, undefined, 'high', cfg)).toEqual({ kind: 'none' });
    expect(c.idle).toBe(false);
    expect(c.step(T + 120_000, 'low', 'high', cfg)).toEqual({ kind: 'deescalate', severity: 'low' });
  });

  it('opening while a pending wait runs is forgotten once an incident is open, and vice versa', () => {
    const c = new Condition();
    c.step(T, 'high', undefined, cfg);
    // Another detector opened the incident meanwhile.
    c.step(T + 10_000, 'high', 'high', cfg);
    expect(c.pendingSince).toBeUndefined();
    expect(c.pendingSeverity).toBeUndefined();
    c.step(T + 20_000, null, 'high', cfg);
    c.step(T + 30_000, 'low', 'high', cfg);
    // The incident was resolved elsewhere: the clear and lower waits are dropped.
    expect(c.step(T + 40_000, null, undefined, cfg)).toEqual({ kind: 'none' });
    expect(c.clearSince).toBeUndefined();
    expect(c.idle).toBe(true);
    // A later incident starts a fresh lower wait.
    c.step(T + 50_000, 'low', 'high', cfg);
    expect(c.step(T + 169_999, 'low', 'high', cfg)).toEqual({ kind: 'none' });
    expect(c.step(T + 170_000, 'low', 'high', cfg)).toEqual({ kind: 'deescalate', severity: 'low' });
  });
});
