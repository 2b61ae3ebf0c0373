import type { IndexRecord } from '../../../bundle/volume-index.js';
import { moverMount } from './mover.js';

/**
 * Re-reading a restored volume INSIDE the mover and comparing it with the bundle's index. The
 * script needs only POSIX-ish tools every small image has (busybox, coreutils): `sha256sum` for
 * file digests, `stat -c '%f %i %u %g'` for type, permission bits, inode and owner, `readlink`
 * for symlink targets. Checked per index record: the entry exists with the same type, the same
 * permission bits (not for symlinks), the same numeric owner, the same digest (files), the same
 * target (symlinks), the same inode as its target (hard links); and nothing unexpected exists
 * besides a filesystem's own `lost+found`. Not checked: mtimes (tar sets them, but directory
 * times move while their content is written) and xattrs/ACLs (tar does not carry them).
 * A path containing a newline cannot be told apart in this line-based output: it fails the
 * check rather than pass unverified.
 */
export const untarResult = '/tmp/fatchart-untar.rc';
const untarErrors = '/tmp/fatchart-untar.err';

/** Extracts stdin into the claim and records tar's exit code for the verification step. */
export const restoreCommand = [
  'sh',
  '-c',
  `rm -f ${untarResult}; tar -x --numeric-owner -f - -C ${moverMount} 2>${untarErrors}; rc=$?; echo $rc > ${untarResult}; cat ${untarErrors} >&2; exit $rc`,
];

/** Waits for the extraction to finish (see execWithInput), then prints the three sections. */
export const verifyCommand = [
  'sh',
  '-c',
  [
    `i=0; while [ ! -s ${untarResult} ]; do i=$((i+1)); if [ $i -gt 3000 ]; then echo "tar -x did not finish within 10 minutes" >&2; exit 90; fi; sleep 0.2; done`,
    `rc=$(cat ${untarResult}); if [ "$rc" != 0 ]; then echo "tar -x exited with $rc: $(tail -n 3 ${untarErrors})" >&2; exit 91; fi`,
    `cd ${moverMount} || exit 92`,
    `echo '#sha'; find . -type f -exec sha256sum {} + || exit 93`,
    `echo '#stat'; find . -mindepth 1 -exec stat -c '%f %i %u %g|%n' {} + || exit 94`,
    `echo '#link'; find . -type l -exec sh -c 'for p; do printf "%s\\n%s\\n" "$p" "$(readlink "$p")"; done' sh {} + || exit 95`,
  ].join('\n'),
];

interface Live {
  mode: number;
  inode: string;
  uid: number;
  gid: number;
  sha256?: string;
  link?: string;
}

const S_IFMT = 0o170000;
const typeBits: Partial<Record<IndexRecord['type'], number>> = {
  file: 0o100000,
  hardlink: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  chardev: 0o020000,
  blockdev: 0o060000,
};

const strip = (p: string) => (p.startsWith('./') ? p.slice(2) : p);

export function parseVerifyOutput(text: string): Map<string, Live> {
  const live = new Map<string, Live>();
  let section = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('#')) {
      section = line;
      continue;
    }
    if (!line) continue;
    if (section === '#stat') {
      const bar = line.indexOf('|');
      const [hex, inode, uid, gid] = line.slice(0, bar).split(' ');
      const path = strip(line.slice(bar + 1));
      live.set(path, { ...live.get(path), mode: parseInt(hex, 16), inode, uid: Number(uid), gid: Number(gid) });
    }
  }
  section = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith('#')) {
      section = line;
      continue;
    }
    if (section === '#sha' && line) {
      const m = line.match(/^\\?([0-9a-f]{64}) [ *](.*)$/);
      const entry = m && live.get(strip(m[2]));
      if (entry) entry.sha256 = m[1];
    } else if (section === '#link' && line) {
      const entry = live.get(strip(line));
      if (entry) entry.link = lines[++i];
    }
  }
  return live;
}

/** Differences between the index and what the mover read back (empty = restored exactly). */
export function compareWithIndex(index: Iterable<IndexRecord>, live: Map<string, Live>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>(['.']);
  for (const rec of index) {
    seen.add(rec.path);
    if (rec.path === '.') continue;
    const got = live.get(rec.path);
    if (!got) {
      problems.push(`${rec.path}: missing`);
      continue;
    }
    const want = typeBits[rec.type];
    if (want !== undefined && (got.mode & S_IFMT) !== want) {
      problems.push(`${rec.path}: is not a ${rec.type} (mode ${(got.mode & S_IFMT).toString(8)})`);
      continue;
    }
    if (rec.type !== 'symlink' && rec.type !== 'hardlink' && (got.mode & 0o7777) !== rec.mode) {
      problems.push(`${rec.path}: mode ${(got.mode & 0o7777).toString(8)}, expected ${rec.mode.toString(8)}`);
    }
    if (rec.type !== 'hardlink' && (got.uid !== rec.uid || got.gid !== rec.gid)) {
      problems.push(`${rec.path}: owner ${got.uid}:${got.gid}, expected ${rec.uid}:${rec.gid}`);
    }
    if (rec.type === 'file' && got.sha256 !== rec.sha256) problems.push(`${rec.path}: sha256 ${got.sha256 ?? 'unreadable'}, expected ${rec.sha256}`);
    if (rec.type === 'symlink' && got.link !== rec.linkname) problems.push(`${rec.path}: points to ${got.link}, expected ${rec.linkname}`);
    if (rec.type === 'hardlink' && live.get(rec.linkname ?? '')?.inode !== got.inode) problems.push(`${rec.path}: is not a hard link of ${rec.linkname}`);
  }
  for (const path of live.keys()) {
    if (!seen.has(path) && path !== 'lost+found') problems.push(`${path}: not in the bundle`);
  }
  return problems;
}
