/**
 * Images of a Compose project that exist only in the local engine (never in a registry): pack
 * --source compose --images referenced takes them from the engine; after the tag is gone,
 * unpack --target compose --load-images --up loads them back and the service runs the same image.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { composeProbe, dockerProbe, startDocker, type DockerComponent } from '../support/components/docker.js';
import { needs } from '../support/require.js';
import { registryProbes, startRegistry } from '../support/components/registry.js';
import yaml from 'js-yaml';
import { readFile } from 'node:fs/promises';

const run = promisify(execFile);
const ready = await needs('engine images through the CLI', dockerProbe, composeProbe);

describe.skipIf(!ready)('pack --source compose --images referenced → unpack --load-images', () => {
  let docker: DockerComponent;
  let engine: Docker;
  let dir: string;
  const image = `fatchart-cli-e2e/only-local-${process.pid}:1`;
  const project = `fcimg${process.pid}`;
  const cli = (...args: string[]) => runCli(args, { cwd: dir, env: docker.env });

  beforeAll(async () => {
    docker = await startDocker();
    engine = new Docker({ socketPath: docker.socketPath });
    dir = await mkdtemp(join(tmpdir(), 'fatchart-cli-engine-images-'));
    // A name only this engine knows: no registry could serve it.
    await engine.getImage(docker.image).tag({ repo: image.split(':')[0], tag: '1' });
    await writeFile(join(dir, 'compose.yaml'), `services:\n  app:\n    image: ${image}\n    network_mode: none\n    command: ["sleep", "3600"]\n`);
  });

  afterAll(async () => {
    if (!dir) return;
    await run('docker-compose', ['-p', project, 'down', '-v'], { cwd: join(dir, 'out'), env: docker.env }).catch(() => {});
    await engine.getImage(image).remove().catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  it('carries the engine-only image and loads it back for the unpacked project', async () => {
    const id = (await engine.getImage(image).inspect()).Id;
    const packed = await cli('pack', '--source', 'compose', '-f', 'compose.yaml', '-p', project, '-o', 'app.fatchart', '--images', 'referenced');
    expect(packed.code).toBe(0);
    expect(packed.stdout).toMatch(/1 images/);
    const inspected = await cli('inspect', 'app.fatchart');
    expect(inspected.stdout).toContain(`docker.io/${image}`);

    await engine.getImage(image).remove();
    const unpacked = await cli('unpack', 'app.fatchart', '--target', 'compose', '--out', 'out', '-p', project, '--load-images', '--up');
    expect(unpacked.stderr).not.toMatch(/error/i);
    expect(unpacked.code).toBe(0);
    // The engine's own config travelled, so the image ID is the one packed.
    expect((await engine.getImage(image).inspect()).Id).toBe(id);
    const [c] = await engine.listContainers({ filters: { label: [`com.docker.compose.project=${project}`] } });
    expect(c?.State).toBe('running');
    expect(c?.ImageID).toBe(id);
  });

  it('unpack --target compose --push-images points the compose file at the registry by digest, and the engine pulls that image from there', async (t) => {
    if (!(await needs('a target registry', ...registryProbes))) return t.skip();
    const registry = await startRegistry();
    try {
      const pushed = await cli('unpack', 'app.fatchart', '--target', 'compose', '--out', 'pushed', '-p', `${project}p`, '--push-images', `${registry.host}/airgap`);
      expect(pushed.stderr).not.toMatch(/error/i);
      expect(pushed.code).toBe(0);
      const doc = yaml.load(await readFile(join(dir, 'pushed', 'compose.yaml'), 'utf8')) as { services: Record<string, { image: string }> };
      const ref = Object.values(doc.services)[0]!.image;
      expect(ref).toMatch(new RegExp(`^${registry.host.replace(/\./g, '\\.')}/airgap/fatchart-cli-e2e/only-local-${process.pid}@sha256:[0-9a-f]{64}$`));
      // The engine pulls exactly that from the registry (127.0.0.0/8 is plain HTTP for it too).
      await new Promise((resolve, reject) => engine.pull(ref, {}, (err, stream) => (err ? reject(err) : engine.modem.followProgress(stream!, (e) => (e ? reject(e) : resolve(undefined))))));
      expect((await engine.getImage(ref).inspect()).Id).toBe((await engine.getImage(image).inspect()).Id);
      await engine.getImage(ref).remove().catch(() => {});
    } finally {
      await registry.stop();
    }
  });

  it('refuses --load-images for a bundle without images, and for a cluster target', async () => {
    const bare = await cli('pack', '--source', 'compose', '-f', 'compose.yaml', '-p', project, '-o', 'bare.fatchart');
    expect(bare.code).toBe(0);
    const refused = await cli('unpack', 'bare.fatchart', '--target', 'compose', '--out', 'bare-out', '-p', `${project}b`, '--load-images');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/--load-images: the bundle carries no images/);
    expect(existsSync(join(dir, 'bare-out'))).toBe(false);
    const k8s = await cli('unpack', 'app.fatchart', '--target', 'manifests', '--out', 'm-out', '--load-images');
    expect(k8s.code).toBe(1);
    expect(k8s.stderr).toMatch(/--load-images is for --target compose/);
    expect(existsSync(join(dir, 'm-out'))).toBe(false);
  });
});
