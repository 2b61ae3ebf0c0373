/**
 * Issue 9's "done when", on a real engine with the real Compose CLI: a running 2-service project
 * (named volume with varied files, bind mount, secret, healthcheck, depends_on service_healthy)
 * is packed while running, torn down, unpacked with --up into a new project, and serves the
 * same data on 127.0.0.1 with every file digest equal. And an unpack whose --up fails leaves
 * nothing behind: no folder, no volumes, containers or networks.
 */

import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/bundle/digest.js';
import { BundleReader } from '../../src/bundle/reader.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { captureCompose } from '../../src/platforms/compose/capture.js';
import { engineClient, type Engine } from '../../src/platforms/compose/engine/client.js';
import { inspectProject, projectExists } from '../../src/platforms/compose/engine/project.js';
import { restoreCompose } from '../../src/platforms/compose/target.js';
import { quietContext } from '../../src/util/context.js';
import { composeProbe, dockerProbe, startDocker, type DockerComponent } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { freePort, listingScript, runScript, uniqueName } from './engine-helpers.js';
import { composeDown, startSourceProject } from './fixture-project.js';

const run = promisify(execFile);
const ready = await needs('Docker Engine and Compose CLI', dockerProbe, composeProbe);

describe.skipIf(!ready)('pack a running compose project, tear it down, unpack it with --up', () => {
  let docker: DockerComponent;
  let engine: Engine;
  let dir: string;
  let port: number;
  let bundlePath: string;
  let listing: string;
  let page: string;
  const source = uniqueName('fctsrc');
  const targets: string[] = [];

  beforeAll(async () => {
    docker = await startDocker();
    engine = engineClient(docker.host);
    process.env.DOCKER_HOST = docker.host;
    dir = await mkdtemp(join(tmpdir(), 'fct-e2e-'));
    port = await freePort();
    await mkdir(join(dir, 'src'));
    await startSourceProject(engine, docker, join(dir, 'src'), source, port);
  });

  afterAll(async () => {
    if (!dir) return;
    for (const t of targets) await composeDown(docker, join(dir, t), t).catch(() => {});
    await composeDown(docker, join(dir, 'src'), source).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('packs the running project', async () => {
    page = await (await fetch(`http://127.0.0.1:${port}/index.html`)).text();
    expect(page).toBe('hello over 127.0.0.1\n');
    listing = await runScript(engine, docker.image, [`${source}_site:/v:ro`], listingScript('/v'));
    const capture = await captureCompose({ location: join(dir, 'src'), project: source, quiesce: 'pause' }, quietContext());
    bundlePath = join(dir, 'app.fatchart');
    try {
      await writeBundle({ out: bundlePath, model: capture.model, volumes: capture.volumes, created: new Date('2026-01-01T00:00:00Z'), toolVersion: 'test' }, quietContext());
    } finally {
      await capture.release();
    }
    const reader = await BundleReader.open(bundlePath);
    expect(reader.manifest.volumes.map((v) => `${v.name}:${v.consistency}`)).toEqual(['bind-uploads:quiesce-pause', 'site:quiesce-pause']);
    expect(reader.manifest.originals.map((o) => o.kind)).toContain('ComposeProject');
    // Torn down, volumes and all: what comes back comes from the bundle only.
    await composeDown(docker, join(dir, 'src'), source);
    expect(await projectExists(engine, source)).toBe(false);
  });

  /** The unpacked project serves the original data and runs both services, with its secret. */
  async function checkServes(target: string, out: string): Promise<void> {
    // Same page, same blob bytes, over the loopback port the compose file publishes.
    expect(await (await fetch(`http://127.0.0.1:${port}/index.html`)).text()).toBe(page);
    const blob = Buffer.from(await (await fetch(`http://127.0.0.1:${port}/img/blob.bin`)).arrayBuffer());
    expect(blob.length).toBe(200000);
    // Every file of the new named volume, as busybox lists it, equals the original listing.
    expect(await runScript(engine, docker.image, [`${target}_site:/v:ro`], listingScript('/v'))).toBe(listing);
    expect(listing).toContain(sha256Hex(blob));

    // Bind mount data and the secret are in the new project folder; both services run.
    expect(sha256Hex(await readFile(join(out, 'uploads/sub/big.bin')))).toBe(sha256Hex(Buffer.alloc(2 << 20, 7)));
    expect(await readlink(join(out, 'uploads/latest'))).toBe('sub/big.bin');
    expect(await readFile(join(out, 'secrets/api_key/api_key.txt'), 'utf8')).toBe('s3cret\n');
    const state = await inspectProject(engine, target);
    expect(state.containers.map((c) => `${c.service}:${c.state}`).sort()).toEqual(['web:running', 'worker:running']);
    const worker = await engine.getContainer(state.containers.find((c) => c.service === 'worker')!.id).inspect();
    expect(worker.Mounts.map((m) => m.Destination)).toContain('/run/secrets/api_key');
  }

  it('unpacks with --up into a new project that serves the same data on 127.0.0.1', async () => {
    const target = uniqueName('fctdst');
    targets.push(target);
    const out = join(dir, target);
    const report = await restoreCompose(await BundleReader.open(bundlePath), { out, project: target, up: true }, quietContext());
    expect(report).toMatchObject({ volumes: 2, digestsVerified: true });
    await checkServes(target, out);
    await composeDown(docker, out, target);
  });

  it('does the same through the engine API when there is no Compose CLI', async () => {
    const target = uniqueName('fcteng');
    targets.push(target);
    const out = join(dir, target);
    process.env.FATCHART_COMPOSE_CLI = 'engine';
    try {
      await restoreCompose(await BundleReader.open(bundlePath), { out, project: target, up: true }, quietContext());
    } finally {
      delete process.env.FATCHART_COMPOSE_CLI;
    }
    await checkServes(target, out);
    // Labelled like Compose's own: the Compose CLI recognises the project it did not create.
    const { stdout } = await run('docker-compose', ['-p', target, 'ps', '--services'], { cwd: out, env: docker.env });
    expect(stdout.trim().split('\n').sort()).toEqual(['web', 'worker']);
  });

  it('leaves nothing behind when --up fails', async () => {
    // The project's loopback port is taken (by the previous unpack, or else by us): compose up
    // cannot start web after the volumes were created and filled.
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.once('error', () => resolve()).listen(port, '127.0.0.1', () => resolve()));
    const target = uniqueName('fctfail');
    const out = join(dir, target);
    try {
      await expect(restoreCompose(await BundleReader.open(bundlePath), { out, project: target, up: true }, quietContext())).rejects.toMatchObject({ code: 'platform' });
    } finally {
      blocker.close();
    }
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await projectExists(engine, target)).toBe(false);
    const leftovers = (await engine.listVolumes()).Volumes?.filter((v) => v.Name.startsWith(target)) ?? [];
    expect(leftovers).toEqual([]);
  });
});

