import path from 'node:path';
import type { KubeObject } from '../../model/object.js';
import { ENV_FILES, type ComposeProject } from './loader/index.js';

/**
 * The normalised Compose project as the pack read it ("record the normalised project"), kept in
 * the bundle's originals so a compose → compose migration restores the project itself rather than
 * a round trip through the Kubernetes model (which has no host-IP port publishing, and turns
 * health-gated depends_on into init containers). Host paths become project-relative: absolute
 * paths on the source host mean nothing on the target. Not carried: the interpolation
 * environment (the user's shell) and file contents — secrets and configs travel as the
 * Secret/ConfigMap objects, so --exclude-secrets keeps working.
 */
export const PROJECT_API_VERSION = 'compose.fatchart.io/v1';
export const PROJECT_KIND = 'ComposeProject';

type Raw = Record<string, unknown>;

export function projectOriginal(project: ComposeProject): KubeObject {
  // Relative even when outside the project (`../shared`): the same spelling as the claims'
  // fatchart.io/bind-source annotation, which is how a restore finds each bind's data.
  const rel = (p: string) => {
    const r = path.relative(project.workingDir, p);
    return r === '' ? '.' : r.startsWith('..') ? r : `./${r}`;
  };
  const services: Record<string, Raw> = {};
  for (const [name, svc] of Object.entries(project.services)) {
    const { [ENV_FILES]: _envFiles, ...rest } = svc as Raw;
    services[name] = pruneEmpty({
      ...rest,
      volumes: svc.volumes.map((m) => (m.type === 'bind' && m.source ? { ...m, source: rel(m.source) } : m)),
      ...(svc.build ? { build: { ...svc.build, context: rel(svc.build.context) } } : {}),
    });
  }
  const files = (section: Record<string, Raw>) =>
    Object.fromEntries(Object.entries(section).map(([k, v]) => [k, typeof v.file === 'string' ? { ...v, file: rel(v.file) } : v]));
  // Sections stay as declared (`data: {}` declares a volume); only absent ones are left out.
  const document = pruneEmpty({
    services,
    volumes: project.volumes,
    networks: project.networks,
    secrets: files(project.secrets),
    configs: files(project.configs),
    ...project.extensions,
  });
  return { apiVersion: PROJECT_API_VERSION, kind: PROJECT_KIND, metadata: { name: project.name }, spec: document } as KubeObject;
}

export const isProjectOriginal = (o: KubeObject) => o.apiVersion === PROJECT_API_VERSION && o.kind === PROJECT_KIND;

/** Drops the empty lists and maps the normaliser filled in, so the file reads like a human's. */
function pruneEmpty(fields: Raw): Raw {
  const empty = (v: unknown) =>
    v === null || v === undefined || (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && Object.keys(v as Raw).length === 0);
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => !empty(v)));
}
