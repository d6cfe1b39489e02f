/**
 * Test helpers: `import { ManualClock } from 'firebreak/testing'`.
 *
 * @packageDocumentation
 */
export { ManualClock } from './manual-clock.js';
