import type { Clock, Monitor } from 'firebreak';

/** The slow dependency a search calls; in tests it answers on the monitor's clock. */
export type Backend = (query: string) => Promise<string[]>;

/**
 * A small service under test: every search is recorded on the monitor under
 * its route template, and a failed backend call counts as a failed request.
 */
export class SearchService {
  constructor(
    private readonly monitor: Monitor,
    private readonly backend: Backend,
  ) {}

  search(query: string): Promise<string[]> {
    return this.monitor.track('GET /search', () => this.backend(query));
  }
}

/** A fake backend that answers after `latencyMs()` of the given clock (no real waiting). */
export function fakeBackend(clock: Clock, latencyMs: () => number, fail: () => boolean = () => false): Backend {
  return (query) =>
    new Promise((resolve, reject) => {
      clock.setTimeout(() => (fail() ? reject(new Error('backend down')) : resolve([`result for ${query}`])), latencyMs());
    });
}
