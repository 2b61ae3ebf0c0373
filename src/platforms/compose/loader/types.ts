/**
 * The normalised Compose project: what `docker compose config` prints, as typed data. Every
 * short syntax is expanded to its long form, so converters never see two spellings of one idea.
 */
export interface ComposePort {
  target: number;
  published?: string;
  host_ip?: string;
  protocol: 'tcp' | 'udp' | 'sctp';
  mode?: string;
  name?: string;
  app_protocol?: string;
}

export interface ComposeMount {
  type: 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'cluster' | 'image';
  /** Named volume, or absolute host path for a bind mount; absent for anonymous volumes and tmpfs. */
  source?: string;
  target: string;
  read_only?: boolean;
  bind?: { create_host_path?: boolean; propagation?: string; selinux?: string };
  volume?: { nocopy?: boolean; subpath?: string };
  tmpfs?: { size?: number | string; mode?: number };
  [extra: string]: unknown;
}

export interface ComposeFileRef {
  source: string;
  target?: string;
  uid?: string;
  gid?: string;
  mode?: number | string;
}

export interface ComposeDependency {
  condition: 'service_started' | 'service_healthy' | 'service_completed_successfully';
  restart?: boolean;
  required?: boolean;
}

export interface ComposeHealthcheck {
  test?: string[];
  interval?: string;
  timeout?: string;
  retries?: number;
  start_period?: string;
  start_interval?: string;
  disable?: boolean;
}

export interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string; target?: string; args?: Record<string, string>; [k: string]: unknown };
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment: Record<string, string | null>;
  labels: Record<string, string>;
  ports: ComposePort[];
  expose: string[];
  volumes: ComposeMount[];
  secrets: ComposeFileRef[];
  configs: ComposeFileRef[];
  depends_on: Record<string, ComposeDependency>;
  networks?: Record<string, { aliases?: string[]; ipv4_address?: string; [k: string]: unknown } | null>;
  healthcheck?: ComposeHealthcheck;
  deploy?: {
    mode?: string;
    replicas?: number;
    labels?: Record<string, string>;
    resources?: {
      limits?: { cpus?: string | number; memory?: string; pids?: number };
      reservations?: { cpus?: string | number; memory?: string; devices?: unknown[] };
    };
    restart_policy?: { condition?: string; delay?: string; max_attempts?: number; window?: string };
    placement?: { constraints?: string[]; preferences?: unknown[] };
    [k: string]: unknown;
  };
  profiles?: string[];
  tmpfs?: string[];
  [field: string]: unknown;
}

export interface ComposeVolume {
  name?: string;
  driver?: string;
  driver_opts?: Record<string, string>;
  external?: boolean;
  labels?: Record<string, string>;
  [k: string]: unknown;
}

export interface ComposeResource {
  name?: string;
  /** Absolute path of the file holding the content. */
  file?: string;
  environment?: string;
  content?: string;
  external?: boolean;
  labels?: Record<string, string>;
  [k: string]: unknown;
}

export interface ComposeProject {
  name: string;
  /** Absolute project directory (the first compose file's folder unless --project-directory). */
  workingDir: string;
  /** Absolute paths of the files that were merged, in order. */
  files: string[];
  services: Record<string, ComposeService>;
  /** Services left out because none of their profiles is active. */
  disabledServices: string[];
  volumes: Record<string, ComposeVolume>;
  networks: Record<string, Record<string, unknown>>;
  secrets: Record<string, ComposeResource>;
  configs: Record<string, ComposeResource>;
  /** Top-level `x-*` extension fields, kept as written (after interpolation). */
  extensions: Record<string, unknown>;
  /** The interpolation environment that was used (after `.env` / `--env-file`). */
  environment: Record<string, string>;
  /** Digest of the source files as written, minus `x-fatchart` (see sourceDigest). */
  sourceDigest: string;
}
