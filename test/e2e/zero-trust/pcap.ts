// Reads what tcpdump wrote (`-w`, classic pcap, Ethernet link type) into TCP
// byte streams, one per direction of each connection, so a test can say what
// crossed the wire: the first bytes of a stream, and whether a string appears
// anywhere in it (also when split across segments). IPv4 only, as the rig is.
import { readFileSync } from 'node:fs';

export interface TcpStream {
  /** "10.244.0.10:40312>10.244.0.11:9080" */
  readonly key: string;
  readonly src: string;
  readonly dst: string;
  readonly dstPort: number;
  /** The payload in sequence order (retransmissions counted once). */
  readonly bytes: Buffer;
}

const LINKTYPE_ETHERNET = 1;

export function readPcapStreams(file: string): TcpStream[] {
  const buf = readFileSync(file);
  if (buf.length < 24) return [];
  const magic = buf.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  if (u32(20) !== LINKTYPE_ETHERNET) throw new Error(`${file}: link type ${u32(20)}, expected Ethernet (capture on the bridge)`);
  const segments = new Map<string, { src: string; dst: string; dstPort: number; isn: number; bySeq: Map<number, Buffer> }>();
  // A record cut short at the end (tcpdump still writing) is ignored.
  for (let off = 24; off + 16 <= buf.length; ) {
    const incl = u32(off + 8);
    const frame = buf.subarray(off + 16, off + 16 + incl);
    off += 16 + incl;
    if (frame.length < incl) break;
    let eth = 14;
    let type = frame.readUInt16BE(12);
    if (type === 0x8100 && frame.length >= 18) (type = frame.readUInt16BE(16)), (eth = 18);
    if (type !== 0x0800 || frame.length < eth + 20) continue;
    const ip = frame.subarray(eth);
    if (ip[9] !== 6) continue;
    const ihl = (ip[0]! & 0x0f) * 4;
    const total = Math.min(ip.readUInt16BE(2), ip.length);
    const tcp = ip.subarray(ihl, total);
    if (tcp.length < 20) continue;
    const addr = (o: number): string => `${ip[o]}.${ip[o + 1]}.${ip[o + 2]}.${ip[o + 3]}`;
    const src = `${addr(12)}:${tcp.readUInt16BE(0)}`;
    const dstPort = tcp.readUInt16BE(2);
    const dst = `${addr(16)}:${dstPort}`;
    const seq = tcp.readUInt32BE(4);
    const payload = tcp.subarray((tcp[12]! >> 4) * 4);
    const key = `${src}>${dst}`;
    let s = segments.get(key);
    if (s === undefined) segments.set(key, (s = { src, dst, dstPort, isn: seq, bySeq: new Map() }));
    if (payload.length > 0 && !s.bySeq.has(seq)) s.bySeq.set(seq, Buffer.from(payload));
  }
  return [...segments.entries()].map(([key, s]) => {
    // Relative sequence numbers (mod 2^32), so a stream that wraps still sorts.
    const ordered = [...s.bySeq.entries()].sort((a, b) => ((a[0] - s.isn) >>> 0) - ((b[0] - s.isn) >>> 0));
    return { key, src: s.src, dst: s.dst, dstPort: s.dstPort, bytes: Buffer.concat(ordered.map(([, p]) => p)) };
  });
}
