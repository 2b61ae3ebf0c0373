import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { homedir } from 'node:os';
import { FatchartError } from '../../errors.js';
import type { KubeObject } from '../../model/object.js';

/**
 * The transaction journal of an unpack onto a cluster: one JSON record per line, appended and
 * fsync'ed BEFORE the change it describes is sent. Whoever finds the file — the failing unpack
 * itself, or `fatchart rollback JOURNAL` after a crash — can undo every change in reverse order:
 * delete what was created, put back what was changed. Undone steps are journaled too, so a
 * rollback that is itself interrupted resumes where it stopped.
 */
export interface ObjectAddress {
  apiVersion: string;
  kind: string;
  /** Plural resource name, so a rollback needs no discovery. */
  resource: string;
  namespaced: boolean;
  namespace?: string;
  name: string;
}

export type JournalRecord =
  | { seq: number; type: 'begin'; time: string; server: string; context: string; namespace: string; bundle?: string }
  | { seq: number; type: 'create'; target: ObjectAddress }
  | { seq: number; type: 'update'; target: ObjectAddress; previous: KubeObject }
  | { seq: number; type: 'undone'; step: number }
  | { seq: number; type: 'commit'; time: string }
  | { seq: number; type: 'rolled-back'; time: string };

type NewRecord = JournalRecord extends infer R ? (R extends { seq: number } ? Omit<R, 'seq'> : never) : never;

export class Journal {
  private fd: number;
  private seq: number;

  private constructor(
    readonly path: string,
    readonly records: JournalRecord[],
  ) {
    this.fd = openSync(path, 'a');
    this.seq = records.length ? records[records.length - 1].seq + 1 : 0;
  }

  /** Starts a new journal; fails if the file exists (one journal per transaction). */
  static create(path: string): Journal {
    mkdirSync(dirname(path), { recursive: true });
    try {
      closeSync(openSync(path, 'wx'));
    } catch (err) {
      throw new FatchartError('platform', `cannot create the journal: ${(err as Error).message}`, { subject: path, cause: err });
    }
    return new Journal(path, []);
  }

  static open(path: string): Journal {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new FatchartError('usage', `cannot read the journal: ${(err as Error).message}`, { subject: path });
    }
    const records: JournalRecord[] = [];
    for (const [i, line] of text.split('\n').entries()) {
      if (!line.trim()) continue;
      try {
        records.push(JSON.parse(line));
      } catch {
        // Only the last line can be torn (a crash while appending); it describes a change that
        // was never sent, so it is safe to ignore. A torn line elsewhere means a damaged file.
        if (i < text.trimEnd().split('\n').length - 1) {
          throw new FatchartError('verification', `line ${i + 1} is not a journal record`, { subject: path });
        }
      }
    }
    if (records[0]?.type !== 'begin') throw new FatchartError('usage', 'not a fatchart journal', { subject: path });
    return new Journal(path, records);
  }

  append(record: NewRecord): JournalRecord {
    const full = { seq: this.seq++, ...record } as JournalRecord;
    writeSync(this.fd, `${JSON.stringify(full)}\n`);
    fsyncSync(this.fd);
    this.records.push(full);
    return full;
  }

  close(): void {
    closeSync(this.fd);
  }

  get begin() {
    return this.records[0] as Extract<JournalRecord, { type: 'begin' }>;
  }

  get committed(): boolean {
    return this.records.some((r) => r.type === 'commit');
  }

  /** Changes not yet undone, newest first: the rollback plan. */
  pending(): Array<Extract<JournalRecord, { type: 'create' | 'update' }>> {
    const undone = new Set(this.records.flatMap((r) => (r.type === 'undone' ? [r.step] : [])));
    return this.records
      .filter((r): r is Extract<JournalRecord, { type: 'create' | 'update' }> => (r.type === 'create' || r.type === 'update') && !undone.has(r.seq))
      .reverse();
  }
}

/** Default journal location: `$XDG_STATE_HOME/fatchart/journals/<namespace>-<time>.jsonl`. */
export function defaultJournalPath(namespace: string, now = new Date()): string {
  const state = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return join(state, 'fatchart', 'journals', `${namespace}-${stamp}.jsonl`);
}
