import { createReadStream } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureDockerCheckpoint, restoreDockerCheckpoint, type CapturedCheckpoint } from '../../src/checkpoint/docker.js';
import { quietContext } from '../../src/util/context.js';
import { dockerProbe, startDocker } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { COUNTER, counted, criuProbe, demux, sleep } from './support.js';
import { copyImage, startSecondEngine } from './second-engine.js';
import { dirtyTracking } from '../../src/checkpoint/criu.js';

const ready = await needs('Docker checkpoint/restore', criuProbe, dockerProbe);

describe.skipIf(!ready)('Docker Engine checkpoint and restore with real CRIU', () => {
  let docker: Docker;
  let image: string;
  const names = [`fatchart-cp-counter-${process.pid}`, `fatchart-cp-restored-${process.pid}`];
  const captured: CapturedCheckpoint[] = [];

  beforeAll(async () => {
    const component = await startDocker();
    docker = new Docker({ socketPath: component.socketPath });
    image = component.image;
  });
  afterAll(async () => {
    for (const n of names) await docker?.getContainer(n).remove({ force: true }).catch(() => {});
    for (const c of captured) await c.dispose();
  });

  it('checkpoints a running counter, removes it, and restores it counting on from where it was', async () => {
    const source = await docker.createContainer({ name: names[0], Image: image, Cmd: COUNTER, HostConfig: { NetworkMode: 'none' } });
    await source.start();
    await sleep(2000);
    const before = await counted(source);
    expect(before.length).toBeGreaterThan(2);
    const cp = await captureDockerCheckpoint({ docker }, names[0]!, {}, quietContext());
    captured.push(cp);
    // Left running by default: the source keeps serving after the dump.
    expect((await source.inspect()).State.Running).toBe(true);
    expect(cp.facts).toMatchObject({
      container: names[0],
      engine: 'docker',
      architecture: 'x86_64',
      tcpEstablished: false,
      image,
    });
    expect(cp.facts.criuVersion).toMatch(/^\d+\.\d+/);
    expect(cp.facts.kernelVersion).toBeTruthy();
    expect(cp.size).toBeGreaterThan(0);
    await source.remove({ force: true });

    const restored = await restoreDockerCheckpoint({ docker }, createReadStream(cp.file), cp.file, { name: names[1] }, quietContext());
    await sleep(1500);
    const after = await counted(docker.getContainer(restored.containerId));
    expect(after.length).toBeGreaterThan(0);
    // A cold start would print 1 first; the restored process goes on after the number it had
    // reached at the dump, which is past everything it had printed before the dump began.
    expect(after[0]).toBeGreaterThan(before.at(-1)!);
    expect(after).toEqual(after.map((_, i) => after[0]! + i));
    expect((await docker.getContainer(restored.containerId).inspect()).State.Running).toBe(true);
  });

  it('restores on a second engine with its own data root, counting on', async () => {
    const second = await startSecondEngine();
    try {
      await copyImage(docker, second.docker, image);
      const name = `fatchart-cp-moved-${process.pid}`;
      names.push(name);
      const source = await docker.createContainer({ name, Image: image, Cmd: COUNTER, HostConfig: { NetworkMode: 'none' } });
      await source.start();
      await sleep(1500);
      const before = await counted(source);
      // Move semantics: the source stops with the dump.
      const cp = await captureDockerCheckpoint({ docker }, name, { leaveRunning: false }, quietContext());
      captured.push(cp);
      expect((await source.inspect()).State.Running).toBe(false);
      const restored = await restoreDockerCheckpoint({ docker: second.docker }, createReadStream(cp.file), cp.file, {}, quietContext());
      expect(restored.name).toBe(name);
      await sleep(1500);
      const after = await counted(second.docker.getContainer(restored.containerId));
      expect(after[0]).toBeGreaterThan(before.at(-1)!);
      expect((await second.docker.getContainer(restored.containerId).inspect()).State.Running).toBe(true);
      await second.docker.getContainer(restored.containerId).remove({ force: true });
    } finally {
      await second.stop();
    }
  });

  it('reports missing memory dirty tracking and refuses an incremental dump with that reason', async () => {
    const tracking = await dirtyTracking();
    if (tracking.available) {
      console.warn('SKIP this kernel tracks dirty memory; the refusal path cannot be exercised here');
      return;
    }
    expect(tracking.reason).toMatch(/dirty tracking is off/i);
    await expect(captureDockerCheckpoint({ docker }, names[0]!, { preDump: true }, quietContext())).rejects.toMatchObject({
      code: 'preflight',
      message: expect.stringMatching(/pre-dump\) checkpoints need memory dirty tracking, unavailable here: Dirty tracking is OFF/),
    });
  });

  it('reports why CRIU could not dump, from its own log, and leaves the source running', async () => {
    const name = `fatchart-cp-tcp-${process.pid}`;
    names.push(name);
    // An established loopback TCP connection: CRIU refuses it without --tcp-established (and
    // kernels that hide socket options refuse even the listening socket).
    const c = await docker.createContainer({
      name,
      Image: image,
      Cmd: ['sh', '-c', 'sleep 100000 | nc -l -p 9 >/dev/null & sleep 0.5; sleep 100000 | nc 127.0.0.1 9'],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    await sleep(1500);
    await expect(captureDockerCheckpoint({ docker }, name, {}, quietContext())).rejects.toMatchObject({
      code: 'platform',
      message: expect.stringMatching(new RegExp(`^container ${name}: checkpoint failed: CRIU: \\S.* \\(engine said: .*criu-dump\\.log`)),
    });
    expect((await c.inspect()).State.Running).toBe(true);
  });

  it('restores a container whose named volume was kept, writing on into the same file', async () => {
    const name = `fatchart-cp-vol-${process.pid}`;
    const volume = `fatchart-cp-vol-${process.pid}`;
    names.push(name);
    const cmd = ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i; echo $i >> /data/count; sleep 0.5; done'];
    const source = await docker.createContainer({ name, Image: image, Cmd: cmd, HostConfig: { NetworkMode: 'none', Binds: [`${volume}:/data`] } });
    try {
      await source.start();
      await sleep(1500);
      const cp = await captureDockerCheckpoint({ docker }, name, { leaveRunning: false }, quietContext());
      captured.push(cp);
      await source.remove();
      const restored = await restoreDockerCheckpoint({ docker }, createReadStream(cp.file), cp.file, {}, quietContext());
      await sleep(1500);
      const c = docker.getContainer(restored.containerId);
      const exec = await c.exec({ Cmd: ['cat', '/data/count'], AttachStdout: true });
      const out = await new Promise<string>((resolve, reject) => {
        exec.start({}, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on('data', (b: Buffer) => chunks.push(b));
          stream.on('end', () => resolve(demux(Buffer.concat(chunks))));
        });
      });
      // The file holds one unbroken 1, 2, 3, … across the dump and the restore.
      const numbers = out.split('\n').filter(Boolean).map(Number);
      expect(numbers.length).toBeGreaterThan(4);
      expect(numbers).toEqual(numbers.map((_, i) => i + 1));
      expect((await c.inspect()).State.Running).toBe(true);
      await c.remove({ force: true });
    } finally {
      await docker.getVolume(volume).remove().catch(() => {});
    }
  });
});
