/**
 * `pack --source compose` data path on a real engine: a running 2-service project (named volume
 * with varied files, bind-mounted folder, secret, healthcheck, depends_on service_healthy) is
 * captured while paused, written into a real fat chart, and each volume read back from the
 * bundle into a new engine volume whose every file digest matches the bundle index and the
 * original volume's own listing. The containers run again after release().
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/bundle/digest.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { captureCompose } from '../../src/platforms/compose/capture.js';
import { engineClient, type Engine } from '../../src/platforms/compose/engine/client.js';
import { EngineJournal } from '../../src/platforms/compose/engine/journal.js';
import { inspectProject } from '../../src/platforms/compose/engine/project.js';
import { createVolume, fillVolume } from '../../src/platforms/compose/engine/restore.js';
import { verifyVolume } from '../../src/platforms/compose/engine/verify.js';
import { quietContext } from '../../src/util/context.js';
import { composeProbe, dockerProbe, startDocker, type DockerComponent } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { freePort, listingScript, runScript, uniqueName } from './engine-helpers.js';
import { composeDown, startSourceProject } from './fixture-project.js';

const ready = await needs('Docker Engine and Compose CLI', dockerProbe, composeProbe);

describe.skipIf(!ready)('capture a running compose project from a real engine into a fat chart', () => {
  let docker: DockerComponent;
  let engine: Engine;
  let dir: string;
  const project = uniqueName('fctcap');
  const journal = { j: undefined as EngineJournal | undefined };

  beforeAll(async () => {
    docker = await startDocker();
    engine = engineClient(docker.host);
    process.env.DOCKER_HOST = docker.host;
    dir = await mkdtemp(join(tmpdir(), 'fct-cap-'));
    await startSourceProject(engine, docker, dir, project, await freePort());
  });

  afterAll(async () => {
    await journal.j?.rollback();
    if (dir) {
      await composeDown(docker, dir, project).catch(() => {});
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('packs the volumes while the project is paused, then resumes it', async () => {
    const states = async () => (await inspectProject(engine, project)).containers.map((c) => `${c.service}:${c.state}`).sort();
    expect(await states()).toEqual(['web:running', 'worker:running']);

    const capture = await captureCompose({ location: dir, project, quiesce: 'pause' }, quietContext());
    let bundlePath: string;
    try {
      expect(await states()).toEqual(['web:paused', 'worker:paused']);
      expect(capture.volumes.map((v) => [v.name, v.consistency])).toEqual([
        ['bind-uploads', 'quiesce-pause'],
        ['site', 'quiesce-pause'],
      ].sort());
      expect(capture.model.objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
        expect.arrayContaining(['PersistentVolumeClaim/site', 'PersistentVolumeClaim/bind-uploads', 'Deployment/web', 'Deployment/worker']),
      );
      expect(capture.model.source.version).toMatch(/^Docker \d+/);
      bundlePath = join(dir, 'app.fatchart');
      await writeBundle({ out: bundlePath, model: capture.model, volumes: capture.volumes, created: new Date('2026-01-01T00:00:00Z'), toolVersion: 'test' }, quietContext());
    } finally {
      await capture.release();
    }
    expect(await states()).toEqual(['web:running', 'worker:running']);

    // Every volume, from the bundle into a fresh engine volume: digests equal to the index.
    const reader = await BundleReader.open(bundlePath);
    expect(reader.manifest.volumes.map((v) => [v.name, v.consistency])).toEqual([
      ['bind-uploads', 'quiesce-pause'],
      ['site', 'quiesce-pause'],
    ]);
    journal.j = new EngineJournal(engine);
    for (const v of reader.manifest.volumes) {
      const target = `${project}-restored-${v.name}`;
      await createVolume(engine, journal.j, { name: target });
      await fillVolume(engine, target, reader.volumeTar(v.name));
      const verified = await verifyVolume(engine, target, reader.volumeIndex(v.name));
      expect(verified.files).toBe(v.stats.files);
    }
    // And independently: busybox's listing of the restored volume equals the original's.
    const original = await runScript(engine, docker.image, [`${project}_site:/v:ro`], listingScript('/v'));
    const restored = await runScript(engine, docker.image, [`${project}-restored-site:/v:ro`], listingScript('/v'));
    expect(restored).toBe(original);
    expect(original).toMatch(/\.\/img\/blob\.bin file 644 0:0 200000 \d+ 2 [0-9a-f]{64}/);
    const uploads = await runScript(engine, docker.image, [`${project}-restored-bind-uploads:/v:ro`], 'sha256sum /v/sub/big.bin; readlink /v/latest');
    expect(uploads).toBe(`${sha256Hex(Buffer.alloc(2 << 20, 7))}  /v/sub/big.bin\nsub/big.bin\n`);
  });
});
