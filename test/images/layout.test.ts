/** Layouts we did not write are hostile until checked: descriptors, digests and shapes. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../../src/images/digest.js';
import { folderLayout, walkLayout } from '../../src/images/layout.js';

function layoutWith(index: unknown, blobs: Buffer[] = []): string {
  const dir = mkdtempSync(join(tmpdir(), 'fatchart-layout-'));
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const b of blobs) writeFileSync(join(dir, 'blobs', 'sha256', sha256Digest(b).slice(7)), b);
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify(index));
  return dir;
}

const manifestOf = (layers: unknown[]) =>
  Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'x', digest: sha256Digest('{}'), size: 2 }, layers }));

const indexOf = (m: Buffer, over: object = {}) => ({
  schemaVersion: 2,
  manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: sha256Digest(m), size: m.length, ...over }],
});

describe('reading an OCI layout', () => {
  it.each([
    ['a size that is not a byte count', { size: '12' }, /descriptor size "12" is not a byte count/],
    ['a negative size', { size: -1 }, /descriptor size -1/],
    ['a digest that walks out of blobs/', { digest: 'sha256:../../../etc/passwd' }, /is not a sha256 digest/],
    ['another algorithm', { digest: `sha512:${'a'.repeat(128)}` }, /is not a sha256 digest/],
  ])('refuses an index.json entry with %s', async (_what, over, message) => {
    const m = manifestOf([]);
    await expect(folderLayout(layoutWith(indexOf(m, over), [m]))).rejects.toThrow(message);
  });

  it('refuses a layer descriptor of a bad shape inside a manifest', async () => {
    const m = manifestOf([{ mediaType: 'x', digest: sha256Digest('a'), size: 1.5 }]);
    const layout = await folderLayout(layoutWith(indexOf(m), [m]));
    await expect(walkLayout(layout)).rejects.toMatchObject({ code: 'verification', message: expect.stringMatching(/size 1.5 is not a byte count/) });
  });

  it('refuses a manifest whose bytes do not match the digest naming it', async () => {
    const m = manifestOf([]);
    const dir = layoutWith(indexOf(m), [m]);
    writeFileSync(join(dir, 'blobs', 'sha256', sha256Digest(m).slice(7)), Buffer.concat([m.subarray(0, -1), Buffer.from(' ')]));
    await expect(walkLayout(await folderLayout(dir))).rejects.toMatchObject({ code: 'verification', message: expect.stringMatching(/content is sha256:/) });
  });

  it('refuses an index that is not one', async () => {
    await expect(folderLayout(layoutWith({ schemaVersion: 1, manifests: [] }))).rejects.toThrow(/not an OCI image index/);
  });
});
