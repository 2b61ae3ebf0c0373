#!/usr/bin/env node
// fatchart benchmarks: pack, unpack and verify --deep against the standard tools on the same
// data, in one run, so the ratios compare like with like on this machine.
//
//   npm run bench                       # 1 GiB mixed + 100,000 small files
//   npm run bench -- --sizes 1,4        # also 4 GiB, to show peak memory stays flat
//   npm run bench -- --small 20000      # fewer small files
//
// Data sets are generated deterministically under bench/.data (kept between runs). Peak RSS is
// read from /proc/PID/status (VmHWM) of each command's process tree while it runs.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataRoot = join(root, 'bench', '.data');
const scratch = join(root, 'bench', '.scratch');
const cli = join(root, 'dist', 'cli', 'main.js');
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const sizesGiB = opt('sizes', '1').split(',').map(Number);
const smallFiles = Number(opt('small', '100000'));

// ---- deterministic data --------------------------------------------------------------------
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}
function randomBlock(n, seed) {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i += 4) b.writeUInt32LE(r(), i);
  return b;
}
const words = 'order invoice customer product price stock shipped pending warehouse refund total tax'.split(' ');
function textBlock(n, seed) {
  const r = prng(seed);
  let s = '';
  while (s.length < n) s += `${words[r() % words.length]} ${r() % 100000} ${words[r() % words.length]};\n`;
  return Buffer.from(s.slice(0, n));
}

const pvc = (name) => `apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: { name: ${name} }\nspec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 100Gi } } }\n`;

/** N GiB in 16 MiB files: alternately compressible text and incompressible random bytes. */
async function mixedSet(gib) {
  const app = join(dataRoot, `mixed-${gib}g`);
  const dir = join(app, 'data', 'vol');
  if (existsSync(join(app, '.complete'))) return app;
  await rm(app, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  await writeFile(join(app, 'pvc.yaml'), pvc('vol'));
  const fileSize = 16 << 20;
  const chunk = 1 << 20;
  const text = textBlock(chunk, 1);
  for (let f = 0; f < gib * 64; f++) {
    const h = await open(join(dir, `part-${String(f).padStart(4, '0')}.bin`), 'w');
    for (let off = 0; off < fileSize; off += chunk) await h.write(f % 2 === 0 ? text : randomBlock(chunk, f * 1000 + off / chunk), 0, chunk, off);
    await h.close();
  }
  await writeFile(join(app, '.complete'), '');
  return app;
}

/** Many small files (0.5–3.5 KiB of text) in 1,000 folders. */
async function smallSet(n) {
  const app = join(dataRoot, `small-${n}`);
  const dir = join(app, 'data', 'vol');
  if (existsSync(join(app, '.complete'))) return app;
  await rm(app, { recursive: true, force: true });
  await writeFile(join(await mkdir(app, { recursive: true }) ?? app, 'pvc.yaml'), pvc('vol')).catch(async () => {
    await mkdir(app, { recursive: true });
    await writeFile(join(app, 'pvc.yaml'), pvc('vol'));
  });
  const r = prng(7);
  const text = textBlock(4096, 2);
  for (let i = 0; i < n; i++) {
    const sub = join(dir, `d${String(i % 1000).padStart(3, '0')}`);
    if (i < 1000) await mkdir(sub, { recursive: true });
    const len = 512 + (r() % 3072);
    await writeFile(join(sub, `f${i}.txt`), text.subarray(0, len));
  }
  await writeFile(join(app, '.complete'), '');
  return app;
}

// ---- measuring -------------------------------------------------------------------------------
function treePids(pid) {
  const out = [pid];
  try {
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)) out.push(...treePids(Number(child)));
  } catch {}
  return out;
}
function hwm(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs a shell command; returns seconds and the largest single-process peak RSS seen. */
function measure(command) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const peaks = new Map();
    const poll = setInterval(() => {
      for (const pid of treePids(child.pid)) peaks.set(pid, Math.max(peaks.get(pid) ?? 0, hwm(pid)));
    }, 20);
    child.on('close', (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`${command} exited ${code}: ${err.slice(-500)}`));
      resolve({ seconds: (performance.now() - t0) / 1000, rss: Math.max(0, ...peaks.values()) });
    });
  });
}

const mb = (bytes, s) => (bytes / 1e6 / s).toFixed(0);
const fmtMiB = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const q = (p) => `'${p}'`;

async function dataBytes(app) {
  const { execFileSync } = await import('node:child_process');
  return Number(execFileSync('du', ['-sb', '--apparent-size', join(app, 'data')], { encoding: 'utf8' }).split('\t')[0]);
}

async function benchSet(label, app) {
  const data = join(app, 'data', 'vol');
  const bytes = await dataBytes(app);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  const s = (n) => join(scratch, n);
  const rows = [];
  const run = async (name, cmd, baseline) => {
    const r = await measure(cmd);
    rows.push({ name, ...r, baseline });
    return r;
  };
  // Warm the page cache once so every contender reads from memory alike.
  await measure(`tar -cf - -C ${q(data)} . > /dev/null`);
  const tz = await run('tar -cf - | zstd -T0 -3', `tar -cf - -C ${q(data)} . | zstd -q -T0 -3 -o ${q(s('base.tar.zst'))}`);
  const gz = await run('tar czf', `tar czf ${q(s('base.tgz'))} -C ${q(data)} .`);
  await run('fatchart pack', `node ${q(cli)} -q pack ${q(app)} -o ${q(s('b.fatchart'))} --created 0`, tz);
  rows.at(-1).vsGz = gz.seconds;
  await mkdir(s('base-x'));
  const tx = await run('zstd -d | tar -x', `zstd -q -dc ${q(s('base.tar.zst'))} | tar -x -C ${q(s('base-x'))}`);
  await run('fatchart unpack', `node ${q(cli)} -q unpack ${q(s('b.fatchart'))} --out ${q(s('unpacked'))}`, tx);
  const sh = await run('sha256sum (every file)', `cd ${q(data)} && find . -type f -print0 | xargs -0 -P1 sha256sum > /dev/null`);
  await run('fatchart verify --deep', `node ${q(cli)} -q verify --deep ${q(s('b.fatchart'))}`, sh);
  const bundleBytes = (await import('node:fs')).statSync(s('b.fatchart')).size;
  console.log(`\n${label}: ${fmtMiB(bytes)} of data, bundle ${fmtMiB(bundleBytes)} (${((100 * bundleBytes) / bytes).toFixed(1)} %)`);
  console.log('command                         seconds    MB/s   peak RSS   ratio to baseline');
  for (const r of rows) {
    const ratio = r.baseline ? `${(r.seconds / r.baseline.seconds).toFixed(2)}× of ${rows.find((x) => x === r.baseline || x.seconds === r.baseline.seconds).name}` : '(baseline)';
    const extra = r.vsGz ? `; ${(r.vsGz / r.seconds).toFixed(1)}× faster than tar czf` : '';
    console.log(`${r.name.padEnd(30)} ${r.seconds.toFixed(2).padStart(8)} ${mb(bytes, r.seconds).padStart(7)} ${fmtMiB(r.rss).padStart(10)}   ${ratio}${extra}`);
  }
  await rm(scratch, { recursive: true, force: true });
  return rows;
}

if (!existsSync(cli)) {
  console.error('run `npm run build` first (npm run bench does)');
  process.exit(1);
}
console.log(`fatchart bench on ${(await import('node:os')).availableParallelism()} cores, node ${process.version}`);
const results = {};
for (const g of sizesGiB) results[`mixed-${g}g`] = await benchSet(`${g} GiB mixed (half text, half random)`, await mixedSet(g));
if (smallFiles > 0) results[`small-${smallFiles}`] = await benchSet(`${smallFiles} small files`, await smallSet(smallFiles));
await mkdir(join(root, 'bench', 'results'), { recursive: true });
await writeFile(join(root, 'bench', 'results', 'latest.json'), JSON.stringify(results, null, 2));
