import { describe, expect, it } from 'vitest';
import { detectProtocol, H2_PREFACE, MAX_SNIFF_BYTES, readSni } from './detect-protocol.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

/** A minimal TLS 1.2 ClientHello record carrying `sni` (or no SNI extension). */
function clientHello(sni: string | null): Buffer {
  const ext: Buffer[] = [];
  if (sni !== null) {
    const name = b(sni);
    const entry = Buffer.concat([Buffer.from([0]), u16(name.length), name]);
    const list = Buffer.concat([u16(entry.length), entry]);
    ext.push(Buffer.concat([u16(0), u16(list.length), list]));
  }
  ext.unshift(Buffer.concat([u16(0x000b), u16(2), Buffer.from([1, 0])])); // ec_point_formats before SNI
  const exts = Buffer.concat(ext);
  const body = Buffer.concat([
    Buffer.from([3, 3]),
    Buffer.alloc(32, 7),
    Buffer.from([0]),
    u16(2),
    Buffer.from([0x13, 0x01]),
    Buffer.from([1, 0]),
    u16(exts.length),
    exts,
  ]);
  const hs = Buffer.concat([Buffer.from([1, 0, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 3, 1]), u16(hs.length), hs]);
}
function u16(n: number): Buffer {
  const x = Buffer.alloc(2);
  x.writeUInt16BE(n);
  return x;
}

describe('detectProtocol', () => {
  it.each([
    ['GET / HTTP/1.1\r\n', 'http1'],
    ['POST /x HTTP/1.1\r\n', 'http1'],
    ['OPTIONS * HTTP/1.1\r\n', 'http1'],
    ['PROPFIND / HTTP/1.1\r\n', 'http1'],
    ['G', 'more'],
    ['GE', 'more'],
    ['GET', 'more'],
    ['PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'http2'],
    ['PRI * HT', 'more'],
    ['P', 'more'],
    ['PING\r\n', 'tcp'], // redis inline command
    ['*1\r\n$4\r\nPING\r\n', 'tcp'], // redis RESP
    ['SSH-2.0-OpenSSH\r\n', 'tcp'],
    ['get / HTTP/1.1\r\n', 'tcp'], // methods are case-sensitive
    ['GETX / HTTP/1.1', 'tcp'],
  ])('%j → %s', (input, want) => {
    expect(detectProtocol(b(input))).toBe(want);
  });

  it('recognises TLS records and PostgreSQL startup bytes', () => {
    expect(detectProtocol(clientHello('x.example'))).toBe('tls');
    expect(detectProtocol(Buffer.from([0x16]))).toBe('more');
    expect(detectProtocol(Buffer.from([0x16, 3]))).toBe('more');
    expect(detectProtocol(Buffer.from([0x16, 9]))).toBe('tcp');
    expect(detectProtocol(Buffer.from([0x16, 3, 9]))).toBe('tcp');
    expect(detectProtocol(Buffer.from([0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f]))).toBe('tcp'); // SSLRequest
    expect(detectProtocol(Buffer.alloc(0))).toBe('more');
    expect(H2_PREFACE.length).toBe(24);
  });
});

describe('readSni', () => {
  it('reads the server name, lower-cased', () => {
    expect(readSni(clientHello('API.Example.com'))).toBe('api.example.com');
  });
  it('null without the extension, for non-handshakes and for garbage', () => {
    expect(readSni(clientHello(null))).toBeNull();
    expect(readSni(Buffer.from([0x17, 3, 3, 0, 1, 0]))).toBeNull();
    const bad = clientHello('a.b');
    bad[5] = 2; // ServerHello, not ClientHello
    expect(readSni(bad)).toBeNull();
  });
  it('undefined until the whole record is there, at every cut', () => {
    const full = clientHello('svc.example');
    for (let i = 0; i < full.length; i++) expect(readSni(full.subarray(0, i))).toBeUndefined();
  });
  it('null for a record longer than one TLS record can be', () => {
    const head = Buffer.from([0x16, 3, 1, 0xff, 0xff, 1]);
    expect(MAX_SNIFF_BYTES).toBeLessThan(5 + 0xffff);
    expect(readSni(head)).toBeNull();
  });
  it('never throws on truncated lengths inside the record', () => {
    const full = clientHello('svc.example');
    for (let i = 9; i < full.length; i++) {
      const cut = Buffer.from(full);
      cut.writeUInt16BE(i - 5, 3); // claim a shorter record
      expect(() => readSni(cut.subarray(0, i))).not.toThrow();
    }
  });
});
