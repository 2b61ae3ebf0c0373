import { FatchartError } from '../errors.js';
import type { RunContext } from '../util/context.js';
import { normaliseArch, type CheckpointFacts } from './facts.js';
import type { HostFacts } from './metadata.js';

/**
 * Whether a checkpoint can be restored on a target, decided by comparing the facts recorded at
 * dump time with the target's. One row per fact; `atLeast` facts may be newer on the target
 * (CRIU reads images of older versions; newer kernels keep the features older ones had).
 */
type Comparison = 'equal' | 'atLeast';

interface CompatibilityRule {
  fact: keyof HostFacts;
  label: string;
  compare: Comparison;
}

export const compatibilityRules: readonly CompatibilityRule[] = [
  // Images hold registers and machine code of one instruction set.
  { fact: 'architecture', label: 'CPU architecture', compare: 'equal' },
  // Each engine restores only its own archive layout and container config.
  { fact: 'engine', label: 'container engine', compare: 'equal' },
  // runc and crun lay out namespaces and mounts differently at restore.
  { fact: 'runtime', label: 'OCI runtime', compare: 'equal' },
  // CRIU restores the dumped cgroup tree into the same hierarchy kind.
  { fact: 'cgroupVersion', label: 'cgroup version', compare: 'equal' },
  { fact: 'criuVersion', label: 'CRIU version', compare: 'atLeast' },
  { fact: 'kernelVersion', label: 'kernel version', compare: 'atLeast' },
];

export interface FactDifference {
  fact: keyof HostFacts;
  label: string;
  recorded: string;
  target: string;
  rule: Comparison;
}

export interface Compatibility {
  compatible: boolean;
  differences: FactDifference[];
  /** Facts the archive or the target does not state: not compared, reported. */
  unknown: string[];
}

/** `6.18.44-fc-v669` → [6, 18, 44]; `4.1.1` → [4, 1, 1]. */
const numericVersion = (v: string) => (/^\D*(\d+(?:\.\d+)*)/.exec(v)?.[1] ?? '').split('.').filter(Boolean).map(Number);

function atLeast(target: string, recorded: string): boolean {
  const t = numericVersion(target);
  const r = numericVersion(recorded);
  if (!t.length || !r.length) return target === recorded;
  for (let i = 0; i < Math.max(t.length, r.length); i++) {
    const d = (t[i] ?? 0) - (r[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

const normalise = (fact: keyof HostFacts, v: string) => (fact === 'architecture' ? normaliseArch(v) : v);

export function checkCompatibility(recorded: CheckpointFacts, target: HostFacts): Compatibility {
  const differences: FactDifference[] = [];
  const unknown: string[] = [];
  for (const rule of compatibilityRules) {
    const r = recorded[rule.fact];
    const t = target[rule.fact];
    if (r === undefined || t === undefined) {
      unknown.push(`${rule.label} (${r === undefined ? 'not recorded' : 'target does not say'})`);
      continue;
    }
    const [rv, tv] = [normalise(rule.fact, String(r)), normalise(rule.fact, String(t))];
    const ok = rule.compare === 'equal' ? rv === tv : atLeast(tv, rv);
    if (!ok) differences.push({ fact: rule.fact, label: rule.label, recorded: rv, target: tv, rule: rule.compare });
  }
  return { compatible: differences.length === 0, differences, unknown };
}

export const describeDifference = (d: FactDifference) =>
  `${d.label} differs: recorded ${d.recorded}, target ${d.target}${d.rule === 'atLeast' ? ` (needs ${d.recorded} or newer)` : ''}`;

/** `--checkpoint-fallback`: refuse the unpack, or start that container cold from image and volumes. */
export type CheckpointFallback = 'refuse' | 'cold';

export interface CheckpointDecision {
  container: string;
  action: 'restore' | 'cold';
  /** Why it starts cold; printed and reported. */
  reason?: string;
}

/**
 * The pre-flight for every checkpoint of a bundle, before anything on the target changes.
 * Refuses with the first differing fact unless the fallback is `cold`, in which case that
 * container is marked to start from its image and volume data, and says so.
 */
export function planCheckpointRestore(
  checkpoints: ReadonlyArray<{ container: string; facts: CheckpointFacts }>,
  target: HostFacts,
  fallback: CheckpointFallback,
  ctx: RunContext,
): CheckpointDecision[] {
  return checkpoints.map(({ container, facts }) => {
    const result = checkCompatibility(facts, target);
    if (result.unknown.length) ctx.log.warn(`checkpoint ${container}: not compared, unknown ${result.unknown.join(', ')}`);
    if (result.compatible) return { container, action: 'restore' };
    const reason = result.differences.map(describeDifference).join('; ');
    if (fallback === 'refuse') {
      throw new FatchartError(
        'preflight',
        `cannot restore on this target: ${reason} (use --checkpoint-fallback cold to start it from its image and volume data instead)`,
        { subject: `checkpoint ${container}` },
      );
    }
    ctx.log.warn(`checkpoint ${container}: ${reason}; starting it cold from its image and volume data (--checkpoint-fallback cold)`);
    return { container, action: 'cold', reason };
  });
}
