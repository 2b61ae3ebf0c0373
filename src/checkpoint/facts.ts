/**
 * What a bundle records about one checkpoint, parsed from the archive's own files (see
 * metadata.ts for which file gives which fact). Every field but the counts is optional: an
 * archive from another tool may not say, and an unknown fact is reported as unknown, never
 * guessed.
 */
export interface CheckpointFacts {
  container: string;
  containerId?: string;
  /** Kubernetes pod and namespace, for CRI-O/kubelet archives. */
  pod?: string;
  namespace?: string;
  /** Image as the container named it (`docker.io/library/nginx:latest`). */
  image?: string;
  /** Content digest of that image (`sha256:…`), when the archive records one. */
  imageDigest?: string;
  /** Local image ID on the source host. */
  imageId?: string;
  /** The container manager that took the dump: `docker`, `libpod` (Podman), `cri-o`, `containerd`. */
  engine?: string;
  engineVersion?: string;
  /** OCI runtime (`runc`, `crun`) and its version. */
  runtime?: string;
  runtimeVersion?: string;
  criuVersion?: string;
  kernelVersion?: string;
  cgroupVersion?: '1' | '2';
  /** `uname -m` spelling: x86_64, aarch64, … */
  architecture?: string;
  /** When the dump was taken (RFC 3339). */
  checkpointedAt?: string;
  /** True when established TCP connections were dumped (the restore must then allow them). */
  tcpEstablished: boolean;
  /** True when the archive carries the container's root file-system changes. */
  rootfsDiff: boolean;
  lsm?: string;
  criuImages: { files: number; bytes: number; pageBytes: number };
  /** CRIU's own dump statistics, when the archive kept `stats-dump`. */
  dumpStats?: { frozenTimeMicros?: number; pagesWritten?: number };
}

/** Go (`GOARCH`) and OCI names → the `uname -m` names CRIU images and engines use. */
const archAliases: Record<string, string> = {
  amd64: 'x86_64',
  arm64: 'aarch64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loongarch64',
};

export const normaliseArch = (arch: string): string => archAliases[arch] ?? arch;

/** The rows `fatchart inspect` prints per checkpoint, in order; unknown facts say so. */
const factRows: ReadonlyArray<[string, (f: CheckpointFacts) => string | undefined]> = [
  ['container', (f) => [f.namespace, f.pod, f.container].filter(Boolean).join('/')],
  ['image', (f) => f.image],
  ['image digest', (f) => f.imageDigest],
  ['engine', (f) => [f.engine, f.engineVersion].filter(Boolean).join(' ') || undefined],
  ['runtime', (f) => [f.runtime, f.runtimeVersion].filter(Boolean).join(' ') || undefined],
  ['CRIU', (f) => f.criuVersion],
  ['kernel', (f) => f.kernelVersion],
  ['cgroup', (f) => (f.cgroupVersion ? `v${f.cgroupVersion}` : undefined)],
  ['architecture', (f) => f.architecture],
  ['checkpointed', (f) => f.checkpointedAt],
  ['TCP connections', (f) => (f.tcpEstablished ? 'included' : 'none')],
  ['rootfs changes', (f) => (f.rootfsDiff ? 'included' : 'none')],
  ['CRIU images', (f) => `${f.criuImages.files} files, ${f.criuImages.bytes} bytes (${f.criuImages.pageBytes} of memory pages)`],
];

export function describeFacts(facts: CheckpointFacts): Array<[string, string]> {
  return factRows.map(([label, get]) => [label, get(facts) ?? 'unknown']);
}
