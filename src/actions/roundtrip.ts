import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packDirectory } from '../bundle/tar-pack.js';
import { indexTar, type IndexRecord } from '../bundle/volume-index.js';
import type { RunContext } from '../util/context.js';
import { pack } from './pack.js';
import { unpack } from './unpack.js';
import { verify } from './verify.js';

export interface RoundTripResult {
  app: string;
  bundle: string;
  identity: string;
  objects: number;
  volumes: number;
  files: number;
  dataBytes: number;
  bundleBytes: number;
  /** Every file, folder and link of every volume equal after restore: content, mode, mtime, owner, link target. */
  digestsEqual: boolean;
  /** Packing the restored folder again gives the same bundle identity. */
  identityStable: boolean;
  /** The first difference found, if any. */
  difference?: string;
  timings: { packMs: number; verifyMs: number; unpackMs: number };
}

/**
 * Packs a manifests folder, deep-verifies the bundle, unpacks it to a temporary folder, proves the
 * restored data equal to the source file by file, and packs the result again to prove the same
 * identity. This is `npm run demo`, and what the tests run on every example.
 */
export async function roundTrip(folder: string, bundle: string, created: Date, ctx: RunContext): Promise<RoundTripResult> {
  const t0 = performance.now();
  const packed = await pack({ source: 'manifests', location: folder, out: bundle, created }, ctx);
  const t1 = performance.now();
  await verify(bundle, { deep: true }, ctx);
  const t2 = performance.now();
  const work = await mkdtemp(join(tmpdir(), 'fatchart-roundtrip-'));
  try {
    const out = join(work, 'restored');
    const restored = await unpack(bundle, { target: 'manifests', out }, ctx);
    const t3 = performance.now();
    let difference: string | undefined;
    for (const v of packed.manifest.volumes) {
      difference ??= await compareTrees(join(folder, 'data', v.name), join(out, 'data', v.name), v.name);
    }
    const again = await pack({ source: 'manifests', location: out, out: join(work, 'again.fatchart'), created }, ctx);
    const m = packed.manifest;
    return {
      app: m.app.name,
      bundle,
      identity: packed.identity,
      objects: m.plan.objects,
      volumes: m.plan.volumes,
      files: m.plan.files,
      dataBytes: m.plan.dataBytes,
      bundleBytes: packed.bytes,
      digestsEqual: difference === undefined && restored.digestsVerified,
      identityStable: again.identity === packed.identity,
      ...(difference ? { difference } : {}),
      timings: { packMs: t1 - t0, verifyMs: t2 - t1, unpackMs: t3 - t2 },
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Compares two folders by indexing both the way a volume is indexed; returns the first difference. */
export async function compareTrees(a: string, b: string, label: string): Promise<string | undefined> {
  const [left, right] = await Promise.all([treeIndex(a), treeIndex(b)]);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    if (!x || !y) return `${label}: ${x ? `${x.path} missing after restore` : `${y!.path} appeared after restore`}`;
    if (JSON.stringify(x) !== JSON.stringify(y)) return `${label}: ${x.path} differs: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`;
  }
  return undefined;
}

async function treeIndex(dir: string): Promise<IndexRecord[]> {
  const records: IndexRecord[] = [];
  await indexTar(packDirectory(dir), (r) => {
    records.push(r);
  });
  return records;
}

/** The example apps: every subfolder that holds a fatchart-app.yaml or any manifest. */
export async function exampleApps(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(root)).sort()) {
    const dir = join(root, name);
    if ((await stat(dir)).isDirectory()) out.push(dir);
  }
  return out;
}
