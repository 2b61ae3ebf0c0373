/**
 * The shared Docker Engine for integration tests: a real `dockerd` from Debian's `docker.io`
 * with its own data root and socket, started (or reused) by test/support/docker-up.sh, which
 * holds the lock, the pid file and the test image build. Every test file of a run gets the same
 * daemon; it stops once the test runner process that registered as its owner has exited (a
 * watcher in the script), or at `stopDocker()`. A developer's `docker-up.sh start` pins it.
 *
 *   if (await needs('Docker Engine', dockerProbe)) { const docker = await startDocker(); ... }
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { isMainThread } from 'node:worker_threads';
import type { Probe } from '../require.js';

const run = promisify(execFile);
const script = fileURLToPath(new URL('../docker-up.sh', import.meta.url));

export const TEST_IMAGE = process.env.FATCHART_TEST_IMAGE ?? 'fatchart-test/busybox:1';

export interface DockerComponent {
  /** `unix:///…/docker.sock`, for DOCKER_HOST. */
  host: string;
  socketPath: string;
  /** The locally built busybox image every test container uses. */
  image: string;
  /** process.env plus DOCKER_HOST, for spawning docker / docker-compose. */
  env: NodeJS.ProcessEnv;
}

/**
 * The process whose exit ends the daemon: the vitest main process. Workers are child processes
 * (forks pool) or threads of it (threads pool).
 */
const ownerPid = () => (isMainThread ? process.ppid : process.pid);

let started: Promise<DockerComponent> | undefined;

/** Starts or reuses the daemon; memoised per test file. */
export function startDocker(): Promise<DockerComponent> {
  started ??= (async () => {
    const { stdout } = await run(script, ['start', '--owner', String(ownerPid())], { timeout: 120_000 });
    const host = /export DOCKER_HOST=(\S+)/.exec(stdout)?.[1];
    if (!host) throw new Error(`docker-up.sh printed no DOCKER_HOST: ${stdout}`);
    return { host, socketPath: host.replace(/^unix:\/\//, ''), image: TEST_IMAGE, env: { ...process.env, DOCKER_HOST: host } };
  })();
  started.catch(() => (started = undefined));
  return started;
}

/** Stops the daemon now (also for other test files of this run: they will start it again). */
export async function stopDocker(): Promise<void> {
  started = undefined;
  await run(script, ['stop'], { timeout: 60_000 });
}

/** Probe for needs(): dockerd and busybox-static installed, and the daemon actually starts. */
export const dockerProbe: Probe = async () => {
  try {
    await startDocker();
    return undefined;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    const why = (e.stderr ?? '').trim().split('\n').pop() || e.message;
    return `cannot start a test Docker Engine (apt-get install docker.io busybox-static; root needed): ${why}`;
  }
};

/** Probe for the Compose CLI (Debian's docker-compose). */
export const composeProbe: Probe = async () => {
  try {
    await run('docker-compose', ['version'], { timeout: 20_000 });
    return undefined;
  } catch {
    return 'docker-compose is not installed (apt-get install docker-compose)';
  }
};
