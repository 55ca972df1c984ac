// The connection's original destination, as iptables REDIRECT recorded it in
// conntrack: getsockopt(SOL_IP, SO_ORIGINAL_DST) (IPv4, also v4-mapped sockets)
// or getsockopt(SOL_IPV6, IP6T_SO_ORIGINAL_DST). Node has no getsockopt, so we
// call libc through koffi (prebuilt FFI inside its npm package, no compiler at
// install). This is the only FFI user in the proxy. Read once per connection,
// at accept; never per request. Measured cost: see the README (Interception).
import { createRequire } from 'node:module';
import { SocketAddress, type Socket } from 'node:net';
import { endianness } from 'node:os';

export interface OriginalDst {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

const SOL_IP = 0;
const SOL_IPV6 = 41;
/** SO_ORIGINAL_DST and IP6T_SO_ORIGINAL_DST share the number 80. */
const SO_ORIGINAL_DST = 80;
const SOCKADDR_IN6_LEN = 28;
/** sa_family is in host byte order. */
const LITTLE_ENDIAN = endianness() === 'LE';

type GetSockOpt = (fd: number, level: number, name: number, out: Buffer, len: number[]) => number;

let getsockopt: GetSockOpt | null | undefined;

function load(): GetSockOpt | null {
  if (getsockopt !== undefined) return getsockopt;
  getsockopt = null;
  if (process.platform !== 'linux') return null;
  try {
    // Loaded lazily and synchronously (createRequire): the proxy pays for FFI only when it accepts a connection.
    const koffi = requireKoffi();
    const libc = koffi.load('libc.so.6');
    getsockopt = libc.func('int getsockopt(int fd, int level, int name, _Out_ uint8_t *val, _Inout_ uint32_t *len)') as GetSockOpt;
  } catch {
    getsockopt = null; // no FFI here: every connection is "not redirected"
  }
  return getsockopt;
}

interface KoffiLib {
  func(decl: string): unknown;
}
interface Koffi {
  load(path: string): KoffiLib;
}

const requireKoffi = (): Koffi => createRequire(import.meta.url)('koffi') as Koffi;

/** True when the FFI loaded, i.e. original destinations can be read at all. */
export function originalDstSupported(): boolean {
  return load() !== null;
}

// One scratch buffer: reads are synchronous, so it is never shared between calls.
const scratch = Buffer.alloc(SOCKADDR_IN6_LEN);
const lenBox = [0];

/**
 * The address the client dialled before iptables redirected it, or undefined
 * when the connection was not redirected (explicit proxy, standalone mode,
 * no NAT entry: the kernel answers ENOENT) or the fd is not reachable.
 */
export function readOriginalDst(socket: Socket): OriginalDst | undefined {
  const fn = load();
  if (fn === null) return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return undefined;
  // SOL_IP first: it also answers for v4-mapped connections on a `::` listener.
  lenBox[0] = 16;
  if (fn(fd, SOL_IP, SO_ORIGINAL_DST, scratch, lenBox) === 0) return decode(scratch);
  if (socket.remoteFamily !== 'IPv6') return undefined;
  lenBox[0] = SOCKADDR_IN6_LEN;
  if (fn(fd, SOL_IPV6, SO_ORIGINAL_DST, scratch, lenBox) === 0) return decode(scratch);
  return undefined;
}

/** struct sockaddr_in / sockaddr_in6: family (host order), port and address (network order). */
export function decode(b: Buffer): OriginalDst | undefined {
  const family = LITTLE_ENDIAN ? b.readUInt16LE(0) : b.readUInt16BE(0);
  const port = b.readUInt16BE(2);
  if (family === 2) return { address: `${b[4]}.${b[5]}.${b[6]}.${b[7]}`, port, family: 4 };
  if (family === 10) {
    const parts: string[] = [];
    for (let i = 0; i < 8; i++) parts.push(b.readUInt16BE(8 + i * 2).toString(16));
    // The canonical spelling (RFC 5952, as inet_ntop and Node's remoteAddress
    // write it: fd00:244::81, not fd00:244:0:0:0:0:0:81): the loop guard, the
    // access log, metrics and passthrough all compare or show this string.
    return { address: new SocketAddress({ address: parts.join(':'), family: 'ipv6' }).address, port, family: 6 };
  }
  return undefined;
}
