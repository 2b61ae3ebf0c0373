/**
 * Provenance and confidentiality through the real CLI: Ed25519 keys and signatures, and age
 * encryption interoperating both ways with Debian's `age` binary.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandProbe, needs } from '../support/require.js';
import { baseBundle } from './craft.js';
import { encryptFile } from '../../src/security/age.js';
import { quietContext } from '../../src/util/context.js';

const cli = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
let work: string;
let app: string;
let temp: string;
const CREATED = '2026-01-01T00:00:00Z';

function fatchart(args: string[], env: Record<string, string> = {}, input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, FATCHART_TMPDIR: temp, ...env }, input, timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const identityIn = (text: string) => /identity (sha256:[0-9a-f]{64})/.exec(text)?.[1];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fatchart-trust-'));
  temp = join(work, 'tmp');
  await (await import('node:fs/promises')).mkdir(temp);
  await baseBundle(work);
  app = join(work, 'app');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('signing keys', () => {
  it('key generate writes a private PEM (0600) and a public PEM, prints the key id, never overwrites', async () => {
    const r = fatchart(['key', 'generate', join(work, 'k1')]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/key id [0-9a-f]{16}\n/);
    expect((await stat(join(work, 'k1.key'))).mode & 0o777).toBe(0o600);
    expect(await readFile(join(work, 'k1.key'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await readFile(join(work, 'k1.pub'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const again = fatchart(['key', 'generate', join(work, 'k1')]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/k1\.key: key file exists already/);
  });

  it('the key id is the first 16 hex of sha256 over the raw public key (checked with openssl)', async (ctx) => {
    if (!(await needs('openssl key id', commandProbe('openssl', ['version'])))) return ctx.skip();
    const id = /key id ([0-9a-f]{16})/.exec(fatchart(['key', 'generate', join(work, 'k2')]).out)![1];
    const der = execFileSync('openssl', ['pkey', '-pubin', '-in', join(work, 'k2.pub'), '-outform', 'DER']);
    const raw = der.subarray(der.length - 32);
    expect((await import('node:crypto')).createHash('sha256').update(raw).digest('hex').slice(0, 16)).toBe(id);
  });
});

describe('signatures', () => {
  let signed: string;
  let keyId: string;
  beforeAll(() => {
    keyId = /key id ([0-9a-f]{16})/.exec(fatchart(['key', 'generate', join(work, 'signer')]).out)![1]!;
    fatchart(['key', 'generate', join(work, 'stranger')]);
    signed = join(work, 'signed.fatchart');
    const r = fatchart(['pack', app, '-o', signed, '--sign', join(work, 'signer.key'), '--created', CREATED, '-q']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`signed by ${keyId}`);
  });

  it('verify --key states intact, the signer, the format version and what was checked', () => {
    const r = fatchart(['verify', signed, '--key', join(work, 'signer.pub'), '--deep', '-q']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${signed}: intact`);
    expect(r.out).toContain(`signed by ${keyId} (verified)`);
    expect(r.out).toMatch(/format 1\.\d+/);
    expect(r.out).toContain(`checked: Ed25519 signature over the trailer by trusted key ${keyId}`);
    expect(r.out).toMatch(/checked: every file of 1 volume/);
  });

  it('verify without a key says the signature was not checked', () => {
    const r = fatchart(['verify', signed, '-q']);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`signed by ${keyId} (NOT checked: pass --key PUB)`);
  });

  it('a tampered signed bundle fails verify --key and unpack --key with exit 2', async () => {
    const bytes = await readFile(signed);
    const at = bytes.indexOf('mode: test');
    expect(at).toBeGreaterThan(0);
    bytes.write('mode: evil', at);
    const tampered = join(work, 'tampered.fatchart');
    await writeFile(tampered, bytes);
    const v = fatchart(['verify', tampered, '--key', join(work, 'signer.pub'), '-q']);
    expect(v.code).toBe(2);
    expect(v.err).toMatch(/checksum mismatch/);
    const u = fatchart(['unpack', tampered, '--key', join(work, 'signer.pub'), '--out', join(work, 'never'), '-q']);
    expect(u.code).toBe(2);
    expect((await readdir(work)).includes('never')).toBe(false);
  });

  it('--require-signature takes trusted keys from FATCHART_TRUSTED_KEYS and refuses other signers', () => {
    const ok = fatchart(['unpack', signed, '--require-signature', '--out', join(work, 'restored-signed'), '-q'], { FATCHART_TRUSTED_KEYS: join(work, 'signer.pub') });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toContain(`(signed by ${keyId})`);
    const wrong = fatchart(['verify', signed, '--require-signature', '-q'], { FATCHART_TRUSTED_KEYS: join(work, 'stranger.pub') });
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/not a trusted key/);
    const none = fatchart(['verify', signed, '--require-signature', '-q'], { FATCHART_TRUSTED_KEYS: '' });
    expect(none.code).toBe(1);
    expect(none.err).toMatch(/--require-signature needs the signer's public key/);
  });
});

describe('age encryption', () => {
  let plain: string;
  let identity: string;
  let recipient: string;
  let ageOk = false;
  beforeAll(async () => {
    plain = join(work, 'plain.fatchart');
    const packed = fatchart(['pack', app, '-o', plain, '--created', CREATED, '-q']);
    expect(packed.code).toBe(0);
    // The app holds a Secret: packing it unencrypted warns; encrypted (below), it does not.
    expect(packed.err).toMatch(/holds Secrets in clear text/);
    ageOk = await needs('age interoperability', commandProbe('age', ['--version']), commandProbe('age-keygen', ['--version']));
    identity = join(work, 'id.agekey');
    if (ageOk) {
      execFileSync('age-keygen', ['-o', identity], { stdio: 'ignore' });
    } else {
      fatchart(['key', 'generate', join(work, 'id'), '--age']);
    }
    recipient = /public key: (age1[0-9a-z]+)/.exec(await readFile(identity, 'utf8'))![1]!;
  });

  it('the age binary decrypts what fatchart encrypts: the plaintext is the same fat chart', async (ctx) => {
    if (!ageOk) return ctx.skip();
    const enc = join(work, 'shop.fatchart.age');
    const r = fatchart(['pack', app, '-o', enc, '--encrypt', recipient, '--created', CREATED]);
    expect(r.code, r.err).toBe(0);
    // Encrypted, the Secrets are not readable in the archive: no clear-text warning.
    expect(r.err).not.toMatch(/Secrets in clear text/);
    expect((await readFile(enc)).subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    expect((await readFile(enc)).includes('hunter2')).toBe(false);
    const out = join(work, 'by-age.fatchart');
    execFileSync('age', ['-d', '-i', identity, '-o', out, enc]);
    expect(await readFile(out)).toEqual(await readFile(plain));
    expect(identityIn(r.out)).toBe(identityIn(fatchart(['verify', out, '-q']).out));
  });

  it('fatchart reads what the age binary encrypted: verify --deep and unpack', async (ctx) => {
    if (!ageOk) return ctx.skip();
    const enc = join(work, 'from-age.fatchart.age');
    execFileSync('age', ['-e', '-r', recipient, '-o', enc, plain]);
    const v = fatchart(['verify', enc, '--identity', identity, '--deep', '-q']);
    expect(v.code, v.err).toBe(0);
    expect(v.out).toContain('encrypted (age)');
    expect(v.out).toContain('checked: age decryption and authentication of the whole archive');
    const u = fatchart(['unpack', enc, '--identity', identity, '--out', join(work, 'restored-age'), '-q']);
    expect(u.code, u.err).toBe(0);
    expect(await readFile(join(work, 'restored-age', 'data', 'files', 'hello.txt'), 'utf8')).toBe('hello\n');
    expect(await readdir(temp)).toEqual([]);
  });

  it('a passphrase round-trips (FATCHART_PASSPHRASE or stdin), and a wrong one is refused', async () => {
    const enc = join(work, 'pass.fatchart.age');
    expect(fatchart(['pack', app, '-o', enc, '--passphrase', '-q'], {}, 'correct horse battery staple\n').code).toBe(0);
    const ok = fatchart(['verify', enc, '--passphrase', '-q'], { FATCHART_PASSPHRASE: 'correct horse battery staple' });
    expect(ok.code, ok.err).toBe(0);
    const bad = fatchart(['verify', enc, '--passphrase', '-q'], { FATCHART_PASSPHRASE: 'wrong' });
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/none of the given keys \(or the passphrase\) opens this archive/);
    expect(await readdir(temp)).toEqual([]);
  });

  it('passphrase files interoperate with the age binary both ways (age -p reads a terminal: run under script)', async (ctx) => {
    if (!ageOk || !(await needs('a pseudo-terminal for age -p', commandProbe('script', ['--version'])))) return ctx.skip();
    const pass = 'tr0ub4dor&3';
    // age prompts on /dev/tty; `script` gives it one and forwards the (delayed) stdin lines to it.
    const ageTty = (cmd: string, lines: number) =>
      execFileSync('sh', ['-c', `(${Array.from({ length: lines }, () => `sleep 1; echo '${pass}'`).join('; ')}) | script -qec "${cmd}" /dev/null`], { stdio: 'ignore', timeout: 60_000 });
    const ours = join(work, 'pp-ours.fatchart.age');
    expect(fatchart(['pack', app, '-o', ours, '--passphrase', '--created', CREATED, '-q'], { FATCHART_PASSPHRASE: pass }).code).toBe(0);
    ageTty(`age -d -o ${join(work, 'pp-ours.fatchart')} ${ours}`, 1);
    expect(await readFile(join(work, 'pp-ours.fatchart'))).toEqual(await readFile(plain));
    const theirs = join(work, 'pp-theirs.fatchart.age');
    ageTty(`age -p -o ${theirs} ${plain}`, 2);
    const v = fatchart(['verify', theirs, '--passphrase', '-q'], { FATCHART_PASSPHRASE: pass });
    expect(v.code, v.err).toBe(0);
    expect(v.out).toContain('encrypted (age)');
  });

  it('refuses a tampered, truncated or armored age file, and an encrypted one without keys', async (ctx) => {
    const enc = join(work, 'victim.fatchart.age');
    expect(fatchart(['pack', app, '-o', enc, '--encrypt', recipient, '-q']).code).toBe(0);
    const bytes = await readFile(enc);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5000]! ^= 0x01;
    await writeFile(join(work, 'flipped.age'), flipped);
    const f = fatchart(['verify', join(work, 'flipped.age'), '--identity', identity, '-q']);
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/age payload fails authentication/);
    await writeFile(join(work, 'short.age'), bytes.subarray(0, bytes.length - 70_000));
    const t = fatchart(['verify', join(work, 'short.age'), '--identity', identity, '-q']);
    expect(t.code).toBe(2);
    const n = fatchart(['verify', enc, '-q']);
    expect(n.code).toBe(1);
    expect(n.err).toMatch(/the archive is age-encrypted: give --identity FILE or --passphrase/);
    expect(await readdir(temp)).toEqual([]);
    if (!ageOk) return ctx.skip();
    execFileSync('age', ['-e', '-a', '-r', recipient, '-o', join(work, 'armored.age'), plain]);
    const a = fatchart(['verify', join(work, 'armored.age'), '--identity', identity, '-q']);
    expect(a.code).toBe(4);
    expect(a.err).toMatch(/ASCII-armored age files are not read/);
  });

  it('a corrupt archive inside a valid age file is refused naming the .age file, not a temp path', async () => {
    const bytes = await readFile(plain);
    bytes.write('mode: evil', bytes.indexOf('mode: test'));
    await writeFile(join(work, 'inner-corrupt.fatchart'), bytes);
    const enc = join(work, 'inner-corrupt.fatchart.age');
    await encryptFile(join(work, 'inner-corrupt.fatchart'), enc, { recipients: [recipient] }, quietContext());
    const r = fatchart(['unpack', enc, '--identity', identity, '--out', join(work, 'never-restored'), '-q']);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${enc} (decrypted):chart/templates/`);
    expect(r.err).not.toContain(temp);
    expect(await readdir(temp)).toEqual([]);
  });

  it('--encrypt takes a recipients file (one a line, # comments), like age -R', async (ctx) => {
    if (!ageOk) return ctx.skip();
    await writeFile(join(work, 'recipients.txt'), `# site B\n${recipient}\n`);
    const enc = join(work, 'by-file.fatchart.age');
    expect(fatchart(['pack', app, '-o', enc, '--encrypt', join(work, 'recipients.txt'), '--created', CREATED, '-q']).code).toBe(0);
    expect(execFileSync('age', ['-d', '-i', identity, enc])).toEqual(await readFile(plain));
  });

  it('refuses to decrypt beyond the temp-space cap or without a usable temp folder, leaving nothing', async () => {
    const enc = join(work, 'big.fatchart.age');
    expect(fatchart(['pack', app, '-o', enc, '--encrypt', recipient, '-q']).code).toBe(0);
    const capped = fatchart(['verify', enc, '--identity', identity, '-q'], { FATCHART_TEMP_LIMIT: '4096' });
    expect(capped.code).toBe(3);
    expect(capped.err).toMatch(/decrypting needs \d+ bytes of temp space; FATCHART_TEMP_LIMIT allows 4096/);
    expect(await readdir(temp)).toEqual([]);
    const missing = fatchart(['verify', enc, '--identity', identity, '-q'], { FATCHART_TMPDIR: join(work, 'no-such-dir') });
    expect(missing.code).toBe(3);
    expect(missing.err).toMatch(/cannot make a private temp folder/);
  });
});
