import { platformError, usageError } from '../../../errors.js';
import type { Consistency } from '../../../model/volume.js';
import type { Logger } from '../../../util/context.js';
import type { Engine } from './client.js';
import type { ProjectContainer } from './project.js';

export type QuiesceMode = 'pause' | 'stop' | 'none';

/** What each mode does to a running container, and how to undo it. */
const actions: Record<Exclude<QuiesceMode, 'none'>, {
  consistency: Consistency;
  apply: (engine: Engine, id: string) => Promise<unknown>;
  undo: (engine: Engine, id: string) => Promise<unknown>;
  verb: string;
}> = {
  // The cgroup freezer: processes keep their memory and sockets, nothing runs, nothing writes.
  pause: {
    consistency: 'quiesce-pause',
    apply: (e, id) => e.getContainer(id).pause(),
    undo: (e, id) => e.getContainer(id).unpause(),
    verb: 'pause',
  },
  // A clean shutdown lets the app flush (databases checkpoint on SIGTERM); restart afterwards.
  // No timeout of our own: the engine uses the container's (Compose's stop_grace_period).
  stop: {
    consistency: 'quiesce-stop',
    apply: (e, id) => e.getContainer(id).stop(),
    undo: (e, id) => e.getContainer(id).start(),
    verb: 'stop',
  },
};

export function parseQuiesceMode(value: string | undefined): QuiesceMode {
  const mode = value ?? 'pause';
  if (mode === 'pause' || mode === 'stop' || mode === 'none') return mode;
  throw usageError(`--quiesce must be pause, stop or none, not "${mode}"`);
}

export interface Quiesced {
  mode: QuiesceMode;
  /** What the copy taken now is worth: recorded per volume in the manifest. */
  consistency: Consistency;
  /** Containers this call paused or stopped (only those: already stopped ones stay stopped). */
  containers: string[];
  /** Puts every container back; idempotent; tries all and then reports every failure at once. */
  resume(): Promise<void>;
}

/**
 * Pauses or stops the project's running containers for a consistent copy. If quiescing one
 * fails, the ones already quiesced are resumed before the error is thrown. Stop goes in reverse
 * creation order (dependents first) and resume in creation order (dependencies first), the order
 * Compose itself created them in.
 */
export async function quiesce(engine: Engine, containers: ProjectContainer[], mode: QuiesceMode, log?: Logger): Promise<Quiesced> {
  const running = containers.filter((c) => c.state === 'running');
  if (mode === 'none' || running.length === 0) {
    return { mode, consistency: running.length ? 'crash-consistent' : 'offline', containers: [], resume: async () => {} };
  }
  const action = actions[mode];
  const done: ProjectContainer[] = [];
  let resumed: Promise<void> | undefined;
  const resume = () =>
    (resumed ??= (async () => {
      const failures: string[] = [];
      for (const c of [...done].sort((a, b) => a.created - b.created)) {
        try {
          await action.undo(engine, c.id);
          log?.debug(`resumed ${c.name}`);
        } catch (err) {
          failures.push(`${c.name}: ${(err as Error).message}`);
        }
      }
      if (failures.length) throw platformError(`could not resume after --quiesce ${mode}: ${failures.join('; ')}`, 'compose project');
    })());
  const order = [...running].sort((a, b) => b.created - a.created);
  try {
    for (const c of order) {
      await action.apply(engine, c.id);
      done.push(c);
      log?.debug(`${action.verb}d ${c.name}`);
    }
  } catch (err) {
    await resume().catch((resumeErr: Error) => log?.warn(resumeErr.message));
    throw platformError(`cannot ${action.verb} the container for --quiesce ${mode}: ${(err as Error).message}`, order[done.length]?.name, err);
  }
  return { mode, consistency: action.consistency, containers: done.map((c) => c.name), resume };
}

/** Runs `copy` with the containers quiesced, resuming them whatever happens (error or abort). */
export async function withQuiesce<T>(
  engine: Engine,
  containers: ProjectContainer[],
  mode: QuiesceMode,
  copy: (q: Quiesced) => Promise<T>,
  log?: Logger,
): Promise<T> {
  const q = await quiesce(engine, containers, mode, log);
  let result: T;
  try {
    result = await copy(q);
  } catch (err) {
    // The copy's error is the one to report; a resume failure on top is logged, not lost.
    await q.resume().catch((resumeErr: Error) => log?.warn(resumeErr.message));
    throw err;
  }
  await q.resume();
  return result;
}
