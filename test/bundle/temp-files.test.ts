import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliPath, runCli } from '../support/cli.js';

/** A pack killed with SIGKILL leaves no output, and its temp file is swept by the next pack. */
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fatchart-temps-'));
  const app = join(work, 'app');
  await mkdir(join(app, 'data', 'big'), { recursive: true });
  await writeFile(join(app, 'pvc.yaml'), 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: big }\nspec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }\n');
  // Slow enough to kill mid-way: 256 MiB of zeros still has to be read and hashed.
  const h = await open(join(app, 'data', 'big', 'zeros'), 'w');
  await h.truncate(256 * 1024 ** 2);
  await h.close();
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('temp files of killed packs', () => {
  it('never appear at the output path and are removed by the next pack', async () => {
    const out = join(work, 'app.fatchart');
    const child = spawn(process.execPath, [cliPath, '-q', 'pack', join(work, 'app'), '-o', out], { stdio: 'ignore' });
    let temps: string[] = [];
    for (let i = 0; i < 400 && temps.length === 0; i++) {
      await sleep(25);
      temps = (await readdir(work)).filter((n) => n.startsWith('.app.fatchart.tmp-'));
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.on('close', r));
    expect(temps.length).toBeGreaterThan(0);
    expect(existsSync(out)).toBe(false);

    expect((await runCli(['-q', 'pack', join(work, 'app'), '-o', out])).code).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect((await readdir(work)).filter((n) => n.includes('.tmp-'))).toEqual([]);
  });
});
