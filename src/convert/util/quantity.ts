/**
 * Units between Docker (`512m`, `1.5g`, binary multiples, `cpus: 0.5`) and Kubernetes quantities
 * (`512Mi`, `500m` cpu). Kept as tables so both directions read the same facts.
 */
const dockerUnits: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, kb: 2 ** 10, m: 2 ** 20, mb: 2 ** 20, g: 2 ** 30, gb: 2 ** 30, t: 2 ** 40, tb: 2 ** 40 };
const kubeUnits: Record<string, number> = {
  '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60, m: 1e-3,
};

export function dockerBytes(v: string | number): number | undefined {
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
  if (!m) return undefined;
  const unit = dockerUnits[m[2].toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(m[1]) * unit);
}

export function kubeNumber(q: string | number): number | undefined {
  if (typeof q === 'number') return q;
  const m = /^\s*([+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)([a-zA-Z]*)\s*$/.exec(q);
  if (!m || kubeUnits[m[2]] === undefined) return undefined;
  return Number(m[1]) * kubeUnits[m[2]];
}

/** Bytes → the shortest exact binary quantity (`512Mi`), else plain bytes. */
export function bytesQuantity(bytes: number): string {
  for (const [unit, size] of [['Ti', 2 ** 40], ['Gi', 2 ** 30], ['Mi', 2 ** 20], ['Ki', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** Bytes → the Docker spelling (`512m`, `1g`), else plain bytes. */
export function dockerSize(bytes: number): string {
  for (const [unit, size] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return `${bytes}b`;
}

/** `0.5` cpus → `500m`; whole cpus stay plain. */
export function cpuQuantity(cpus: string | number): string {
  const n = Number(cpus);
  return Number.isInteger(n) ? String(n) : `${Math.round(n * 1000)}m`;
}

/** Compose durations (`1m30s`, `10s`, `500ms`) → seconds (rounded up, at least 1 when non-zero). */
export function durationSeconds(d: string | number | undefined): number | undefined {
  if (d === undefined) return undefined;
  if (typeof d === 'number') return d;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
  let total = 0;
  let matched = '';
  for (const m of d.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g)) {
    total += Number(m[1]) * units[m[2]];
    matched += m[0];
  }
  if (matched !== d.replace(/\s/g, '')) return undefined;
  return total > 0 ? Math.max(1, Math.ceil(total)) : 0;
}
