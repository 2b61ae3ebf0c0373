import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pack } from '../../src/actions/pack.js';
import { compareTrees } from '../../src/actions/roundtrip.js';
import { quietContext } from '../../src/util/context.js';
import { ensureExampleData, examplesDir } from '../support/examples.js';
import { commandProbe, needs } from '../support/require.js';

/** The format promise: standard tools read a fat chart without fatchart (docs/FORMAT.md). */
let work: string;
let bundle: string;
let ready = false;

beforeAll(async () => {
  ready = await needs('standard-tool cross-checks', commandProbe('tar'), commandProbe('zstd'), commandProbe('sha256sum'));
  ensureExampleData();
  work = await mkdtemp(join(tmpdir(), 'fatchart-tools-'));
  bundle = join(work, 'shop.fatchart');
  await pack({ source: 'manifests', location: join(examplesDir, 'shop'), out: bundle, created: new Date(0) }, quietContext());
});
afterAll(() => rm(work, { recursive: true, force: true }));

const sh = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8' });

describe('GNU tar, zstd and sha256sum', () => {
  it('tar -tf lists the manifest first and the trailer last', (ctx) => {
    if (!ready) ctx.skip();
    const names = sh('tar', ['-tf', bundle], work).trim().split('\n');
    expect(names[0]).toBe('fatchart.json');
    expect(names.at(-1)).toBe('fatchart.sha256');
    expect(names).toContain('chart/Chart.yaml');
  });

  it('after tar -xf, sha256sum -c checks every entry against the trailer', (ctx) => {
    if (!ready) ctx.skip();
    const x = join(work, 'x');
    execFileSync('mkdir', ['-p', x]);
    sh('tar', ['-xf', bundle], x);
    const out = sh('sha256sum', ['-c', 'fatchart.sha256'], x);
    expect(out.trim().split('\n').every((l) => l.endsWith(': OK'))).toBe(true);
  });

  it('zstd -d | tar -x of a volume entry gives the volume files, equal to the source', async (ctx) => {
    if (!ready) ctx.skip();
    const x = join(work, 'x2');
    const data = join(work, 'web-assets');
    execFileSync('mkdir', ['-p', x, data]);
    sh('tar', ['-xf', bundle, 'volumes/web-assets.tar.zst'], x);
    execFileSync('sh', ['-c', `zstd -dc '${x}/volumes/web-assets.tar.zst' | tar -x -C '${data}' --numeric-owner`]);
    expect(await compareTrees(join(examplesDir, 'shop', 'data', 'web-assets'), data, 'web-assets')).toBeUndefined();
  });

  it('the chart is a plain Helm v2 chart', async (ctx) => {
    if (!ready) ctx.skip();
    const x = join(work, 'x3');
    execFileSync('mkdir', ['-p', x]);
    sh('tar', ['-xf', bundle, 'chart'], x);
    const chart = await readFile(join(x, 'chart', 'Chart.yaml'), 'utf8');
    expect(chart).toMatch(/^apiVersion: v2$/m);
    expect(chart).toMatch(/^name: shop$/m);
    const ingress = await readFile(join(x, 'chart', 'templates', '0010-ingress-web.yaml'), 'utf8');
    // A literal {{ in an object is escaped so Helm renders it back verbatim.
    expect(ingress).toContain('the {{ "{{" }} braces }} here');
    expect(ingress).not.toMatch(/namespace:/);
  });
});
