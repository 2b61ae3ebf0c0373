/**
 * Builds hostile fat charts from a valid one. A bundle is taken apart into its entries, changed,
 * and put back together with every checksum recomputed ("resealed"), so each attack reaches
 * the check it targets instead of tripping over a stale digest first.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Header } from 'tar';
import { compress } from 'zstd-napi';
import { pack } from '../../src/actions/pack.js';
import type { Manifest, EntryRef } from '../../src/bundle/manifest.js';
import { readTar } from '../../src/bundle/tar-read.js';
import { indexTar, serializeRecord, type IndexRecord } from '../../src/bundle/volume-index.js';
import type { Signer } from '../../src/bundle/writer.js';
import { quietContext } from '../../src/util/context.js';

export const BLOCK = 512;
const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export interface Member {
  path: string;
  /** node-tar type names: File, Directory, SymbolicLink, Link, CharacterDevice, FIFO, … */
  type?: string;
  body?: Buffer | string;
  mode?: number;
  linkpath?: string;
  /** Declared size when it must differ from the body (an oversized manifest is declared, not written). */
  size?: number;
}

/** One tar header block (plus a pax header when the name is long), any type node-tar can encode. */
export function header(m: Member): Buffer {
  const size = m.size ?? (m.body === undefined ? 0 : Buffer.byteLength(m.body));
  const block = Buffer.alloc(BLOCK);
  const h = new Header({
    path: m.path, type: (m.type ?? 'File') as never, size, mode: m.mode ?? 0o644, mtime: new Date(1_700_000_000_000),
    uid: 0, gid: 0, uname: '', gname: '', linkpath: m.linkpath ?? '',
  } as never);
  if (h.encode(block)) {
    // Name too long for ustar: a pax record carries it (what GNU tar and node-tar write).
    const rec = (k: string, v: string) => {
      const body = ` ${k}=${v}\n`;
      let len = Buffer.byteLength(body);
      while (String(len).length + Buffer.byteLength(body) !== len) len = String(len).length + Buffer.byteLength(body);
      return `${len}${body}`;
    };
    const paxBody = Buffer.from(rec('path', m.path) + (m.linkpath ? rec('linkpath', m.linkpath) : ''));
    const paxHead = Buffer.alloc(BLOCK);
    new Header({ path: 'PaxHeader', type: 'ExtendedHeader' as never, size: paxBody.length, mode: 0o644, mtime: new Date(1_700_000_000_000), uid: 0, gid: 0 } as never).encode(paxHead);
    return Buffer.concat([paxHead, paxBody, pad(paxBody.length), block]);
  }
  return block;
}

export function tarOf(members: Member[], end = true): Buffer {
  const parts: Buffer[] = [];
  for (const m of members) {
    parts.push(header(m));
    if (m.body !== undefined && (m.type ?? 'File') === 'File') {
      const b = Buffer.from(m.body);
      parts.push(b, pad(b.length));
    }
  }
  if (end) parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export interface Entry {
  name: string;
  body: Buffer;
  type?: string;
  linkpath?: string;
}

export async function entriesOf(path: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for await (const e of readTar(Readable.from([await readFile(path)]))) {
    const chunks: Buffer[] = [];
    for await (const c of e.body) chunks.push(c);
    out.push({ name: e.path, body: Buffer.concat(chunks) });
  }
  return out;
}

export const manifestOf = (entries: Entry[]): Manifest => JSON.parse(entries.find((e) => e.name === 'fatchart.json')!.body.toString('utf8')) as Manifest;

function refsOf(m: Manifest): EntryRef[] {
  return [...m.chart.files, ...m.objects, ...m.originals, ...m.volumes.flatMap((v) => [v, v.index]), ...m.checkpoints, ...m.images.entries];
}

export interface SealOptions {
  /** Change the manifest after the refs are recomputed (schema attacks, version, stats). */
  editManifest?: (m: Manifest) => void;
  /** Keep the manifest's refs as they are (inventory attacks). */
  keepRefs?: boolean;
  signer?: Signer;
  /** Raw signature entry to append instead of signing (grafts, wrong sizes). */
  signature?: Buffer;
}

/**
 * Reassembles a bundle: manifest refs and trailer recomputed from the entries' bodies, the
 * trailer appended, and a signature when asked. Entries keep the order given.
 */
export function seal(entries: Entry[], options: SealOptions = {}): Buffer {
  const body = entries.filter((e) => e.name !== 'fatchart.sha256' && e.name !== 'fatchart.sig');
  const manifestEntry = body.find((e) => e.name === 'fatchart.json');
  if (manifestEntry) {
    const m = JSON.parse(manifestEntry.body.toString('utf8')) as Manifest;
    if (!options.keepRefs) {
      for (const r of refsOf(m)) {
        const e = body.find((x) => x.name === r.entry);
        if (e) Object.assign(r, { size: e.body.length, sha256: sha(e.body) });
      }
    }
    if (options.signer) m.signature = { algorithm: 'ed25519', keyId: options.signer.keyId };
    options.editManifest?.(m);
    manifestEntry.body = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
  }
  const trailer = body.map((e) => `${sha(e.body)}  ${e.name}\n`).join('');
  const all: Member[] = body.map((e) => ({ path: e.name, body: e.body, type: e.type, linkpath: e.linkpath }));
  all.push({ path: 'fatchart.sha256', body: trailer });
  const identity = `sha256:${sha(trailer)}`;
  if (options.signer) all.push({ path: 'fatchart.sig', body: options.signer.sign(identity) });
  else if (options.signature) all.push({ path: 'fatchart.sig', body: options.signature });
  return tarOf(all);
}

/** A volume's data and index entries from member specs, and the stats to declare for it. */
export async function volumeEntries(members: Member[], editIndex?: (recs: IndexRecord[]) => IndexRecord[]): Promise<{ data: Buffer; index: Buffer; records: IndexRecord[] }> {
  const tar = tarOf(members);
  let records: IndexRecord[] = [];
  await indexTar(Readable.from([tar]), (r) => void records.push(r));
  if (editIndex) records = editIndex(records);
  return { data: compress(tar), index: Buffer.from(records.map(serializeRecord).join('')), records };
}

/** Replaces volume `name`'s data and index in `entries`, and its stats in the manifest. */
export async function withVolume(entries: Entry[], name: string, members: Member[], editIndex?: (recs: IndexRecord[]) => IndexRecord[]): Promise<Entry[]> {
  const { data, index, records } = await volumeEntries(members, editIndex);
  const out = entries.map((e) => ({ ...e }));
  out.find((e) => e.name === `volumes/${name}.tar.zst`)!.body = data;
  out.find((e) => e.name === `volumes/${name}.index.jsonl`)!.body = index;
  const me = out.find((e) => e.name === 'fatchart.json')!;
  const m = JSON.parse(me.body.toString('utf8')) as Manifest;
  const v = m.volumes.find((x) => x.name === name)!;
  v.stats = { files: 0, dirs: 0, symlinks: 0, hardlinks: 0, special: 0, dataBytes: 0 };
  for (const r of records) {
    if (r.type === 'file') { v.stats.files++; v.stats.dataBytes += r.size; }
    else if (r.type === 'dir') v.stats.dirs++;
    else if (r.type === 'symlink') v.stats.symlinks++;
    else if (r.type === 'hardlink') v.stats.hardlinks++;
    else v.stats.special++;
  }
  m.plan.dataBytes = m.volumes.reduce((n, x) => n + x.stats.dataBytes, 0);
  m.plan.files = m.volumes.reduce((n, x) => n + x.stats.files, 0);
  me.body = Buffer.from(`${JSON.stringify(m, null, 2)}\n`);
  return out;
}

/**
 * A small app folder (Secret, ConfigMap, a claim with a few files) packed into `dir/base.fatchart`:
 * the valid bundle every attack starts from.
 */
export async function baseBundle(dir: string, signer?: Signer): Promise<string> {
  const app = join(dir, 'app');
  await mkdir(join(app, 'data', 'files', 'sub'), { recursive: true });
  await writeFile(join(app, 'app.yaml'), `apiVersion: v1
kind: Secret
metadata: { name: creds }
stringData: { password: hunter2 }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: config }
data: { mode: test }
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: files }
spec: { accessModes: [ReadWriteOnce], resources: { requests: { storage: 1Gi } } }
`);
  await writeFile(join(app, 'data', 'files', 'hello.txt'), 'hello\n');
  await writeFile(join(app, 'data', 'files', 'sub', 'blob.bin'), Buffer.alloc(20_000, 7));
  await writeFile(join(app, 'data', 'files', 'sub', 'notes.md'), '# notes\n'.repeat(200));
  const out = join(dir, signer ? 'base-signed.fatchart' : 'base.fatchart');
  await pack({ source: 'manifests', location: app, out, appName: 'sec', created: new Date(1_700_000_000_000), signer }, quietContext());
  return out;
}
