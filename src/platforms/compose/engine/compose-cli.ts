import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { platformError } from '../../../errors.js';
import { loadComposeProject } from '../loader/index.js';
import { engineUp } from './engine-up.js';
import type { Engine } from './client.js';
import { describeEngine } from './client.js';
import type { EngineJournal } from './journal.js';
import { inspectProject } from './project.js';

const run = promisify(execFile);

/** Compose CLIs in order of preference: the v1 Python one Debian ships, then the v2 plugin. */
const candidates: string[][] = [['docker-compose'], ['docker', 'compose']];

export async function findComposeCli(): Promise<string[] | undefined> {
  for (const argv of candidates) {
    try {
      await run(argv[0], [...argv.slice(1), 'version'], { timeout: 20_000 });
      return argv;
    } catch {
      // Try the next one.
    }
  }
  return undefined;
}

export interface ComposeUpOptions {
  /** Compose files relative to dir (default: Compose's own lookup, e.g. compose.yaml). */
  files?: string[];
  /** How long health checks may take before the project counts as failed. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface ServiceStatus {
  container: string;
  service: string;
  state: string;
  /** healthy / unhealthy / starting, or none without a healthcheck. */
  health: string;
  exitCode?: number;
}

/**
 * Starts a Compose project with the Compose CLI against `engine` (or, with no CLI installed,
 * through the engine API: see engine-up.ts) and waits until every service
 * is running (and healthy when it has a healthcheck) or has exited 0 (one-shot services). The
 * project is put in the journal first, so a failure anywhere leaves nothing behind after rollback.
 */
export async function composeUp(engine: Engine, journal: EngineJournal, dir: string, project: string, opts: ComposeUpOptions = {}): Promise<ServiceStatus[]> {
  // FATCHART_COMPOSE_CLI=engine skips the CLI (e.g. one too old for the file) for the engine API.
  const cli = process.env.FATCHART_COMPOSE_CLI === 'engine' ? undefined : await findComposeCli();
  if (!cli) {
    const loaded = loadComposeProject({ location: dir, files: opts.files?.map((f) => path.resolve(dir, f)), projectName: project });
    return engineUp(engine, journal, loaded, project, opts);
  }
  const files = (opts.files ?? []).flatMap((f) => ['-f', f]);
  journal.project(project);
  try {
    await run(cli[0], [...cli.slice(1), '-p', project, ...files, 'up', '-d'], {
      cwd: dir,
      env: { ...process.env, DOCKER_HOST: describeEngine(engine) },
      signal: opts.signal,
      maxBuffer: 16 << 20,
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const why = (e.stderr ?? e.message).trim().split('\n').filter(Boolean).slice(-3).join(' | ');
    throw platformError(`docker compose up failed: ${why}`, `compose project ${project}`, err);
  }
  return waitHealthy(engine, project, opts);
}

/** Polls the project's containers until all are up and healthy, one fails, or time runs out. */
export async function waitHealthy(engine: Engine, project: string, opts: ComposeUpOptions = {}): Promise<ServiceStatus[]> {
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000);
  for (;;) {
    opts.signal?.throwIfAborted();
    const statuses = await serviceStatuses(engine, project);
    const failed = statuses.filter((s) => s.health === 'unhealthy' || (s.state === 'exited' && s.exitCode !== 0) || s.state === 'dead');
    if (failed.length) {
      throw platformError(`services failed to start: ${failed.map((s) => `${s.service} (${s.health === 'unhealthy' ? 'unhealthy' : `exit ${s.exitCode}`})`).join(', ')}`, `compose project ${project}`);
    }
    const ready = statuses.every((s) => (s.state === 'running' && (s.health === 'none' || s.health === 'healthy')) || (s.state === 'exited' && s.exitCode === 0));
    if (statuses.length && ready) return statuses;
    if (Date.now() > deadline) {
      const waiting = statuses.filter((s) => s.state !== 'exited' && s.health !== 'healthy' && s.health !== 'none');
      throw platformError(`timed out waiting for health checks: ${waiting.map((s) => `${s.service} (${s.health})`).join(', ') || 'no containers'}`, `compose project ${project}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function serviceStatuses(engine: Engine, project: string): Promise<ServiceStatus[]> {
  const { containers } = await inspectProject(engine, project);
  return Promise.all(
    containers.map(async (c) => {
      const info = await engine.getContainer(c.id).inspect();
      return {
        container: c.name,
        service: c.service,
        state: info.State.Status,
        health: info.State.Health?.Status ?? 'none',
        exitCode: info.State.Status === 'exited' ? info.State.ExitCode : undefined,
      };
    }),
  );
}
