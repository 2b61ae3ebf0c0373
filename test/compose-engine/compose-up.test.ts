/**
 * `--up` through the real Compose CLI (Debian's docker-compose) on a real engine: a healthy
 * project comes up in dependency order and serves its volume's data on 127.0.0.1; a project
 * whose health check fails is taken back completely by the journal — containers, networks,
 * the volumes the unpack created — and nothing that existed before is touched.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packDirectory } from '../../src/bundle/tar-pack.js';
import { engineClient, type Engine } from '../../src/platforms/compose/engine/client.js';
import { composeUp } from '../../src/platforms/compose/engine/compose-cli.js';
import { EngineJournal } from '../../src/platforms/compose/engine/journal.js';
import { inspectProject, projectExists } from '../../src/platforms/compose/engine/project.js';
import { createVolume, fillVolume } from '../../src/platforms/compose/engine/restore.js';
import { composeProbe, dockerProbe, startDocker, type DockerComponent } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { freePort, uniqueName } from './engine-helpers.js';

const ready = await needs('Docker Engine and Compose CLI', dockerProbe, composeProbe);

const composeFile = (image: string, port: number, healthy: boolean) => `
services:
  web:
    image: ${image}
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    ports: ["127.0.0.1:${port}:8080"]
    volumes:
      - site:/www:ro
      - ./conf:/conf:ro
    healthcheck:
      test: ["CMD", ${healthy ? '"wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/index.html"' : '"false"'}]
      interval: 1s
      retries: 3
  client:
    image: ${image}
    command: ["sh", "-c", "sleep 3600"]
    depends_on:
      web:
        condition: service_healthy
volumes:
  site: {}
`;

describe.skipIf(!ready)('compose up with rollback on a real Docker Engine', () => {
  let docker: DockerComponent;
  let engine: Engine;
  let dir: string;
  const journals: EngineJournal[] = [];

  beforeAll(async () => {
    docker = await startDocker();
    engine = engineClient(docker.host);
    dir = await mkdtemp(join(tmpdir(), 'fct-up-'));
  });

  afterAll(async () => {
    for (const j of journals) await j.rollback();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function project(healthy: boolean) {
    const name = uniqueName('fctup');
    const projectDir = join(dir, name);
    await mkdir(join(projectDir, 'conf'), { recursive: true });
    await writeFile(join(projectDir, 'conf', 'app.conf'), 'x=1\n');
    await writeFile(join(projectDir, 'compose.yaml'), composeFile(docker.image, await freePort(), healthy));
    // The data an unpack would put in the named volume before starting the project.
    const seed = join(projectDir, 'seed');
    await mkdir(seed);
    await writeFile(join(seed, 'index.html'), `hello from ${name}\n`);
    const journal = new EngineJournal(engine);
    journals.push(journal);
    await createVolume(engine, journal, { name: `${name}_site`, project: name, composeName: 'site' });
    await fillVolume(engine, `${name}_site`, packDirectory(seed));
    return { name, projectDir, journal };
  }

  it('brings a healthy project up in order and serves the volume data on 127.0.0.1', async () => {
    const { name, projectDir, journal } = await project(true);
    const statuses = await composeUp(engine, journal, projectDir, name, { files: ['compose.yaml'], timeoutMs: 60_000 });
    expect(statuses.map((s) => [s.service, s.state, s.health]).sort()).toEqual([
      ['client', 'running', 'none'],
      ['web', 'running', 'healthy'],
    ]);
    const state = await inspectProject(engine, name);
    const web = await engine.getContainer(state.containers.find((c) => c.service === 'web')!.id).inspect();
    const published = web.NetworkSettings.Ports['8080/tcp']?.[0];
    expect(published?.HostIp).toBe('127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${published!.HostPort}/index.html`);
    expect(await res.text()).toBe(`hello from ${name}\n`);

    // Compose adopted the pre-created volume (no second volume), and the bind mount is seen.
    expect(state.volumes.map((v) => [v.kind, v.kind === 'bind' ? v.source.slice(projectDir.length) : v.source, v.composeName])).toEqual([
      ['bind', '/conf', undefined],
      ['volume', `${name}_site`, 'site'],
    ]);
    expect(await journal.rollback()).toEqual([]);
    expect(await projectExists(engine, name)).toBe(false);
  });

  it('removes containers, networks and the created volume when a health check fails', async () => {
    const { name, projectDir, journal } = await project(false);
    const keep = uniqueName('fct-keep');
    await engine.createVolume({ Name: keep });
    try {
      await expect(composeUp(engine, journal, projectDir, name, { files: ['compose.yaml'], timeoutMs: 60_000 })).rejects.toMatchObject({
        code: 'platform',
        message: expect.stringMatching(/web/),
      });
      expect(await projectExists(engine, name)).toBe(true);
      expect(await journal.rollback()).toEqual([]);
      expect(await projectExists(engine, name)).toBe(false);
      await expect(engine.getVolume(`${name}_site`).inspect()).rejects.toMatchObject({ statusCode: 404 });
      await expect(engine.getVolume(keep).inspect()).resolves.toBeTruthy();
    } finally {
      await engine.getVolume(keep).remove();
    }
  });

  it('writes nothing when the fill stream is not a valid tar, and the journal removes the volume', async () => {
    const journal = new EngineJournal(engine);
    const vol = uniqueName('fct-bad');
    await createVolume(engine, journal, { name: vol });
    await expect(fillVolume(engine, vol, Readable.from([Buffer.from('not a tar archive at all')]))).rejects.toThrow(/archive ends/);
    await journal.rollback();
    await expect(engine.getVolume(vol).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});
