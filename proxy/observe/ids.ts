// Trace/span id generation. `crypto.randomBytes` per id costs a syscall-ish
// round trip and a Buffer; drawing from a 4 KiB pool turned into one hex string
// makes an id a substring (V8 keeps it as a cheap sliced string).
import { randomBytes } from 'node:crypto';

const POOL_BYTES = 4096;
let pool = '';
let offset = 0;

function takeHex(chars: number): string {
  if (offset + chars > pool.length) {
    pool = randomBytes(POOL_BYTES).toString('hex');
    offset = 0;
  }
  const s = pool.slice(offset, offset + chars);
  offset += chars;
  return s;
}

const ZERO16 = '0000000000000000';

/** A random 64-bit id as 16 lower-hex chars, never all zeros (B3 and OTel treat zero as invalid). */
export function newSpanId(): string {
  let id = takeHex(16);
  while (id === ZERO16) id = takeHex(16);
  return id;
}

/** A random 128-bit trace id as 32 lower-hex chars. */
export function newTraceId128(): string {
  return takeHex(16) + newSpanId();
}

/** OTel and W3C want 32 hex chars; B3 allows 16. Left-pad only where a 128-bit id is required. */
export function padTraceId(traceId: string): string {
  return traceId.length === 32 ? traceId : ZERO16 + traceId;
}
