import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capturePodmanCheckpoint, podmanHostFacts, restorePodmanCheckpoint } from '../../src/checkpoint/podman.js';
import { checkCompatibility } from '../../src/checkpoint/preflight.js';
import { quietContext } from '../../src/util/context.js';
import { commandProbe, needs } from '../support/require.js';
import { COUNTER, criuProbe, sleep } from './support.js';

const run = promisify(execFile);
const ready = await needs('Podman checkpoint/restore', commandProbe('podman'), commandProbe('busybox', ['true']), criuProbe);

describe.skipIf(!ready)('Podman checkpoint export and restore with real CRIU', () => {
  let root: string;
  let host: { globalArgs: string[] };
  const image = 'localhost/fatchart-test/busybox:1';
  const podman = async (...args: string[]) => (await run('podman', [...host.globalArgs, ...args])).stdout;
  const logged = async (name: string) => (await podman('logs', name)).split('\n').filter(Boolean).map(Number);

  beforeAll(async () => {
    // A private store, so the test neither sees nor touches the machine's Podman containers.
    root = await mkdtemp(join(tmpdir(), 'fatchart-podman-'));
    host = { globalArgs: ['--root', join(root, 'root'), '--runroot', join(root, 'run')] };
    const rootfs = join(root, 'rootfs');
    await mkdir(join(rootfs, 'bin'), { recursive: true });
    await copyFile('/bin/busybox', join(rootfs, 'bin/busybox'));
    for (const applet of ['sh', 'sleep', 'echo']) await symlink('busybox', join(rootfs, 'bin', applet));
    await run('sh', ['-c', `tar -C "$1" -c . | podman "$@" import -c 'ENV PATH=/bin' - ${image}`.replace('"$@"', host.globalArgs.map((a) => `'${a}'`).join(' ')), 'sh', rootfs]);
  });
  afterAll(async () => {
    if (!host) return;
    await podman('rm', '-af', '-t', '0').catch(() => '');
    await rm(root, { recursive: true, force: true });
  });

  it('exports a running counter, restores it under a new name, and it counts on', async () => {
    await podman(
      'run', '-d', '--name', 'counter', '--network', 'none',
      '--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1024:1024', image, ...COUNTER,
    );
    await sleep(1500);
    const before = await logged('counter');
    const cp = await capturePodmanCheckpoint(host, 'counter', {}, quietContext());
    try {
      expect(cp.compression).toBe('zstd');
      expect(cp.facts).toMatchObject({ container: 'counter', engine: 'libpod', runtime: 'runc', image, architecture: 'x86_64' });
      expect(checkCompatibility(cp.facts, await podmanHostFacts(host))).toMatchObject({ compatible: true, unknown: [] });
      await podman('rm', '-f', '-t', '0', 'counter');

      await restorePodmanCheckpoint(host, createReadStream(cp.file), cp.file, { name: 'counter-restored' }, quietContext());
      await sleep(1500);
      const after = await logged('counter-restored');
      // Podman carries the container log along (as it was at export, so with leave-running the
      // number after the dump point can appear twice). The count goes on past the pre-dump
      // numbers without starting again at 1, as a cold start would.
      expect(Math.max(...after)).toBeGreaterThan(Math.max(...before));
      expect(after.filter((n) => n === 1)).toHaveLength(1);
      expect(after.slice(1).every((n, i) => n - after[i]! === 0 || n - after[i]! === 1)).toBe(true);
      expect((await podman('inspect', '--format', '{{.State.Running}}', 'counter-restored')).trim()).toBe('true');
    } finally {
      await cp.dispose();
    }
  });
});
