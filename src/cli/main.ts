/**
 * The `firebreak` command (the package's bin). All logic is in `program.ts`;
 * this file only binds it to the process. It sets `process.exitCode` instead
 * of calling `process.exit()` so piped output is flushed before Node exits.
 *
 * @packageDocumentation
 */
import { quietOnClosedPipe } from './output.js';
import { run } from './program.js';

// `firebreak … | head -1`: a reader that stops early must not turn into an EPIPE stack trace.
quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

process.exitCode = await run(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
