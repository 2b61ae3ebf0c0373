import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../support/cli.js';
import { needs } from '../support/require.js';

const run = promisify(execFile);
const script = join(projectRoot, '..', 'shared', 'acceptance', 'kompose-parity.mjs');
const ready = await needs('Kompose parity (../shared/acceptance)', () => (existsSync(script) ? undefined : `${script} is absent`));

/**
 * The shared acceptance check scores how much of Kompose's conversion semantics `fatchart convert`
 * reproduces on Kompose's own fixtures. The floor is 95 %; docs/CONVERSION.md lists the facts
 * that differ on purpose.
 */
describe.skipIf(!ready)('Kompose parity', () => {
  it('scores at least 95 % of Kompose semantic facts', async () => {
    const { stdout } = await run(process.execPath, [script, '--min', '95', '--cmd', `${process.execPath} {root}/dist/cli/main.js convert {files} --to {target}`], {
      cwd: projectRoot,
      timeout: 600_000,
    });
    const summary = stdout.trim().split('\n').pop()!;
    console.log(summary);
    const m = /kompose-parity: ([\d.]+)% .* (\d+) failed to run/.exec(summary);
    expect(m, summary).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(95);
    expect(Number(m![2])).toBe(0);
  }, 600_000);
});
