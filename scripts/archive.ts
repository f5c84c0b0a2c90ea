/**
 * The two archive formats a release ships, written here rather than by the build machine's `tar`
 * and `zip` (GNU and BSD tar differ in every flag that makes an archive reproducible, and `zip` is
 * often not installed): a gzipped POSIX ustar for Linux and macOS, a zip for Windows. Pure: entries
 * in, bytes out. Owner root, fixed modes and one timestamp (the commit's), so the same tree gives
 * the same archive on any machine (byte for byte with the same Bun, whose zlib does the deflating).
 */
import { crc32, deflateRawSync, gzipSync } from "node:zlib";

export interface ArchiveEntry {
  /** Path inside the archive, `/`-separated; a directory ends with `/`. */
  path: string;
  /** Contents of a file; absent for a directory. */
  data?: Uint8Array;
  /** Unix permission bits, e.g. 0o755 for the binary. */
  mode: number;
}

const BLOCK = 512;
/** zlib's default: level 9 made the binary's archive 0.3% smaller for 1.7 times the time. */
const COMPRESSION_LEVEL = 6;

function writeString(header: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > length) throw new Error(`'${text}' does not fit in a tar header field of ${length} bytes`);
  header.set(bytes, offset);
}

/** A ustar numeric field: zero-padded octal, NUL-terminated. */
function writeOctal(header: Uint8Array, offset: number, length: number, value: number): void {
  writeString(header, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function tarHeader(entry: ArchiveEntry, mtime: number): Uint8Array {
  const header = new Uint8Array(BLOCK);
  const isDirectory = entry.path.endsWith("/");
  // Paths over 100 bytes go in the 155-byte prefix field, split at a slash.
  let name = entry.path;
  let prefix = "";
  if (new TextEncoder().encode(name).length > 100) {
    const cut = name.lastIndexOf("/", name.length - 2);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  writeString(header, 0, 100, name);
  writeOctal(header, 100, 8, entry.mode);
  writeOctal(header, 108, 8, 0); // uid
  writeOctal(header, 116, 8, 0); // gid
  writeOctal(header, 124, 12, isDirectory ? 0 : (entry.data?.length ?? 0));
  writeOctal(header, 136, 12, mtime);
  header.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  header[156] = isDirectory ? 0x35 : 0x30; // '5' directory, '0' regular file
  writeString(header, 257, 8, "ustar\u000000");
  writeString(header, 265, 32, "root");
  writeString(header, 297, 32, "root");
  writeString(header, 345, 155, prefix);
  const checksum = header.reduce((sum, byte) => sum + byte, 0);
  writeString(header, 148, 8, `${checksum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

/** A POSIX ustar archive of `entries`, in the order given. */
export function tarBytes(entries: readonly ArchiveEntry[], mtime: number): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    parts.push(tarHeader(entry, mtime));
    const data = entry.path.endsWith("/") ? undefined : entry.data;
    if (data !== undefined && data.length > 0) {
      parts.push(data);
      const padding = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (padding > 0) parts.push(new Uint8Array(padding));
    }
  }
  parts.push(new Uint8Array(2 * BLOCK)); // end of archive: two zero blocks
  return Buffer.concat(parts);
}

export function tarGzBytes(entries: readonly ArchiveEntry[], mtime: number): Uint8Array {
  // zlib writes no name and a zero timestamp in the gzip header: nothing varies between machines.
  return gzipSync(tarBytes(entries, mtime), { level: COMPRESSION_LEVEL });
}

/** MS-DOS date and time fields (local time in the format; UTC here, so every machine agrees). */
function dosDateTime(unixSeconds: number): { date: number; time: number } {
  const at = new Date(unixSeconds * 1000);
  const year = Math.max(at.getUTCFullYear(), 1980);
  return {
    date: ((year - 1980) << 9) | ((at.getUTCMonth() + 1) << 5) | at.getUTCDate(),
    time: (at.getUTCHours() << 11) | (at.getUTCMinutes() << 5) | Math.floor(at.getUTCSeconds() / 2),
  };
}

const UNIX_VERSION_MADE_BY = (3 << 8) | 20; // made on Unix (so the high half of external attributes is the mode), zip 2.0
const VERSION_NEEDED = 20; // deflate
const UTF8_NAMES = 1 << 11;

/** A zip archive of `entries` (deflated files; Unix modes kept for `unzip` on Linux and macOS). */
export function zipBytes(entries: readonly ArchiveEntry[], mtime: number): Uint8Array {
  const { date, time } = dosDateTime(mtime);
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = new TextEncoder().encode(entry.path);
    const isDirectory = entry.path.endsWith("/");
    const data = isDirectory ? new Uint8Array(0) : (entry.data ?? new Uint8Array(0));
    const compressed = isDirectory ? data : deflateRawSync(data, { level: COMPRESSION_LEVEL });
    const method = isDirectory ? 0 : 8;
    const crc = crc32(data);

    // The local header and the central directory record share these fields, from "version needed" on.
    const shared = (header: Buffer, at: number): void => {
      header.writeUInt16LE(VERSION_NEEDED, at);
      header.writeUInt16LE(UTF8_NAMES, at + 2);
      header.writeUInt16LE(method, at + 4);
      header.writeUInt16LE(time, at + 6);
      header.writeUInt16LE(date, at + 8);
      header.writeUInt32LE(crc, at + 10);
      header.writeUInt32LE(compressed.length, at + 14);
      header.writeUInt32LE(data.length, at + 18);
      header.writeUInt16LE(name.length, at + 22);
    };

    const local = Buffer.alloc(30 + name.length);
    local.writeUInt32LE(0x04034b50, 0);
    shared(local, 4);
    local.set(name, 30);

    const central = Buffer.alloc(46 + name.length);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(UNIX_VERSION_MADE_BY, 4);
    shared(central, 6);
    const unixMode = (isDirectory ? 0o040000 : 0o100000) | entry.mode;
    central.writeUInt32LE(((unixMode << 16) | (isDirectory ? 0x10 : 0)) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    central.set(name, 46);

    locals.push(local, compressed);
    centrals.push(central);
    offset += local.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  // Offsets and sizes are 32-bit (no zip64): Buffer throws a RangeError past 4 GB; the binary is ~110 MB.
  return Buffer.concat([...locals, directory, end]);
}
