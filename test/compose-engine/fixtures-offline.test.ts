/**
 * The shared real-world Compose projects that need no build pack without any Docker Engine
 * (their volumes are bind mounts or empty), and unpack back into a Compose project that the
 * real Compose CLI accepts (`docker-compose config`), with the bind-mounted data in place.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../src/bundle/reader.js';
import { writeBundle } from '../../src/bundle/writer.js';
import { captureCompose } from '../../src/platforms/compose/capture.js';
import { restoreCompose } from '../../src/platforms/compose/target.js';
import { quietContext } from '../../src/util/context.js';
import { composeProbe } from '../support/components/docker.js';
import { needs } from '../support/require.js';

const run = promisify(execFile);
const fixtures = resolve('../shared/fixtures/compose');
const haveFixtures = await needs('shared Compose fixtures', () => (existsSync(fixtures) ? undefined : `${fixtures} is absent`), composeProbe);
const projects = haveFixtures
  ? readdirSync(fixtures, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !/^\s*build:/m.test(readFileSync(join(fixtures, d.name, 'compose.yaml'), 'utf8')))
      .map((d) => d.name)
  : [];

describe.skipIf(!haveFixtures)('shared compose fixtures pack offline and unpack to a valid project', () => {
  let dir: string;
  const savedHost = process.env.DOCKER_HOST;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fct-fix-'));
    // No engine: nothing answers on this socket.
    process.env.DOCKER_HOST = `unix://${dir}/no-engine.sock`;
  });

  afterAll(async () => {
    process.env.DOCKER_HOST = savedHost;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds the fixtures that need no build', () => {
    expect(projects.sort()).toEqual(['gitea-postgres', 'postgresql-pgadmin', 'prometheus-grafana', 'wordpress-mysql']);
  });

  it.each(projects)('%s', async (name) => {
    const capture = await captureCompose({ location: join(fixtures, name), quiesce: 'pause' }, quietContext());
    expect(capture.model.source).toEqual({ platform: 'compose' });
    expect(capture.volumes.every((v) => v.consistency === 'offline')).toBe(true);
    const bundle = join(dir, `${name}.fatchart`);
    try {
      await writeBundle({ out: bundle, model: capture.model, volumes: capture.volumes, created: new Date('2026-01-01T00:00:00Z'), toolVersion: 'test' }, quietContext());
    } finally {
      await capture.release();
    }
    const reader = await BundleReader.open(bundle);
    expect(reader.manifest.objects.length).toBeGreaterThan(0);
    // Named volumes had no engine to read from: reported, not silently empty.
    const named = Object.keys((await reader.originals()).find((o) => o.kind === 'ComposeProject')?.spec?.volumes ?? {});
    for (const v of named) expect(reader.manifest.losses.some((l) => l.subject === `volume/${v.replace(/_/g, '-')}` && l.severity === 'needs-action')).toBe(true);

    const out = join(dir, `${name}-out`);
    await restoreCompose(reader, { out, project: name }, quietContext());
    const { stdout } = await run('docker-compose', ['-f', join(out, 'compose.yaml'), 'config', '--services'], { cwd: out });
    expect(stdout.trim().split('\n').sort()).toEqual(Object.keys(capture.model.originals[0]!.spec!.services as object).sort());
    // Bind-mounted config folders came along (as ConfigMaps: small) and sit where the file says.
    if (name === 'prometheus-grafana') {
      expect(await readFile(join(out, 'prometheus/prometheus.yml'), 'utf8')).toBe(readFileSync(join(fixtures, name, 'prometheus/prometheus.yml'), 'utf8'));
      expect(await readFile(join(out, 'grafana/datasource.yml'), 'utf8')).toBe(readFileSync(join(fixtures, name, 'grafana/datasource.yml'), 'utf8'));
    }
  });
});
