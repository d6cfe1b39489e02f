/** Post-mortem relative times: an event less than a second from the origin is never shown as "T-0s". */
import { describe, expect, it } from 'vitest';
import { formatRelative } from '../../src/incidents/format.js';

describe('formatRelative', () => {
  it('shows sub-second offsets in milliseconds with the right sign, not T-0s', () => {
    expect(formatRelative(-400)).toBe('T-400ms');
    expect(formatRelative(250)).toBe('T+250ms');
    expect(formatRelative(-0.3)).toBe('T+0s');
    expect(formatRelative(0)).toBe('T+0s');
  });
  it('keeps whole-second offsets as before', () => {
    expect(formatRelative(70_000)).toBe('T+1m 10s');
    expect(formatRelative(-60_000)).toBe('T-1m 00s');
  });
});
