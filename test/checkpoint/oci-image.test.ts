import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readCheckpointFacts } from '../../src/checkpoint/metadata.js';
import { buildCheckpointImage } from '../../src/checkpoint/oci-image.js';
import { commandProbe, needs } from '../support/require.js';
import { buildArchive, haveFixtures } from './fixtures.js';

const run = promisify(execFile);
const ready = await needs('checkpoint OCI image', haveFixtures, commandProbe('skopeo'));

describe.skipIf(!ready)('CRI-O checkpoint OCI image', () => {
  it('builds an image skopeo reads, with the CRI-O annotations and the archive as its one layer', async () => {
    const archive = await buildArchive('cri-o', 'gzip');
    const { facts } = await readCheckpointFacts(createReadStream(archive), archive);
    const dir = join(await mkdtemp(join(tmpdir(), 'fatchart-cpimg-')), 'layout');
    const image = await buildCheckpointImage(createReadStream(archive), facts, dir, 'checkpoint-web:1');

    const { stdout: raw } = await run('skopeo', ['inspect', '--raw', `oci:${dir}:checkpoint-web:1`]);
    expect(createHash('sha256').update(raw).digest('hex')).toBe(image.manifest.digest.slice('sha256:'.length));
    const manifest = JSON.parse(raw);
    expect(manifest.annotations).toEqual({
      'io.kubernetes.cri-o.annotations.checkpoint.name': 'container-name',
      'io.kubernetes.cri-o.annotations.checkpoint.rawImageName': 'docker.io/library/nginx:latest',
      'io.kubernetes.cri-o.annotations.checkpoint.rootfsImageID': 'a8758716bb6aa4d90071160d27028fe4eaee7ce8166221a97d30440c8eac2be6',
      'io.kubernetes.cri-o.annotations.checkpoint.rootfsImageName': 'docker.io/library/nginx:latest',
    });

    const { stdout } = await run('skopeo', ['inspect', `oci:${dir}:checkpoint-web:1`]);
    const info = JSON.parse(stdout);
    expect(info.Architecture).toBe('arm64');
    expect(info.Layers).toEqual([image.layer.digest]);

    // skopeo copy re-verifies every blob digest; the copied layer is the archive's own tar.
    const copy = join(dirname(dir), 'copy');
    await run('skopeo', ['copy', `oci:${dir}:checkpoint-web:1`, `dir:${copy}`]);
    const layer = await readFile(join(copy, image.layer.digest.slice('sha256:'.length)));
    expect(gunzipSync(layer).equals(gunzipSync(await readFile(archive)))).toBe(true);
  });

  it('refuses to replace an existing folder', async () => {
    const archive = await buildArchive('bare', 'none');
    const { facts } = await readCheckpointFacts(createReadStream(archive), archive, 'loop');
    const dir = await mkdtemp(join(tmpdir(), 'fatchart-cpimg-'));
    await buildCheckpointImage(createReadStream(archive), facts, join(dir, 'a'));
    await expect(buildCheckpointImage(createReadStream(archive), facts, join(dir, 'a'))).rejects.toMatchObject({ code: 'platform' });
  });
});
