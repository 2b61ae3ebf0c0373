/**
 * Bounded fuzzing: random bit flips, truncations and splices of a valid bundle, each unpacked
 * in-process to a folder. Every mutant must either be refused with a FatchartError (never an
 * internal error, never a crash) or restore exactly what the original restores — and leave
 * nothing beside the target. FATCHART_FUZZ_ITERATIONS sets the count (`npm run fuzz`: 50 000).
 */
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { unpack } from '../../src/actions/unpack.js';
import { FatchartError } from '../../src/errors.js';
import { quietContext } from '../../src/util/context.js';
import { baseBundle } from './craft.js';

const ITERATIONS = Number(process.env.FATCHART_FUZZ_ITERATIONS) || 3000;
const SEED = Number(process.env.FATCHART_FUZZ_SEED) || 0x5eed;

/** mulberry32: seeded, so a failing mutant can be reproduced from the printed seed and index. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = { kind: string; apply(b: Buffer, rnd: () => number): Buffer };
const int = (rnd: () => number, n: number) => Math.floor(rnd() * n);

const mutations: Mutation[] = [
  { kind: 'bit flip', apply: (b, rnd) => { const c = Buffer.from(b); const i = int(rnd, c.length); c[i]! ^= 1 << int(rnd, 8); return c; } },
  { kind: 'byte burst', apply: (b, rnd) => { const c = Buffer.from(b); const i = int(rnd, c.length); for (let k = 0; k < 1 + int(rnd, 16) && i + k < c.length; k++) c[i + k] = int(rnd, 256); return c; } },
  { kind: 'truncation', apply: (b, rnd) => b.subarray(0, int(rnd, b.length)) },
  { kind: 'splice', apply: (b, rnd) => { const from = int(rnd, b.length); const len = 1 + int(rnd, 4096); const to = int(rnd, b.length); return Buffer.concat([b.subarray(0, to), b.subarray(from, from + len), b.subarray(to)]); } },
  { kind: 'block swap', apply: (b, rnd) => { const c = Buffer.from(b); const n = c.length / 512; const i = int(rnd, n) * 512; const j = int(rnd, n) * 512; const t = Buffer.from(c.subarray(i, i + 512)); c.copy(c, i, j, j + 512); t.copy(c, j); return c; } },
  { kind: 'cut', apply: (b, rnd) => { const i = int(rnd, b.length); return Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + int(rnd, 2048))]); } },
];

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const p = join(dir, name);
    const st = await lstat(p);
    const what = st.isFile() ? createHash('sha256').update(await readFile(p)).digest('hex') : st.isSymbolicLink() ? `-> ${await readlink(p)}` : 'dir';
    const rel = relative(dir, p);
    // Volume files carry their mtimes from the archive; the rest is written at unpack time.
    out.push(`${rel} ${st.mode.toString(8)} ${rel.startsWith('data/') ? Math.floor(st.mtimeMs / 1000) : '-'} ${what}`);
  }
  return out;
}

let work: string;
let original: Buffer;
let reference: string[];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fatchart-fuzz-'));
  original = await readFile(await baseBundle(work));
  await unpack(join(work, 'base.fatchart'), { target: 'manifests', out: join(work, 'reference') }, quietContext());
  reference = await tree(join(work, 'reference'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

it(`every one of ${ITERATIONS} corruptions is detected or restores identically`, { timeout: 3_600_000 }, async () => {
  const rnd = prng(SEED);
  const sandbox = join(work, 'sandbox');
  const bundle = join(work, 'mutant.fatchart');
  const counts = { detected: 0, identical: 0, unchanged: 0 };
  const byCode: Record<string, number> = {};
  const failures: string[] = [];
  await (await import('node:fs/promises')).mkdir(sandbox);
  for (let i = 0; i < ITERATIONS; i++) {
    const m = mutations[int(rnd, mutations.length)]!;
    const mutant = m.apply(original, rnd);
    if (mutant.equals(original)) {
      counts.unchanged++;
      continue;
    }
    await writeFile(bundle, mutant);
    const out = join(sandbox, 'out');
    try {
      await unpack(bundle, { target: 'manifests', out }, quietContext());
      const got = await tree(out);
      if (JSON.stringify(got) === JSON.stringify(reference)) counts.identical++;
      else failures.push(`#${i} ${m.kind}: restored a different tree: ${got.filter((l) => !reference.includes(l)).join('; ')} instead of ${reference.filter((l) => !got.includes(l)).join('; ')}`);
    } catch (err) {
      if (err instanceof FatchartError && err.code !== 'internal') {
        counts.detected++;
        byCode[err.code] = (byCode[err.code] ?? 0) + 1;
      } else failures.push(`#${i} ${m.kind}: ${err instanceof FatchartError ? `internal: ${err.message}` : `crash: ${(err as Error)?.stack ?? String(err)}`}`);
    }
    await rm(out, { recursive: true, force: true });
    const left = await readdir(sandbox);
    if (left.length) failures.push(`#${i} ${m.kind}: left ${left.join(', ')} beside the target`);
    if (failures.length >= 10) break;
  }
  console.log(
    `fuzz (seed ${SEED}): ${ITERATIONS} mutants of a ${original.length}-byte bundle: ${counts.detected} detected (${Object.entries(byCode).map(([k, v]) => `${k} ${v}`).join(', ')}), ${counts.identical} restored identically, ${counts.unchanged} no-op mutations, ${failures.length} failures`,
  );
  expect(failures).toEqual([]);
  expect(counts.detected + counts.identical + counts.unchanged).toBe(ITERATIONS);
});
