#!/usr/bin/env node
// Writes the example apps' volume data: examples/<app>/data/<claim>/.
//
// Git cannot carry what a real volume holds (empty folders, hard links, modes beyond the exec
// bit, mtimes, sparse files), so the data is generated here, deterministically: the same bytes,
// modes and mtimes on every machine. Existing data folders are left alone unless --force.
//
//   node examples/generate-data.mjs [--force]
import { existsSync } from 'node:fs';
import { chmod, link, lutimes, mkdir, open, rm, symlink, utimes, writeFile, readdir, lstat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const force = process.argv.includes('--force');
const MTIME = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;

/** mulberry32: a tiny seeded PRNG, so "random" binary content is the same everywhere. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomBytes(n, seed) {
  const r = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

/** 8 KiB pages like a database heap: a header, some tuples, mostly free space (compressible). */
function heapFile(pages, seed) {
  const r = prng(seed);
  const b = Buffer.alloc(pages * 8192);
  for (let p = 0; p < pages; p++) {
    const used = 512 + Math.floor(r() * 3000);
    randomBytes(used, seed * 1000 + p).copy(b, p * 8192 + 8192 - used);
    b.writeUInt32LE(p, p * 8192);
  }
  return b;
}

function sqlDump(rows, seed) {
  const r = prng(seed);
  const names = ['espresso', 'café crème', 'matcha', 'rooibos', 'chai', 'ginger beer', 'lemonade', 'kombucha'];
  const lines = ['-- shop database dump', 'BEGIN;', 'CREATE TABLE products (id int primary key, name text, price_cents int, stock int);'];
  for (let i = 1; i <= rows; i++) {
    lines.push(`INSERT INTO products VALUES (${i}, '${names[i % names.length]} #${i}', ${100 + Math.floor(r() * 900)}, ${Math.floor(r() * 50)});`);
  }
  lines.push('COMMIT;', '');
  return lines.join('\n');
}

/** Each entry: [path, spec]. Folders end with '/'. Order matters only for hard links. */
const apps = {
  shop: {
    'db-data': [
      ['pgdata/', { mode: 0o700 }],
      ['pgdata/PG_VERSION', { text: '16\n', mode: 0o600 }],
      ['pgdata/postgresql.conf', { text: "listen_addresses = '*'\nshared_buffers = 128MB\nwal_level = replica\n", mode: 0o600 }],
      ['pgdata/postmaster.opts', { text: '/usr/lib/postgresql/16/bin/postgres\n', mode: 0o600 }],
      ['pgdata/base/', { mode: 0o700 }],
      ['pgdata/base/1/', { mode: 0o700 }],
      ['pgdata/base/1/1259', { data: () => heapFile(96, 11), mode: 0o600 }],
      ['pgdata/base/16384/', { mode: 0o700 }],
      ['pgdata/base/16384/16385', { data: () => heapFile(160, 12), mode: 0o600 }],
      ['pgdata/base/16384/16385_fsm', { data: () => heapFile(3, 13), mode: 0o600 }],
      ['pgdata/pg_wal/', { mode: 0o700 }],
      ['pgdata/pg_wal/000000010000000000000001', { data: () => randomBytes(1 << 20, 14), mode: 0o600 }],
      ['pgdata/pg_tblspc/', { mode: 0o700 }],
      ['pgdata/pg_notify/', { mode: 0o700 }],
      ['pgdata/archive.sparse', { sparse: { size: 16 << 20, chunks: [[0, 4096], [8 << 20, 4096]] }, mode: 0o600 }],
      ['dumps/', { mode: 0o755 }],
      ['dumps/shop-2026-11-01.sql', { text: sqlDump(4000, 15), mode: 0o644 }],
      ['dumps/latest.sql', { symlink: 'shop-2026-11-01.sql' }],
    ],
    'web-assets': [
      ['index.html', { text: '<!doctype html>\n<title>Shop</title>\n<h1>Welcome to the shop</h1>\n<img src="img/logo.png">\n' }],
      ['products/', {}],
      ['products/café-crème.html', { text: '<h1>Café crème</h1><p>€3.20</p>\n' }],
      ['products/日本茶.html', { text: '<h1>日本茶</h1><p>¥480</p>\n' }],
      ['img/', {}],
      ['img/logo.png', { data: () => randomBytes(40_000, 21) }],
      ['img/banner.jpg', { data: () => randomBytes(600_000, 22) }],
      ['img/logo-copy.png', { hardlink: 'img/logo.png' }],
      ['current', { symlink: 'img' }],
      ['bin/', {}],
      ['bin/warm-cache.sh', { text: '#!/bin/sh\nfor p in /products/*; do wget -q -O /dev/null "http://localhost:8080$p"; done\n', mode: 0o755 }],
      ['uploads/', { mode: 0o1777 }],
      [`archive/${'seasonal-collection-'.repeat(4)}/${'autumn-winter-2026-'.repeat(4)}catalogue.txt`, { text: 'a path longer than the 100 bytes a plain tar header holds\n' }],
    ],
  },
  notes: {
    'notes-data': [
      ['README.md', { text: '# Team notes\n\nOne markdown file per topic.\n' }],
      ['ops/', {}],
      ['ops/on-call.md', { text: '# On call\n\n- check the dashboards\n- page the owner\n' }],
      ['ops/runbook-ünïcödé.md', { text: '# Runbook\n\nRestart with `fatchart unpack`.\n' }],
      ['attachments/', {}],
      ['attachments/diagram.bin', { data: () => randomBytes(300_000, 31) }],
      ['.trash/', {}],
    ],
  },
};

async function writeSparse(path, { size, chunks }, seed) {
  const h = await open(path, 'w');
  try {
    for (const [at, len] of chunks) await h.write(randomBytes(len, seed + at), 0, len, at);
    await h.truncate(size);
  } finally {
    await h.close();
  }
}

/** Folder mtimes last and deepest first, since writing into a folder changes its mtime. */
async function stampTimes(root) {
  const walk = async (dir) => {
    for (const name of await readdir(dir)) {
      const p = join(dir, name);
      const st = await lstat(p);
      if (st.isDirectory()) await walk(p);
      if (st.isSymbolicLink()) await lutimes(p, MTIME, MTIME);
      else await utimes(p, MTIME, MTIME);
    }
  };
  await walk(root);
  await utimes(root, MTIME, MTIME);
}

let seed = 100;
for (const [app, claims] of Object.entries(apps)) {
  for (const [claim, entries] of Object.entries(claims)) {
    const root = join(here, app, 'data', claim);
    if (existsSync(root) && !force) continue;
    await rm(root, { recursive: true, force: true });
    await mkdir(root, { recursive: true });
    await chmod(root, 0o755);
    for (const [rel, spec] of entries) {
      const p = join(root, rel);
      await mkdir(dirname(p), { recursive: true });
      if (rel.endsWith('/')) await mkdir(p, { recursive: true });
      else if (spec.symlink) await symlink(spec.symlink, p);
      else if (spec.hardlink) await link(join(root, spec.hardlink), p);
      else if (spec.sparse) await writeSparse(p, spec.sparse, seed++);
      else await writeFile(p, spec.text ?? spec.data());
      if (spec.mode !== undefined) await chmod(p, spec.mode);
      else if (!spec.symlink && !spec.hardlink) await chmod(p, rel.endsWith('/') ? 0o755 : 0o644);
    }
    await stampTimes(root);
    console.error(`generated examples/${app}/data/${claim}`);
  }
}
