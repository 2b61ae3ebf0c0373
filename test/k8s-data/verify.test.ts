import { describe, expect, it } from 'vitest';
import { compareWithIndex, parseVerifyOutput } from '../../src/platforms/k8s/data/verify.js';
import type { IndexRecord } from '../../src/bundle/volume-index.js';

/** Output of the in-pod verification script, as busybox prints it for a small tree. */
const output = [
  '#sha',
  `${'a'.repeat(64)}  ./f.txt`,
  `${'a'.repeat(64)}  ./hard`,
  `${'b'.repeat(64)}  ./dir/ü x|y.bin`,
  '#stat',
  '81a4 11 0 0|./f.txt',
  '81a4 11 0 0|./hard',
  '41ed 12 0 0|./dir',
  '81ed 13 1000 1000|./dir/ü x|y.bin',
  'a1ff 14 0 0|./link',
  '#link',
  './link',
  'f.txt',
  '',
].join('\n');

const rec = (r: Partial<IndexRecord> & Pick<IndexRecord, 'path' | 'type'>): IndexRecord => ({ size: 0, mode: 0o644, mtime: 0, uid: 0, gid: 0, ...r });
const index = [
  rec({ path: '.', type: 'dir', mode: 0o755 }),
  rec({ path: 'f.txt', type: 'file', sha256: 'a'.repeat(64) }),
  rec({ path: 'hard', type: 'hardlink', linkname: 'f.txt' }),
  rec({ path: 'dir', type: 'dir', mode: 0o755 }),
  rec({ path: 'dir/ü x|y.bin', type: 'file', mode: 0o755, uid: 1000, gid: 1000, sha256: 'b'.repeat(64) }),
  rec({ path: 'link', type: 'symlink', mode: 0o777, linkname: 'f.txt' }),
];

describe('in-pod verification of a restored volume', () => {
  it('accepts a volume equal to the index (names with spaces, bars and unicode; hard links by inode)', () => {
    expect(compareWithIndex(index, parseVerifyOutput(output))).toEqual([]);
  });

  it('names every kind of difference', () => {
    const changed = output
      .replace(`${'b'.repeat(64)}  ./dir`, `${'c'.repeat(64)}  ./dir`)
      .replace('81a4 11 0 0|./hard', '81a4 99 0 0|./hard')
      .replace('41ed 12 0 0|./dir', '41c0 12 0 0|./dir')
      .replace('81ed 13 1000 1000', '81ed 13 0 0')
      .replace('./link\nf.txt', './link\nelsewhere')
      .replace('#link', 'a1ff 15 0 0|./extra\n#link');
    expect(compareWithIndex(index, parseVerifyOutput(changed))).toEqual([
      'hard: is not a hard link of f.txt',
      'dir: mode 700, expected 755',
      'dir/ü x|y.bin: owner 0:0, expected 1000:1000',
      `dir/ü x|y.bin: sha256 ${'c'.repeat(64)}, expected ${'b'.repeat(64)}`,
      'link: points to elsewhere, expected f.txt',
      'extra: not in the bundle',
    ]);
  });

  it('reports what is missing or of another type', () => {
    const live = parseVerifyOutput(output.replace('81a4 11 0 0|./f.txt\n', '').replace('41ed 12 0 0|./dir', '81a4 12 0 0|./dir'));
    expect(compareWithIndex(index, live)).toEqual(['f.txt: missing', 'hard: is not a hard link of f.txt', 'dir: is not a dir (mode 100000)']);
  });
});
