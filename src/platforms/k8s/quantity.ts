/**
 * Kubernetes resource quantities (`100m`, `1.5`, `128Mi`, `1G`, `1e3`) as plain numbers of the
 * base unit (cores, bytes), for quota and LimitRange arithmetic in pre-flight.
 */
const suffixes: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

export function parseQuantity(value: unknown): number {
  const text = String(value ?? '').trim();
  const m = text.match(/^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/);
  if (!m || !(m[2] in suffixes)) throw new Error(`not a quantity: "${text}"`);
  return Number(m[1]) * suffixes[m[2]];
}
