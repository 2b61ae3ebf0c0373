import { FatchartError, ExitCode } from '../errors.js';
import type { RunContext } from '../util/context.js';
import { stderrProgress } from './progress.js';

export interface GlobalFlags {
  quiet?: boolean;
  verbose?: boolean;
}

/**
 * Runs one command with a context wired to this process: logs and progress on stderr, and an
 * abort signal raised by SIGINT/SIGTERM so the operation can roll back before exiting. A second
 * signal exits at once.
 */
export async function runCommand(flags: GlobalFlags, body: (ctx: RunContext) => Promise<number | void>): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(ExitCode.interrupted);
    process.stderr.write(`\nfatchart: ${sig} received; stopping and rolling back (send again to exit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: RunContext = {
    log: {
      info: (m) => !flags.quiet && process.stderr.write(`${m}\n`),
      warn: (m) => process.stderr.write(`warning: ${m}\n`),
      debug: (m) => flags.verbose && process.stderr.write(`debug: ${m}\n`),
    },
    progress: stderrProgress(process.stderr, flags.quiet),
    signal: controller.signal,
  };
  try {
    const code = await body(ctx);
    process.exitCode = code ?? 0;
  } catch (err) {
    process.exitCode = reportError(err, flags.verbose);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** One line naming the subject; the stack only with --verbose. Returns the exit code. */
export function reportError(err: unknown, verbose = false): number {
  if (err instanceof FatchartError) {
    process.stderr.write(`fatchart: ${err.message}\n`);
    if (verbose && err.cause) process.stderr.write(`${String((err.cause as Error)?.stack ?? err.cause)}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`fatchart: unexpected error: ${e?.message ?? String(err)}\n`);
  if (verbose) process.stderr.write(`${e?.stack ?? ''}\n`);
  return ExitCode.internal;
}
