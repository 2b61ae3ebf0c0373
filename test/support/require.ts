/**
 * Tests that need a real component (Docker Engine, registry, Kubernetes, CRIU, a CLI tool) call
 * `needs(...)`. When the component is missing the test is skipped with a printed reason, except
 * under CI (`CI` set), where a missing component is a failure: CI installs everything.
 */
import { execFileSync } from 'node:child_process';

export const inCI = !!process.env.CI;

/** Returns a reason string when the component is missing, or undefined when it is there. */
export type Probe = () => string | undefined | Promise<string | undefined>;

export function commandProbe(command: string, args: string[] = ['--version']): Probe {
  return () => {
    try {
      execFileSync(command, args, { stdio: 'ignore', timeout: 20_000 });
      return undefined;
    } catch {
      return `${command} is not installed (see .ci/run for the packages)`;
    }
  };
}

/**
 * Resolves to true when every probe passes. Otherwise prints why and resolves to false (use with
 * `ctx.skip()` or `describe.skipIf`), or throws under CI.
 */
export async function needs(what: string, ...probes: Probe[]): Promise<boolean> {
  for (const probe of probes) {
    const missing = await probe();
    if (missing) {
      const message = `${what}: ${missing}`;
      if (inCI) throw new Error(`required under CI: ${message}`);
      console.warn(`SKIP ${message}`);
      return false;
    }
  }
  return true;
}
