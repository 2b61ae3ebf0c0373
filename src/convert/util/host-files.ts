import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The only window the converters have onto the host (bind-mounted files, secret and config
 * files). Injected so conversions stay testable and a bundle reader can stand in for the disk.
 */
export interface HostEntry {
  type: 'file' | 'dir' | 'other';
  size: number;
}

export interface HostFiles {
  stat(p: string): HostEntry | undefined;
  /** Names in a folder, sorted. */
  list(p: string): string[];
  read(p: string): Buffer;
}

export const diskFiles: HostFiles = {
  stat(p) {
    try {
      const s = statSync(p);
      return { type: s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other', size: s.size };
    } catch {
      return undefined;
    }
  },
  list: (p) => readdirSync(p).sort(),
  read: (p) => readFileSync(p),
};

/** Files directly in a folder (no subfolders), or undefined when it holds anything else. */
export function flatFiles(files: HostFiles, dir: string): Array<{ name: string; size: number }> | undefined {
  const out: Array<{ name: string; size: number }> = [];
  for (const name of files.list(dir)) {
    const st = files.stat(path.join(dir, name));
    if (st?.type !== 'file') return undefined;
    out.push({ name, size: st.size });
  }
  return out;
}

export const isUtf8Text = (b: Buffer): boolean => {
  const s = b.toString('utf8');
  return Buffer.from(s, 'utf8').equals(b) && !s.includes('\0');
};
