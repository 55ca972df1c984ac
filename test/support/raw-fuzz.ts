// Seeded malformed-HTTP generator for the hardening fuzz test: request lines,
// targets, versions, headers and bodies a hostile or broken client may send,
// plus plain random bytes and an HTTP/2 preface with junk frames.
import fc from 'fast-check';

const METHODS = ['GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'CONNECT', 'PRI', 'TRACE', 'DELETE', 'G ET', 'get', '', 'X'.repeat(300), '\u00ff'];
const TARGETS = [
  '/',
  '*',
  'http://[',
  'http://[::1',
  'http://a@b/',
  'http://svc:@evil.example/',
  'https://svc/',
  'gopher://svc/',
  'http://',
  'http:///',
  'http://svc:99999999999/',
  'http://svc:-1/x',
  '//admin',
  '/%',
  '/%zz?%',
  '/a/../../b',
  '/?' + '&'.repeat(50),
  'svc:80',
  '/\u0000',
  '/' + 'a'.repeat(70_000),
  '/ready',
  '/config_dump?x=%ff',
  '/tap?max=-1&duration=abc',
  '/stats/prometheus',
  '/healthz/ready',
  '/metrics',
  '/quitquitquit',
];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/9.9', 'HTTP/1.1x', 'HTTP/', '', 'http/1.1'];
const HEADER_NAMES = ['Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Upgrade', 'Expect', 'x-request-id', 'x-envoy-attempt-count', 'x-meshlet-flags', 'x-meshlet-peer', 'Cookie', 'x-b3-traceid', 'traceparent', 'b3', 'x-envoy-fault-delay-request', 'x-envoy-fault-abort-request', 'Bad Name', ''];
const HEADER_VALUES = ['svc', 'svc:@evil.example', '[', '0', '-1', '99999999999999999999', 'chunked', 'chunked, chunked', 'identity', 'upgrade', 'websocket', 'h2c', '100-continue', 'close', 'keep-alive', 'a\u0000b', '\u00e9', ' ', 'x'.repeat(1000), '1;1;1;1', 'zzzz', '-'];

const token = (list: readonly string[]): fc.Arbitrary<string> => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...list) }, { weight: 1, arbitrary: fc.string({ maxLength: 40 }) });

const header = fc.tuple(token(HEADER_NAMES), token(HEADER_VALUES), fc.constantFrom(': ', ':', ' : ', ':\r\n ', '\r\n')).map(([n, v, sep]) => `${n}${sep}${v}\r\n`);

const httpish = fc
  .record({
    method: token(METHODS),
    target: token(TARGETS),
    version: token(VERSIONS),
    headers: fc.array(header, { maxLength: 12 }),
    manyHeaders: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 90, max: 1500 }) }),
    lineEnd: fc.constantFrom('\r\n', '\n', '\r', '\r\n\r\n'),
    body: fc.oneof(fc.constant(''), fc.string({ maxLength: 200 }), fc.constant('5\r\nhello\r\n0\r\n\r\n'), fc.constant('zz\r\n')),
    pipelined: fc.boolean(),
  })
  .map((r) => {
    let head = `${r.method} ${r.target} ${r.version}${r.lineEnd}${r.headers.join('')}`;
    for (let i = 0; i < r.manyHeaders; i++) head += `x-h${i}: ${i}\r\n`;
    const one = `${head}\r\n${r.body}`;
    return r.pipelined ? one + 'GET / HTTP/1.1\r\nHost: svc\r\n\r\n' : one;
  });

const randomBytes = fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b).toString('latin1'));

const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
const h2Junk = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => H2_PREFACE + Buffer.from(b).toString('latin1'));

/** `n` malformed requests, the same ones for the same seed. */
export function malformedRequests(n: number, seed: number): string[] {
  return fc.sample(fc.oneof({ weight: 6, arbitrary: httpish }, { weight: 2, arbitrary: randomBytes }, { weight: 1, arbitrary: h2Junk }), { numRuns: n, seed });
}
