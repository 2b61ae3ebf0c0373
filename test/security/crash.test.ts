/**
 * Crash safety with real child processes killed by SIGKILL (which no handler can catch) at
 * random moments: `pack` never leaves a file at its output path unless that file is complete,
 * and `unpack --target manifests` leaves --out either as it was or complete.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
const KILLS = Number(process.env.FATCHART_CRASH_KILLS) || 10;
let work: string;
let app: string;
let temp: string;

/** Runs the CLI and SIGKILLs it after `ms`; resolves with how it ended. */
function runAndKill(args: string[], ms: number, env: Record<string, string> = {}): Promise<{ killed: boolean; code: number | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args, '-q'], { stdio: 'ignore', env: { ...process.env, FATCHART_TMPDIR: temp, ...env } });
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === 'SIGKILL', code });
    });
  });
}

function timed(args: string[], env: Record<string, string> = {}): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [cli, ...args, '-q'], { encoding: 'utf8', env: { ...process.env, FATCHART_TMPDIR: temp, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return performance.now() - t0;
}

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const p = join(dir, name);
    const st = await lstat(p);
    const what = st.isFile() ? createHash('sha256').update(await readFile(p)).digest('hex') : st.isSymbolicLink() ? `-> ${await readlink(p)}` : 'dir';
    out.push(`${relative(dir, p)} ${st.mode.toString(8)} ${what}`);
  }
  return out;
}

const exists = (p: string) => lstat(p).then(() => true, () => false);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fatchart-crash-'));
  temp = join(work, 'tmp');
  app = join(work, 'app');
  await mkdir(temp);
  await mkdir(join(app, 'data', 'blobs', 'deep'), { recursive: true });
  await writeFile(join(app, 'app.yaml'), 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: blobs }\nspec: { resources: { requests: { storage: 1Gi } } }\n');
  // Incompressible data, so pack and unpack each take long enough to be killed half-way.
  for (let i = 0; i < 12; i++) await writeFile(join(app, 'data', 'blobs', i % 2 ? 'deep' : '.', `blob-${i}.bin`), randomBytes(3 << 20));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('SIGKILL during pack', () => {
  it(`never leaves an incomplete file at the output path (${KILLS} kills at random moments)`, async () => {
    const full = timed(['pack', app, '-o', join(work, 'timing.fatchart')]);
    let complete = 0;
    for (let i = 0; i < KILLS; i++) {
      const out = join(work, `pack-${i}.fatchart`);
      const { killed } = await runAndKill(['pack', app, '-o', out], Math.random() * full * 1.1);
      if (await exists(out)) {
        // The rename is the last step: whatever is at the output path must verify completely.
        const v = spawnSync(process.execPath, [cli, 'verify', out, '--deep', '-q'], { encoding: 'utf8' });
        expect(v.status, `pack-${i} (killed: ${killed}): ${v.stderr}`).toBe(0);
        complete++;
      }
    }
    console.log(`pack: ${KILLS} SIGKILLs over a ${Math.round(full)} ms run: ${KILLS - complete} left no output, ${complete} had finished`);
  });

  it('with --encrypt, leaves no file at the output path but a complete age file, and stale temp folders are swept', async () => {
    const keygen = spawnSync(process.execPath, [cli, 'key', 'generate', join(work, 'crash'), '--age'], { encoding: 'utf8' });
    const recipient = /recipient (age1\S+)/.exec(keygen.stdout)![1]!;
    const full = timed(['pack', app, '-o', join(work, 'timing.fatchart.age'), '--encrypt', recipient]);
    for (let i = 0; i < Math.ceil(KILLS / 2); i++) {
      const out = join(work, `enc-${i}.fatchart.age`);
      await runAndKill(['pack', app, '-o', out, '--encrypt', recipient], Math.random() * full * 1.1);
      if (await exists(out)) {
        const v = spawnSync(process.execPath, [cli, 'verify', out, '--identity', join(work, 'crash.agekey'), '-q'], { encoding: 'utf8', env: { ...process.env, FATCHART_TMPDIR: temp } });
        expect(v.status, v.stderr).toBe(0);
      }
    }
    // A killed process cannot remove its private temp folder; the next run sweeps it.
    timed(['verify', join(work, 'timing.fatchart.age'), '--identity', join(work, 'crash.agekey')]);
    expect(await readdir(temp)).toEqual([]);
  });
});

describe('SIGKILL during unpack --target manifests', () => {
  it(`leaves --out as it was (absent or empty) or complete (${KILLS} kills at random moments)`, async () => {
    const bundle = join(work, 'source.fatchart');
    timed(['pack', app, '-o', bundle]);
    const full = timed(['unpack', bundle, '--out', join(work, 'reference')]);
    const reference = await tree(join(work, 'reference'));
    let complete = 0;
    for (let i = 0; i < KILLS; i++) {
      const out = join(work, `restore-${i}`);
      // Half the runs start from an existing empty folder: "as it was" is then that empty folder.
      const preexisting = i % 2 === 0;
      if (preexisting) await mkdir(out);
      await runAndKill(['unpack', bundle, '--out', out], Math.random() * full * 1.1);
      if (!(await exists(out))) continue;
      const got = await tree(out);
      if (got.length === 0) {
        expect(preexisting, `restore-${i}: an empty --out appeared that was not there before`).toBe(true);
        continue;
      }
      expect(got, `restore-${i}: --out holds a partial restore`).toEqual(reference);
      complete++;
    }
    console.log(`unpack: ${KILLS} SIGKILLs over a ${Math.round(full)} ms run: ${KILLS - complete} left --out as it was, ${complete} had finished`);
  });
});
