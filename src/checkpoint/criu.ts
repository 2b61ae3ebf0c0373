import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The local CRIU binary: engines find it through their own PATH, and capture and restore need
 * local access to the engine's data root anyway, so the `criu` on this PATH (or FATCHART_CRIU)
 * is taken as the one the engine runs. Start the engine with the same PATH.
 */
export const criuCommand = () => process.env.FATCHART_CRIU ?? 'criu';

/** `Version: 4.1.1` → `4.1.1`; undefined when CRIU is not installed. */
export async function criuVersion(criu = criuCommand()): Promise<string | undefined> {
  try {
    const { stdout } = await run(criu, ['--version'], { timeout: 20_000 });
    return /Version:\s*(\S+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Whether the kernel tracks dirty memory pages (soft-dirty), which CRIU's pre-dump, `--track-mem`
 * and incremental dumps need. Without it only full dumps work and the container stays frozen
 * for the whole dump; callers report that instead of letting a pre-dump fail obscurely.
 */
export async function dirtyTracking(criu = criuCommand()): Promise<{ available: boolean; reason?: string }> {
  try {
    await run(criu, ['check', '--feature', 'mem_dirty_track'], { timeout: 20_000 });
    return { available: true };
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; code?: unknown; message: string };
    if (e.code === 'ENOENT') return { available: false, reason: `${criu} is not installed` };
    const said = `${e.stdout ?? ''}\n${e.stderr ?? ''}`.split('\n').map((l) => l.trim()).filter(Boolean);
    const line = said.find((l) => /dirty/i.test(l)) ?? said.pop() ?? e.message;
    return { available: false, reason: line.replace(/^\S+\s+\([^)]*\):\s*/, '') };
  }
}
