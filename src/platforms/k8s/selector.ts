import { usageError } from '../../errors.js';

/**
 * Label selectors: the `-l` string syntax kubectl accepts (`app=shop,tier!=db,env in (a,b),
 * !legacy,release`) and the LabelSelector objects of workloads (matchLabels/matchExpressions),
 * both compiled to one requirement list.
 */
export interface Requirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

export type Labels = Record<string, string> | undefined;

export function parseSelector(text: string): Requirement[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => {
      let m: RegExpMatchArray | null;
      if ((m = p.match(/^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
        const values = m[3].split(',').map((v) => v.trim()).filter(Boolean);
        return { key: m[1], operator: m[2] === 'in' ? 'In' : 'NotIn', values } as Requirement;
      }
      if ((m = p.match(/^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/))) {
        return { key: m[1], operator: m[2] === '!=' ? 'NotIn' : 'In', values: [m[3]] } as Requirement;
      }
      if ((m = p.match(/^!([\w./-]+)$/))) return { key: m[1], operator: 'DoesNotExist', values: [] } as Requirement;
      if ((m = p.match(/^([\w./-]+)$/))) return { key: m[1], operator: 'Exists', values: [] } as Requirement;
      throw usageError(`cannot parse label selector term "${p}"`, '--selector');
    });
}

/** A LabelSelector object; an empty or missing one selects everything. */
export function fromLabelSelector(selector: any): Requirement[] {
  const reqs: Requirement[] = Object.entries(selector?.matchLabels ?? {}).map(([key, v]) => ({
    key,
    operator: 'In' as const,
    values: [String(v)],
  }));
  for (const e of selector?.matchExpressions ?? []) reqs.push({ key: e.key, operator: e.operator, values: e.values ?? [] });
  return reqs;
}

export function matches(reqs: readonly Requirement[], labels: Labels): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.operator) {
      case 'In':
        return has && r.values.includes(l[r.key]);
      case 'NotIn':
        return !has || !r.values.includes(l[r.key]);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

/** A Service's plain map selector: selects only when non-empty and every pair is present. */
export function mapSelects(selector: Record<string, string> | undefined, labels: Labels): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}
