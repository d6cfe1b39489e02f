import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { generateRules, type RuleFile, type RulesOptions } from '../prometheus/rules.js';
import { usageError } from './exit-codes.js';

/** Flags of `firebreak rules`. */
export interface RulesFlags {
  config: string;
  matcher: string[];
  label: string[];
}

function pairs(flag: string, values: string[]): Record<string, string> {
  const out: [string, string][] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw usageError(`--${flag} expects name=value, got ${JSON.stringify(v)}`);
    out.push([v.slice(0, eq), v.slice(eq + 1)]);
  }
  // fromEntries defines own properties: a `__proto__=x` pair is a (rejected) label name, not a prototype.
  return Object.fromEntries(out);
}

/**
 * Reads the monitor options from `flags.config` (JSON, or an ES module whose
 * default export is the options object given to `createMonitor`) and returns
 * the rules for its SLOs and burn rules. Bad input is a usage error naming
 * the field.
 */
export async function rulesFromConfig(flags: RulesFlags): Promise<RuleFile> {
  const path = resolve(flags.config);
  let options: unknown;
  try {
    if (extname(path) === '.json') options = JSON.parse(await readFile(path, 'utf8'));
    else options = ((await import(pathToFileURL(path).href)) as { default?: unknown }).default;
  } catch (err) {
    throw usageError(`cannot read ${flags.config}: ${(err as Error).message}`);
  }
  if (typeof options !== 'object' || options === null) throw usageError(`${flags.config} must hold the monitor options object ({ service, slos, … })`);
  const o = options as Record<string, unknown>;
  const burn = (typeof o['burnRate'] === 'object' && o['burnRate'] !== null ? o['burnRate'] : {}) as Record<string, unknown>;
  const prom = (typeof o['prometheus'] === 'object' && o['prometheus'] !== null ? o['prometheus'] : {}) as Record<string, unknown>;
  const rulesOptions: Record<string, unknown> = {
    service: o['service'],
    preset: o['preset'],
    burnRules: burn['rules'],
    minSamples: burn['minSamples'] ?? o['minSamples'],
    forMs: burn['forMs'],
    prefix: prom['prefix'],
    buckets: prom['buckets'],
    matchers: pairs('matcher', flags.matcher),
    alertLabels: pairs('label', flags.label),
  };
  for (const k of Object.keys(rulesOptions)) if (rulesOptions[k] === undefined) delete rulesOptions[k];
  try {
    return generateRules((o['slos'] ?? []) as never, rulesOptions as RulesOptions);
  } catch (err) {
    if (err instanceof ConfigError) throw usageError(`${flags.config}: ${err.message}`);
    throw err;
  }
}
