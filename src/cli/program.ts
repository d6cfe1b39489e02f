import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { systemClock } from '../clock.js';
import { AdminClient } from './client.js';
import { emergencyReference } from './emergency-ref.js';
import { CliError, EXIT, usageError, type ExitCode } from './exit-codes.js';
import { painter, type OutStream, type Paint } from './output.js';
import { parseParams } from './params.js';
import {
  listOf,
  renderActions,
  renderChange,
  renderDetect,
  renderEmergencyRef,
  renderExecution,
  renderIncident,
  renderIncidents,
  renderMaintenance,
  renderMaintenanceChange,
  renderProcedures,
  renderSilenceChange,
  renderSilences,
  renderSlos,
  renderHistory,
} from './render.js';
import { maintenanceBody, silenceBody, type MaintenanceFlags, type SilenceFlags } from './schedule.js';
import { rulesFromConfig, type RulesFlags } from './rules.js';
import { rulesToYaml } from '../prometheus/rules.js';
import { version } from '../../package.json';

/** What the CLI reads and writes: the process's by default, injected in tests. */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: OutStream;
  stderr: OutStream;
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Wall-clock time, for incident ages (defaults to the system clock). */
  now?: () => number;
}

interface GlobalOptions {
  url?: string;
  token?: string;
  json?: boolean;
  timeout: number;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive whole number of milliseconds');
  return n;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The per-command view of the global options. */
class Context {
  readonly json: boolean;
  readonly paint: Paint;
  private clientInstance: AdminClient | undefined;

  constructor(
    private readonly io: CliIo,
    private readonly opts: GlobalOptions,
  ) {
    this.json = opts.json === true;
    this.paint = painter(io.stdout, io.env);
  }

  get client(): AdminClient {
    if (this.clientInstance !== undefined) return this.clientInstance;
    const url = this.opts.url ?? this.io.env['FIREBREAK_URL'];
    if (url === undefined || url === '') throw usageError('no server URL: pass --url <url> or set FIREBREAK_URL');
    const fetchFn = this.io.fetch;
    this.clientInstance = new AdminClient({
      url,
      token: this.opts.token ?? this.io.env['FIREBREAK_TOKEN'],
      timeoutMs: this.opts.timeout,
      ...(fetchFn === undefined ? {} : { fetch: fetchFn }),
    });
    return this.clientInstance;
  }

  now(): number {
    return (this.io.now ?? (() => systemClock.now()))();
  }

  /** Prints `data` as JSON with `--json`, else the human rendering. */
  print(data: unknown, human: () => string): void {
    this.io.stdout.write(this.json ? `${JSON.stringify(data, null, 2)}\n` : human());
  }
}

const id = (value: string): string => encodeURIComponent(value);

function buildProgram(io: CliIo, outcome: { code: ExitCode }): Command {
  const program = new Command('firebreak');
  program
    .description("Talk to a firebreak-instrumented service's admin API: SLOs, incidents, procedures, actions, silences, maintenance windows.")
    .version(version, '-V, --version')
    .option('--url <url>', 'base URL where the firebreak router is mounted (env FIREBREAK_URL)')
    .option('--token <token>', 'bearer token; prefer FIREBREAK_TOKEN, which stays out of `ps` and shell history')
    .option('--json', 'print the raw JSON answer (errors go to stderr as JSON)')
    .option('--timeout <ms>', 'give up on a request after this long', positiveInt, DEFAULT_TIMEOUT_MS)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run `firebreak --help` for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 request failed, 2 usage error, 3 authentication/authorisation error.\n' +
        'Example:\n  FIREBREAK_URL=http://127.0.0.1:3000 FIREBREAK_TOKEN=… firebreak status',
    );

  const ctx = (command: Command): Context => new Context(io, command.optsWithGlobals<GlobalOptions>());

  program
    .command('status')
    .description('SLOs (value vs target) and open incidents; --history adds sparklines of the server-side history')
    .option('--history', 'also show the server-side history (GET /stats/history) as sparklines, times in UTC')
    .action(async (opts: { history?: boolean }, command: Command) => {
      const c = ctx(command);
      const [slo, incidents, history] = await Promise.all([
        c.client.get('/stats/slo'),
        c.client.get('/admin/incidents/status'),
        opts.history === true ? c.client.get('/stats/history?limit=360') : Promise.resolve(undefined),
      ]);
      c.print(history === undefined ? { slo, incidents } : { slo, incidents, history }, () => {
        const open = listOf(incidents, 'incidents', 'open');
        const text = `${c.paint('bold', 'SLOs')}\n${renderSlos(slo, c.paint)}\n${c.paint('bold', `Open incidents (${open.length})`)}\n${renderIncidents(open, c.now(), c.paint)}`;
        return history === undefined ? text : `${text}\n${renderHistory(history, c.paint)}`;
      });
    });

  program
    .command('active')
    .description('incidents not yet resolved')
    .action(async (_opts: unknown, command: Command) => {
      const c = ctx(command);
      const body = await c.client.get('/admin/incidents?status=active');
      c.print(body, () => renderIncidents(listOf(body, 'incidents'), c.now(), c.paint));
    });

  program
    .command('show')
    .description('one incident with its timeline')
    .argument('<id>', 'incident id')
    .action(async (incidentId: string, _opts: unknown, command: Command) => {
      const c = ctx(command);
      const body = await c.client.get(`/admin/incidents/${id(incidentId)}`);
      c.print(body, () => renderIncident(body, c.now(), c.paint));
    });

  program
    .command('detect')
    .description('run SLO evaluation and incident detection now')
    .action(async (_opts: unknown, command: Command) => {
      const c = ctx(command);
      const body = await c.client.post('/admin/incidents/detect');
      c.print(body, () => renderDetect(body, c.now(), c.paint));
    });

  program
    .command('procedures')
    .description("an incident's playbook steps with estimated time and status")
    .argument('<id>', 'incident id')
    .action(async (incidentId: string, _opts: unknown, command: Command) => {
      const c = ctx(command);
      const body = await c.client.get(`/admin/incidents/${id(incidentId)}/procedures`);
      c.print(body, () => renderProcedures(body, c.paint));
    });

  program
    .command('execute')
    .description('run an action for an incident (recorded on its timeline)')
    .argument('<id>', 'incident id')
    .argument('<action>', 'action id, e.g. model.fallback (see `firebreak actions`)')
    .option('-p, --param <key=value>', 'action parameter, repeatable; JSON values are parsed (factor=0.5)', collect, [])
    .option('--confirm', 'confirm an action that requires it')
    .action(async (incidentId: string, actionId: string, opts: { param: string[]; confirm?: boolean }, command: Command) => {
      const c = ctx(command);
      const params = parseParams(opts.param);
      let body: unknown;
      try {
        body = await c.client.post(`/admin/incidents/${id(incidentId)}/actions/${id(actionId)}`, { confirm: opts.confirm === true, params });
      } catch (err) {
        if (err instanceof CliError && err.body.error.code === 'CONFIRMATION_REQUIRED' && opts.confirm !== true) {
          throw new CliError(err.exitCode, err.body.error.code, `${err.message} — re-run with --confirm`, err.body.error);
        }
        throw err;
      }
      c.print(body, () => renderExecution(body, c.paint));
      type Outcome = { outcome?: unknown; status?: unknown };
      const answer = typeof body === 'object' && body !== null ? (body as Outcome & { execution?: Outcome }) : {};
      const inner = answer.execution ?? answer;
      const result = inner.outcome ?? inner.status;
      if (result === 'failed' || result === 'timeout' || result === 'timed-out') outcome.code = EXIT.requestFailed;
    });

  program
    .command('ack')
    .alias('acknowledge')
    .description('acknowledge an incident')
    .argument('<id>', 'incident id')
    .option('--note <text>', 'note for the timeline')
    .action(async (incidentId: string, opts: { note?: string }, command: Command) => {
      const c = ctx(command);
      const body = await c.client.post(`/admin/incidents/${id(incidentId)}/acknowledge`, opts.note === undefined ? {} : { note: opts.note });
      c.print(body, () => renderChange('acknowledged', body, c.paint));
    });

  program
    .command('resolve')
    .description('resolve an incident with notes')
    .argument('<id>', 'incident id')
    .requiredOption('--notes <text>', 'what fixed it (kept on the incident and in the post-mortem)')
    .action(async (incidentId: string, opts: { notes: string }, command: Command) => {
      const c = ctx(command);
      if (opts.notes.trim() === '') throw usageError('--notes must not be empty');
      const body = await c.client.post(`/admin/incidents/${id(incidentId)}/resolve`, { notes: opts.notes });
      c.print(body, () => renderChange('resolved', body, c.paint));
    });

  program
    .command('postmortem')
    .description("an incident's post-mortem in markdown")
    .argument('<id>', 'incident id')
    .action(async (incidentId: string, _opts: unknown, command: Command) => {
      const c = ctx(command);
      const markdown = await c.client.getText(`/admin/incidents/${id(incidentId)}/postmortem`);
      c.print({ id: incidentId, markdown }, () => (markdown.endsWith('\n') ? markdown : `${markdown}\n`));
    });

  program
    .command('actions')
    .description('the registered emergency actions')
    .action(async (_opts: unknown, command: Command) => {
      const c = ctx(command);
      const body = await c.client.get('/admin/actions');
      c.print(body, () => renderActions(body, c.paint));
    });

  program
    .command('emergency-ref')
    .description('the runbook playbooks at a glance: incident type, severity, primary and secondary action, estimated time (no server needed)')
    .action(async (_opts: unknown, command: Command) => {
      const c = ctx(command);
      const rows = await emergencyReference();
      c.print(rows, () => renderEmergencyRef(rows, c.paint));
    });

  const matchHelp = 'incident matcher, repeatable, all must hold: name=value, name!=value, name=~regex, name!~regex (name: type, scope, severity, priority, detector, source)';

  const silence = program.command('silence').description('silences: incidents they match are recorded but page nobody (add, list, expire)');
  silence
    .command('add')
    .description('add a silence for a duration (or until a time); you are its author')
    .option('-m, --match <matcher>', matchHelp, collect, [])
    .option('--duration <duration>', 'how long from its start, e.g. 30m, 2h, 1h30m, 7d (at most 366 days)')
    .option('--until <iso>', 'when it ends instead, ISO 8601 with a zone, e.g. 2030-01-05T02:00:00Z')
    .option('--start <iso>', 'when it starts (default now on the server), ISO 8601 with a zone')
    .option('--comment <text>', 'why (required; shown on the timeline of every incident it holds)')
    .addHelpText('after', "\nExample:\n  firebreak silence add --match type=high-latency --match 'scope=~route:.*' --duration 2h --comment deploy")
    .action(async (opts: SilenceFlags, command: Command) => {
      const c = ctx(command);
      const body = await c.client.post('/admin/silences', silenceBody(opts));
      c.print(body, () => renderSilenceChange('added', body, c.paint));
    });
  silence
    .command('list')
    .alias('ls')
    .description('silences (pending, active, recently expired), newest first')
    .option('--state <state>', 'only pending, active or expired ones')
    .action(async (opts: { state?: string }, command: Command) => {
      const c = ctx(command);
      if (opts.state !== undefined && !['pending', 'active', 'expired'].includes(opts.state)) {
        throw usageError(`--state must be one of pending, active, expired, got "${opts.state}"`);
      }
      const body = await c.client.get(`/admin/silences${opts.state === undefined ? '' : `?state=${opts.state}`}`);
      c.print(body, () => renderSilences(body, c.paint));
    });
  silence
    .command('expire')
    .description('expire a silence now; incidents it held page at the next evaluation if still open')
    .argument('<id>', 'silence id (see `firebreak silence list`)')
    .action(async (silenceId: string, _opts: unknown, command: Command) => {
      const c = ctx(command);
      const body = await c.client.del(`/admin/silences/${id(silenceId)}`);
      c.print(body, () => renderSilenceChange('expired', body, c.paint));
    });

  const maintenance = program
    .command('maintenance')
    .description('maintenance windows: planned work, one-off or daily/weekly at a UTC time (add, list, remove)');
  maintenance
    .command('add')
    .description('add a window: --start with --end or --duration (one-off), or --daily / --weekly <days> with --at and --duration')
    .requiredOption('--name <name>', 'a short name for listings and timelines')
    .option('-m, --match <matcher>', `${matchHelp}; none: every incident`, collect, [])
    .option('--start <iso>', 'one-off: when it opens, ISO 8601 with a zone, e.g. 2030-01-05T02:00:00Z')
    .option('--end <iso>', 'one-off: when it closes (or give --duration)')
    .option('--daily', 'recurring every day at --at (UTC) for --duration (at most 24h)')
    .option('--weekly <days>', 'recurring on these days, e.g. sat,sun, at --at (UTC) for --duration (at most 7d)')
    .option('--at <HH:MM>', 'recurring: the UTC time it opens')
    .option('--duration <duration>', 'how long each opening lasts, e.g. 30m, 4h')
    .option('--comment <text>', 'why')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        "  firebreak maintenance add --name 'nightly reindex' --daily --at 02:00 --duration 30m --match type=high-latency\n" +
        "  firebreak maintenance add --name 'weekend deploys' --weekly sat,sun --at 22:00 --duration 4h\n" +
        "  firebreak maintenance add --name 'db upgrade' --start 2030-01-05T02:00:00Z --end 2030-01-05T04:00:00Z",
    )
    .action(async (opts: MaintenanceFlags, command: Command) => {
      const c = ctx(command);
      const body = await c.client.post('/admin/maintenance', maintenanceBody(opts));
      c.print(body, () => renderMaintenanceChange('added', body, c.paint));
    });
  maintenance
    .command('list')
    .alias('ls')
    .description('maintenance windows, whether each is open and when it next opens')
    .action(async (_opts: unknown, command: Command) => {
      const c = ctx(command);
      const body = await c.client.get('/admin/maintenance');
      c.print(body, () => renderMaintenance(body, c.paint));
    });
  maintenance
    .command('remove')
    .alias('rm')
    .description('remove a maintenance window; incidents it held page at the next evaluation if still open')
    .argument('<id>', 'window id (see `firebreak maintenance list`)')
    .action(async (windowId: string, _opts: unknown, command: Command) => {
      const c = ctx(command);
      const body = await c.client.del(`/admin/maintenance/${id(windowId)}`);
      c.print(body, () => renderMaintenanceChange('removed', body, c.paint));
    });

  program
    .command('rules')
    .description('Prometheus recording and alerting rules (multi-window, multi-burn-rate) for the SLOs of a monitor config; needs no server')
    .requiredOption('-c, --config <file>', 'the createMonitor options: a .json file, or an ES module whose default export they are')
    .option('-m, --matcher <name=value>', 'label matcher added to every selector, repeatable (e.g. job=checkout)', collect, [])
    .option('-l, --label <name=value>', 'label added to every alert, repeatable (e.g. team=search)', collect, [])
    .addHelpText('after', '\nExample:\n  firebreak rules --config firebreak.config.json --matcher job=checkout > firebreak.rules.yml && promtool check rules firebreak.rules.yml')
    .action(async (opts: RulesFlags, command: Command) => {
      const c = ctx(command);
      const file = await rulesFromConfig(opts);
      c.print(file, () => rulesToYaml(file));
    });

  return program;
}

/**
 * Runs the `firebreak` CLI on `argv` (without `node` and the script) and
 * returns the exit code; never throws and never calls `process.exit`.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
 * ```
 */
export async function run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  // An action that ran but failed on the server sets a non-zero code here.
  const outcome: { code: ExitCode } = { code: EXIT.ok };
  const program = buildProgram(io, outcome);
  const json = argv.includes('--json');
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return outcome.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    if (err instanceof CliError) {
      io.stderr.write(json ? `${JSON.stringify(err.body)}\n` : `firebreak: ${err.message}\n`);
      return err.exitCode;
    }
    const message = err instanceof Error ? err.message : String(err);
    io.stderr.write(json ? `${JSON.stringify({ error: { code: 'INTERNAL', message } })}\n` : `firebreak: unexpected error: ${message}\n`);
    return EXIT.requestFailed;
  }
}
