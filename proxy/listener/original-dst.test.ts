import { endianness } from 'node:os';
import { describe, expect, it } from 'vitest';
import { decode } from './original-dst.js';

/** A sockaddr_in / sockaddr_in6 as getsockopt(SO_ORIGINAL_DST) fills it: family in host order, the rest in network order. */
function sockaddr(family: 2 | 10, port: number, addr: readonly number[]): Buffer {
  const b = Buffer.alloc(28);
  if (endianness() === 'LE') b.writeUInt16LE(family, 0);
  else b.writeUInt16BE(family, 0);
  b.writeUInt16BE(port, 2);
  if (family === 2) Buffer.from(addr).copy(b, 4);
  else addr.forEach((group, i) => b.writeUInt16BE(group, 8 + i * 2));
  return b;
}

describe('decode (SO_ORIGINAL_DST / IP6T_SO_ORIGINAL_DST)', () => {
  it('reads an IPv4 destination', () => {
    expect(decode(sockaddr(2, 7000, [10, 96, 0, 1]))).toEqual({ address: '10.96.0.1', port: 7000, family: 4 });
  });

  it('spells an IPv6 destination canonically (as Node and inet_ntop do), so it compares equal to addresses from config and interfaces', () => {
    expect(decode(sockaddr(10, 7000, [0xfd00, 0x244, 0, 0, 0, 0, 0, 0x81]))).toEqual({ address: 'fd00:244::81', port: 7000, family: 6 });
    expect(decode(sockaddr(10, 15001, [0, 0, 0, 0, 0, 0, 0, 1]))?.address).toBe('::1');
    expect(decode(sockaddr(10, 443, [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]))?.address).toBe('2001:db8::1:0:0:1');
  });

  it('refuses other families', () => {
    expect(decode(sockaddr(2, 1, [1, 2, 3, 4]).fill(0, 0, 2))).toBeUndefined();
  });
});
