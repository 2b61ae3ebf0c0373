/**
 * Just enough of CRIU's image format to read the few facts a checkpoint does not state anywhere
 * else (CPU architecture, cgroup layout, LSM). An image file is a 4-byte type magic — preceded by
 * the common or service magic for every type but the inventory — then entries, each a
 * little-endian u32 length and one protobuf message. Field numbers are CRIU's `images/*.proto`.
 */
const COMMON_MAGIC = 0x54564319;
const SERVICE_MAGIC = 0x55105940;

/** One protobuf field: varints as bigint-free numbers (CRIU's fields here are small), bytes as Buffer. */
export interface PbField {
  no: number;
  value: number | Buffer;
}

export function decodeMessage(buf: Buffer): PbField[] {
  const out: PbField[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const b = buf[pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) return result;
      mul *= 128;
    }
  };
  while (pos < buf.length) {
    const key = varint();
    const no = Math.floor(key / 8);
    switch (key & 7) {
      case 0:
        out.push({ no, value: varint() });
        break;
      case 1:
        out.push({ no, value: buf.subarray(pos, (pos += 8)) });
        break;
      case 2: {
        const len = varint();
        out.push({ no, value: buf.subarray(pos, (pos += len)) });
        break;
      }
      case 5:
        out.push({ no, value: buf.subarray(pos, (pos += 4)) });
        break;
      default:
        throw new Error(`unsupported protobuf wire type ${key & 7}`);
    }
    if (pos > buf.length) throw new Error('truncated field');
  }
  return out;
}

/** The entries of one image file, each still encoded. Throws on a file that is not a CRIU image. */
export function imageEntries(file: Buffer): Buffer[] {
  if (file.length < 4) throw new Error('too short for a CRIU image');
  const first = file.readUInt32LE(0);
  let pos = first === COMMON_MAGIC || first === SERVICE_MAGIC ? 8 : 4;
  const entries: Buffer[] = [];
  while (pos + 4 <= file.length) {
    const len = file.readUInt32LE(pos);
    pos += 4;
    if (pos + len > file.length) throw new Error('truncated image entry');
    entries.push(file.subarray(pos, pos + len));
    pos += len;
  }
  return entries;
}

const field = (fields: PbField[], no: number) => fields.find((f) => f.no === no)?.value;
const fieldsOf = (fields: PbField[], no: number) => fields.filter((f) => f.no === no).map((f) => f.value);

/** core_entry.mtype (field 1) → the `uname -m` spelling the engines report. */
const machineTypes: Record<number, string> = {
  1: 'x86_64',
  2: 'arm',
  3: 'aarch64',
  4: 'ppc64le',
  5: 's390x',
  6: 'mips64',
  7: 'loongarch64',
  8: 'riscv64',
};

export function coreArchitecture(coreImage: Buffer): string | undefined {
  const entry = imageEntries(coreImage)[0];
  if (!entry) return undefined;
  const mtype = field(decodeMessage(entry), 1);
  return typeof mtype === 'number' ? machineTypes[mtype] : undefined;
}

/** inventory_entry: img_version (1), lsmtype (6), tcp_close (10). */
export interface InventoryFacts {
  imageVersion?: number;
  lsm?: string;
  tcpClose?: boolean;
}

const lsmTypes: Record<number, string> = { 0: 'none', 1: 'selinux', 2: 'apparmor' };

export function inventoryFacts(inventoryImage: Buffer): InventoryFacts {
  const entry = imageEntries(inventoryImage)[0];
  if (!entry) return {};
  const f = decodeMessage(entry);
  const num = (no: number) => {
    const v = field(f, no);
    return typeof v === 'number' ? v : undefined;
  };
  const lsm = num(6);
  const tcpClose = num(10);
  return {
    imageVersion: num(1),
    lsm: lsm === undefined ? undefined : (lsmTypes[lsm] ?? `lsm-${lsm}`),
    tcpClose: tcpClose === undefined ? undefined : tcpClose !== 0,
  };
}

/**
 * cgroup_entry.controllers (2) → cg_controller_entry.cnames (1). Version 1 hierarchies carry
 * controller names (`memory`, `cpu`); the unified v2 hierarchy is recorded with an empty name.
 * A dump that names any v1 controller was taken on a v1 (or hybrid) host.
 */
export function cgroupVersion(cgroupImage: Buffer): '1' | '2' | undefined {
  const entry = imageEntries(cgroupImage)[0];
  if (!entry) return undefined;
  const names = fieldsOf(decodeMessage(entry), 2).flatMap((c) =>
    Buffer.isBuffer(c) ? fieldsOf(decodeMessage(c), 1).map((n) => (Buffer.isBuffer(n) ? n.toString('utf8') : '')) : [],
  );
  if (names.length === 0) return undefined;
  return names.some((n) => n !== '' && n !== 'unified' && !n.startsWith('name=')) ? '1' : '2';
}
