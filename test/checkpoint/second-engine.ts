/**
 * A second, independent Docker Engine for cross-engine restores: its own data root, exec root,
 * socket and pid file, CRIU first on its PATH, no networking set-up. Started by the test that
 * needs it and stopped (by its own pid) in that test's teardown.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { sleep } from './support.js';

const run = promisify(execFile);

export interface SecondEngine {
  docker: Docker;
  socketPath: string;
  stop(): Promise<void>;
}

async function criuDir(): Promise<string | undefined> {
  try {
    const { stdout } = await run('sh', ['-c', 'command -v criu']);
    return dirname(stdout.trim());
  } catch {
    return undefined;
  }
}

export async function startSecondEngine(): Promise<SecondEngine> {
  const root = await mkdtemp(join(tmpdir(), 'fatchart-dockerd2-'));
  const socketPath = join(root, 'docker.sock');
  const criu = await criuDir();
  const log = openSync(join(root, 'dockerd.log'), 'a');
  const child: ChildProcess = spawn(
    'dockerd',
    [
      '--data-root', join(root, 'data'), '--exec-root', join(root, 'exec'), '--pidfile', join(root, 'dockerd.pid'),
      '--host', `unix://${socketPath}`, '--bridge=none', '--iptables=false', '--ip-masq=false', '--experimental',
    ],
    { detached: true, stdio: ['ignore', log, log], env: { ...process.env, PATH: [criu, process.env.PATH].filter(Boolean).join(delimiter) } },
  );
  const docker = new Docker({ socketPath });
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(root, { recursive: true, force: true });
  };
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) break;
    if (existsSync(socketPath) && (await docker.ping().then(() => true, () => false))) return { docker, socketPath, stop };
    await sleep(250);
  }
  await stop();
  throw new Error(`second dockerd did not come up (log: ${join(root, 'dockerd.log')})`);
}

/** Copies an image from one engine to another (docker save | docker load), nothing pulled. */
export async function copyImage(from: Docker, to: Docker, image: string): Promise<void> {
  const stream = await from.getImage(image).get();
  const loading = await to.loadImage(stream as unknown as NodeJS.ReadableStream);
  for await (const _ of loading as AsyncIterable<unknown>) {
    /* drain the progress messages */
  }
}
