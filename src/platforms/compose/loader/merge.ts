/**
 * Compose's merge rules for several `-f` files (and for `extends`), as a table keyed by the
 * field path inside a service. Mappings merge key by key; sequences follow their rule below;
 * anything not listed is replaced by the later file (scalars) or merged (mappings).
 */
type Raw = Record<string, unknown>;
type Rule = 'replace' | 'union' | 'append' | { keyBy: (item: Raw) => string };

const byJson = (v: unknown) => JSON.stringify(v);

const serviceRules: Record<string, Rule> = {
  command: 'replace',
  entrypoint: 'replace',
  'healthcheck.test': 'replace',
  ports: 'union',
  expose: 'union',
  dns: 'union',
  dns_search: 'union',
  dns_opt: 'union',
  cap_add: 'union',
  cap_drop: 'union',
  profiles: 'union',
  tmpfs: 'union',
  extra_hosts: 'union',
  devices: 'union',
  security_opt: 'union',
  env_file: 'append',
  volumes: { keyBy: (m) => String(m.target) },
  secrets: { keyBy: (s) => String(s.target ?? s.source) },
  configs: { keyBy: (s) => String(s.target ?? s.source) },
  'deploy.placement.constraints': 'union',
};

function mergeList(rule: Rule, base: unknown[], over: unknown[]): unknown[] {
  if (rule === 'replace') return over;
  if (rule === 'append') return [...base, ...over];
  const key = rule === 'union' ? byJson : (v: unknown) => rule.keyBy(v as Raw);
  const out = new Map<string, unknown>();
  for (const v of [...base, ...over]) out.set(key(v), v);
  return [...out.values()];
}

export function mergeValue(base: unknown, over: unknown, path: string, rules = serviceRules): unknown {
  if (over === undefined) return base;
  const rule = rules[path];
  if (rule === 'replace') return over;
  if (Array.isArray(base) && Array.isArray(over)) return mergeList(rule ?? 'replace', base, over);
  if (isMap(base) && isMap(over)) {
    const out: Raw = { ...base };
    for (const [k, v] of Object.entries(over)) out[k] = mergeValue(base[k], v, path ? `${path}.${k}` : k, rules);
    return out;
  }
  return over;
}

const isMap = (v: unknown): v is Raw => !!v && typeof v === 'object' && !Array.isArray(v);

export function mergeService(base: Raw, over: Raw): Raw {
  return mergeValue(base, over, '') as Raw;
}

/** Top-level sections (volumes, networks, secrets, configs, x-*) merge by name, deeply. */
export function mergeTop(base: Raw, over: Raw): Raw {
  const out: Raw = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === 'services' && isMap(v)) {
      const services: Raw = { ...((base.services as Raw) ?? {}) };
      for (const [name, svc] of Object.entries(v)) {
        services[name] = services[name] ? mergeService(services[name] as Raw, (svc ?? {}) as Raw) : svc ?? {};
      }
      out.services = services;
    } else out[k] = mergeValue(base[k], v, `\0${k}`, {});
  }
  return out;
}
