import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { create as createTar } from 'tar';
import { describe, expect, it } from 'vitest';
import { readCheckpointFacts } from '../../src/checkpoint/metadata.js';
import { cgroupVersion, coreArchitecture, inventoryFacts } from '../../src/checkpoint/criu-image.js';
import { needs } from '../support/require.js';
import { buildArchive, criuImages, haveFixtures, type Flavour } from './fixtures.js';

const present = await needs('checkpoint fixtures', haveFixtures);

describe.skipIf(!present)('checkpoint metadata from real archives', () => {
  it('reads the CRIU image facts the crit decodes beside them state', async () => {
    const core = await readFile(`${criuImages}/core-2956.img`);
    const coreJson = JSON.parse(await readFile(`${criuImages}/core-2956.txt`, 'utf8'));
    expect(coreArchitecture(core)).toBe(coreJson.entries[0].mtype.toLowerCase());
    const inv = JSON.parse(await readFile(`${criuImages}/inventory.txt`, 'utf8')).entries[0];
    expect(inventoryFacts(await readFile(`${criuImages}/inventory.img`))).toEqual({
      imageVersion: inv.img_version,
      lsm: 'none',
      tcpClose: undefined,
    });
    // The fixture's cgroup.txt names the v1 controllers cpuset, cpu, memory, cpuacct.
    expect(cgroupVersion(await readFile(`${criuImages}/cgroup.img`))).toBe('1');
  });

  const cases: Array<[Flavour, 'gzip' | 'zstd' | 'none']> = [
    ['cri-o', 'gzip'],
    ['podman', 'zstd'],
    ['bare', 'none'],
  ];
  for (const [flavour, compression] of cases) {
    it(`parses a ${flavour} archive (${compression})`, async () => {
      const file = await buildArchive(flavour, compression);
      const parsed = await readCheckpointFacts(createReadStream(file), file, 'fallback-name');
      expect(parsed.compression).toBe(compression);
      await expect(`${JSON.stringify(parsed.facts, null, 2)}\n`).toMatchFileSnapshot(`golden/facts-${flavour}.json`);
    });
  }

  it('refuses an archive without CRIU images, naming it', async () => {
    const notACheckpoint = createTar({ cwd: criuImages, portable: true }, ['LICENSE']);
    await expect(readCheckpointFacts(Readable.from(notACheckpoint), 'empty.tar')).rejects.toThrow(
      /empty\.tar: no CRIU inventory\.img/,
    );
  });

  it('refuses a corrupt compressed archive as a verification failure', async () => {
    const garbage = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), Buffer.alloc(64, 7)]);
    await expect(readCheckpointFacts(Readable.from([garbage]), 'bad.tar.zst')).rejects.toMatchObject({ code: 'verification' });
  });
});
