/**
 * What every long operation receives from the CLI (or a library caller): where to report,
 * and a signal that fires on SIGINT/SIGTERM so it can stop and roll back.
 */
export interface Logger {
  /** Progress and facts for a human; goes to stderr so stdout stays machine-readable. */
  info(message: string): void;
  warn(message: string): void;
  /** Only with --verbose. */
  debug(message: string): void;
}

export interface ProgressSink {
  /** Starts a task with a known total (bytes), or unknown (undefined). */
  start(label: string, total?: number): ProgressTask;
}

export interface ProgressTask {
  advance(bytes: number): void;
  done(summary?: string): void;
}

export interface RunContext {
  log: Logger;
  progress: ProgressSink;
  signal: AbortSignal;
}

const silentTask: ProgressTask = { advance() {}, done() {} };

/** A context that prints nothing: for library use and tests. */
export function quietContext(signal: AbortSignal = new AbortController().signal): RunContext {
  return {
    log: { info() {}, warn() {}, debug() {} },
    progress: { start: () => silentTask },
    signal,
  };
}
