/**
 * The demo's search service: a tiny corpus, a slow-but-good cross-encoder
 * "reranker" with a fast hybrid fallback, and fault switches the scenario
 * flips. Nothing here knows about firebreak except through the controls it is
 * handed (fallback, cache, rate limiter).
 */
import { LRUCache } from 'lru-cache';

const DOCS = Array.from({ length: 200 }, (_, i) => `doc-${String(i).padStart(3, '0')}`);
export const POPULAR = ['running shoes', 'rain jacket', 'tent', 'headlamp', 'trail map', 'water filter', 'sleeping bag', 'stove', 'compass', 'socks'];

/** Fault switches the scenario flips. */
export const faults = {
  /** Extra latency of the cross-encoder, in ms (0 = healthy). */
  rerankerLatencyMs: 0,
  /** The cache's storage throws on every read and write. */
  cacheBroken: false,
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function hybridRetrieve(query) {
  let h = 0;
  for (const c of query) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return Array.from({ length: 10 }, (_, i) => DOCS[(h + i * 7) % DOCS.length]);
}

/** The expensive primary: a cross-encoder scoring every candidate (40–90 ms when healthy). */
export async function crossEncoderRerank(query) {
  await sleep(40 + Math.random() * 50 + faults.rerankerLatencyMs);
  return { query, results: hybridRetrieve(query).slice().reverse(), ranker: 'cross-encoder' };
}

/** The fallback: hybrid retrieval order as is (a few ms). */
export async function hybridOnly(query) {
  await sleep(2 + Math.random() * 4);
  return { query, results: hybridRetrieve(query), ranker: 'hybrid' };
}

/** The cache's storage: an LRUCache whose reads and writes throw while `faults.cacheBroken` is set. */
export class FlakyStore extends LRUCache {
  get(key, options) {
    if (faults.cacheBroken) throw new Error('cache node unreachable');
    return super.get(key, options);
  }
  set(key, value, options) {
    if (faults.cacheBroken) throw new Error('cache node unreachable');
    return super.set(key, value, options);
  }
}

/** A query as users send them: mostly popular ones (cache hits), some long-tail ones (misses, reranked). */
export function nextQuery() {
  return Math.random() < 0.85 ? POPULAR[Math.floor(Math.random() * POPULAR.length)] : `rare query ${Math.floor(Math.random() * 1e6)}`;
}
