import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { checkpointSlots, importCheckpointArchive } from '../../src/checkpoint/slot.js';
import { needs } from '../support/require.js';
import { buildArchive, haveFixtures } from './fixtures.js';

const present = await needs('checkpoint fixtures', haveFixtures);

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe.skipIf(!present)('--checkpoint-archive import and bundle slot entries', () => {
  it('stores an imported CRI-O export byte for byte, with size, digest and facts', async () => {
    const file = await buildArchive('cri-o', 'gzip');
    const bytes = await readFile(file);
    const imported = await importCheckpointArchive(file);
    expect(imported).toMatchObject({
      container: 'container-name',
      size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      compression: 'gzip',
    });
    const [slot] = checkpointSlots([imported]);
    expect(slot!.entry.entry).toBe('checkpoints/container-name.tar.gz');
    expect(slot!.facts).toMatchObject({ engine: 'cri-o', pod: 'pod-name', architecture: 'aarch64', compression: 'gzip' });
    expect((await drain(await slot!.entry.open())).equals(bytes)).toBe(true);
  });

  it('names the container when asked and keeps Podman zstd exports as zstd', async () => {
    const imported = await importCheckpointArchive(await buildArchive('podman', 'zstd'), 'web');
    expect(imported.compression).toBe('zstd');
    expect(checkpointSlots([imported])[0]!.entry.entry).toBe('checkpoints/web.tar.zst');
  });

  it('refuses two checkpoints that would share an entry name', async () => {
    const imported = await importCheckpointArchive(await buildArchive('bare', 'none'), 'web');
    expect(() => checkpointSlots([imported, imported])).toThrow(/two checkpoints would be stored as checkpoints\/web\.tar/);
  });

  it('refuses a missing file as a usage error naming it', async () => {
    await expect(importCheckpointArchive('/nonexistent/cp.tar.zst')).rejects.toMatchObject({
      code: 'usage',
      message: expect.stringContaining('/nonexistent/cp.tar.zst'),
    });
  });
});
