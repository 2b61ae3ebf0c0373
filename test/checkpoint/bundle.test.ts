import { createReadStream } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../src/bundle/reader.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { captureDockerCheckpoint, type CapturedCheckpoint } from '../../src/checkpoint/docker.js';
import { readCheckpointFacts } from '../../src/checkpoint/metadata.js';
import { restoreBundleCheckpointsOnDocker } from '../../src/checkpoint/restore.js';
import { checkpointSlots, importCheckpointArchive } from '../../src/checkpoint/slot.js';
import type { AppModel } from '../../src/model/app.js';
import { quietContext } from '../../src/util/context.js';
import { dockerProbe, startDocker } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { buildArchive, haveFixtures } from './fixtures.js';
import { COUNTER, counted, criuProbe, sleep } from './support.js';

const model: AppModel = {
  app: { name: 'counter' },
  source: { platform: 'compose' },
  objects: [],
  originals: [],
  losses: [],
};

async function bundleWith(slots: ReturnType<typeof checkpointSlots>): Promise<BundleReader> {
  const out = join(await mkdtemp(join(tmpdir(), 'fatchart-cpbundle-')), 'app.fatchart');
  await writeBundle({ out, model, volumes: [], created: new Date('2026-01-01T00:00:00Z'), toolVersion: 'test', checkpoints: slots }, quietContext());
  return BundleReader.open(out);
}

const ready = await needs('checkpoints through a real bundle', haveFixtures, criuProbe, dockerProbe);

describe.skipIf(!ready)('checkpoints carried in a fat chart and restored from it', () => {
  let docker: Docker;
  let image: string;
  const names = [`fatchart-cpb-${process.pid}`];
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

  it('packs a running counter checkpoint, unpacks it after the source is gone, and it counts on', async () => {
    const source = await docker.createContainer({ name: names[0], Image: image, Cmd: COUNTER, HostConfig: { NetworkMode: 'none' } });
    await source.start();
    await sleep(1500);
    const before = await counted(source);
    const cp = await captureDockerCheckpoint({ docker }, names[0]!, {}, quietContext());
    captured.push(cp);
    const { facts } = await readCheckpointFacts(createReadStream(cp.file), cp.file);
    const reader = await bundleWith(checkpointSlots([cp]));
    expect(reader.manifest.checkpoints).toEqual([
      expect.objectContaining({ container: names[0], entry: `checkpoints/${names[0]}.tar.zst`, size: cp.size, sha256: cp.sha256 }),
    ]);
    expect(reader.manifest.checkpoints[0]!.facts).toMatchObject({ ...facts, compression: 'zstd' });
    await source.remove({ force: true });

    const result = await restoreBundleCheckpointsOnDocker(reader, { docker }, { fallback: 'refuse' }, quietContext());
    expect(result.cold).toEqual([]);
    expect(result.restored).toEqual([expect.objectContaining({ name: names[0] })]);
    await sleep(1000);
    const after = await counted(docker.getContainer(result.restored[0]!.containerId));
    expect(after[0]).toBeGreaterThan(before.at(-1)!);
  });

  it('refuses a bundle whose checkpoint was taken on another architecture, or starts it cold when asked', async () => {
    const imported = await importCheckpointArchive(await buildArchive('cri-o', 'gzip'));
    const reader = await bundleWith(checkpointSlots([imported]));
    await expect(restoreBundleCheckpointsOnDocker(reader, { docker }, { fallback: 'refuse' }, quietContext())).rejects.toMatchObject({
      code: 'preflight',
      message: expect.stringMatching(/^checkpoint container-name: cannot restore on this target: CPU architecture differs: recorded aarch64, target x86_64/),
    });
    const cold = await restoreBundleCheckpointsOnDocker(reader, { docker }, { fallback: 'cold' }, quietContext());
    expect(cold.restored).toEqual([]);
    expect(cold.cold).toEqual([expect.objectContaining({ container: 'container-name', action: 'cold' })]);
  });
});
