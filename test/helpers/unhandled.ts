import { setImmediate as realSetImmediate } from 'node:timers';

/**
 * Watches the process for unhandled rejections. Node reports one only after
 * the microtask queue drains, so `settle()` yields to the event loop a few
 * times (real `setImmediate`, never a sleep) before a test asserts.
 */
export function watchUnhandledRejections() {
  const seen: unknown[] = [];
  const spy = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', spy);
  return {
    seen,
    async settle(rounds = 3): Promise<void> {
      for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => realSetImmediate(resolve));
    },
    stop(): void {
      process.off('unhandledRejection', spy);
    },
  };
}
