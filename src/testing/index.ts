/**
 * Test helpers: `import { ManualClock, gameDay, scenarios } from 'firebreak/testing'`.
 *
 * @packageDocumentation
 */
export { ManualClock } from './manual-clock.js';
export { gameDay, GameDay, GameDayResult, IncidentExpectation, GameDayAssertionError, formatTimeline, GAME_DAY_HEAP_LIMIT } from './game-day.js';
export type { GameDayOptions, GameDayEnv, PhaseSpec, Scenario, TimelineEvent, OperatorStep } from './game-day.js';
export { scenarios } from './scenarios.js';
export type { ScenarioOptions } from './scenarios.js';
export { Prng, sampleLatency } from './traffic.js';
export type { Behaviour, LatencySpec, TrafficSpec } from './traffic.js';
