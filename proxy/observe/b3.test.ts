import { describe, expect, it } from 'vitest';
import type { IncomingHttpHeaders } from 'node:http';
import { extractB3, extractW3C, injectB3, type HeaderBag, type TraceContext } from './b3.js';
import { newSpanId, newTraceId128, padTraceId } from './ids.js';

const T64 = '463ac35c9f6413ad';
const T128 = '463ac35c9f6413ad48485a3953bb6124';
const S = 'a2fb4a1d1a96d312';
const P = '0020000000000001';

const ctx = (traceId: string, spanId: string, parentSpanId: string | undefined, sampled: boolean | undefined, debug = false): TraceContext => ({
  traceId, spanId, parentSpanId, sampled, debug,
});

describe('extractB3', () => {
  const cases: Array<[string, IncomingHttpHeaders, TraceContext | undefined]> = [
    ['no context', {}, undefined],
    ['multi 64-bit stays 64-bit, defer kept', { 'x-b3-traceid': T64, 'x-b3-spanid': S }, ctx(T64, S, undefined, undefined)],
    ['multi 128-bit with parent, sampled', { 'x-b3-traceid': T128, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' }, ctx(T128, S, P, true)],
    ['multi deny', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '0' }, ctx(T64, S, undefined, false)],
    ['multi lenient true', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': 'true' }, ctx(T64, S, undefined, true)],
    ['multi debug implies sampled', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-flags': '1' }, ctx(T64, S, undefined, true, true)],
    ['lone x-b3-sampled: 0 is deny-only', { 'x-b3-sampled': '0' }, ctx('', '', undefined, false)],
    ['single full', { b3: `${T128}-${S}-1-${P}` }, ctx(T128, S, P, true)],
    ['single ids only = defer', { b3: `${T64}-${S}` }, ctx(T64, S, undefined, undefined)],
    ['single debug', { b3: `${T64}-${S}-d` }, ctx(T64, S, undefined, true, true)],
    ['single deny', { b3: `${T64}-${S}-0` }, ctx(T64, S, undefined, false)],
    ['b3: 0 = deny-only', { b3: '0' }, ctx('', '', undefined, false)],
    ['single wins over multi', { b3: `${T64}-${S}-0`, 'x-b3-traceid': T128, 'x-b3-spanid': P, 'x-b3-sampled': '1' }, ctx(T64, S, undefined, false)],
    ['invalid single falls back to multi', { b3: 'garbage', 'x-b3-traceid': T64, 'x-b3-spanid': S }, ctx(T64, S, undefined, undefined)],
    ['invalid trace id (uppercase) = absent', { 'x-b3-traceid': T64.toUpperCase(), 'x-b3-spanid': S }, undefined],
    ['invalid trace id (length 20) = absent', { 'x-b3-traceid': '463ac35c9f6413ad1234', 'x-b3-spanid': S }, undefined],
    ['zero span id = absent', { 'x-b3-traceid': T64, 'x-b3-spanid': '0000000000000000' }, undefined],
    ['invalid ids keep the deny decision', { 'x-b3-traceid': 'xyz', 'x-b3-spanid': S, 'x-b3-sampled': '0' }, ctx('', '', undefined, false)],
    ['invalid parent dropped, ids kept', { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-parentspanid': 'nope' }, ctx(T64, S, undefined, undefined)],
    ['duplicated header: first wins', { 'x-b3-traceid': `${T64}, ${T128}`, 'x-b3-spanid': S }, ctx(T64, S, undefined, undefined)],
  ];
  it.each(cases)('%s', (_name, headers, want) => {
    expect(extractB3(headers)).toEqual(want);
  });
});

describe('injectB3', () => {
  const MULTI = { multi: true, single: false, w3c: false };
  const ALL = { multi: true, single: true, w3c: true };
  const cases: Array<[string, TraceContext, typeof ALL, HeaderBag, HeaderBag]> = [
    ['multi with parent, sampled', ctx(T64, S, P, true), MULTI, {}, { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-sampled': '1' }],
    ['defer stays absent', ctx(T64, S, undefined, undefined), MULTI, {}, { 'x-b3-traceid': T64, 'x-b3-spanid': S }],
    ['debug as flags, no sampled', ctx(T64, S, undefined, true, true), MULTI, {}, { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-flags': '1' }],
    ['stale headers of other formats removed', ctx(T64, S, undefined, false), MULTI, { b3: 'x', 'x-b3-flags': '1', 'x-b3-parentspanid': P, other: 'kept' },
      { 'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-sampled': '0', other: 'kept' }],
    ['all formats; traceparent padded only there', ctx(T64, S, P, true), ALL, {}, {
      'x-b3-traceid': T64, 'x-b3-spanid': S, 'x-b3-parentspanid': P, 'x-b3-sampled': '1',
      b3: `${T64}-${S}-1-${P}`, traceparent: `00-0000000000000000${T64}-${S}-01` }],
    ['single debug', ctx(T128, S, undefined, true, true), { multi: false, single: true, w3c: false }, { 'x-b3-traceid': T64 }, { b3: `${T128}-${S}-d` }],
    ['single defer drops parent (no slot)', ctx(T64, S, P, undefined), { multi: false, single: true, w3c: false }, {}, { b3: `${T64}-${S}` }],
    ['deny-only', ctx('', '', undefined, false), { multi: true, single: true, w3c: true }, {}, { 'x-b3-sampled': '0', b3: '0' }],
  ];
  it.each(cases)('%s', (_name, c, mode, start, want) => {
    const h = { ...start };
    injectB3(c, h, mode);
    expect(h).toEqual(want);
  });

  it('round-trips through extract for every format', () => {
    for (const mode of [{ multi: true, single: false, w3c: false }, { multi: false, single: true, w3c: false }]) {
      for (const c of [ctx(T64, S, P, true), ctx(T128, S, undefined, false), ctx(T64, S, P, true, true)]) {
        const h: HeaderBag = {};
        injectB3(c, h, mode);
        expect(extractB3(h as IncomingHttpHeaders)).toEqual(c);
      }
    }
  });
});

describe('extractW3C', () => {
  it.each([
    ['128-bit sampled', `00-${T128}-${S}-01`, ctx(T128, S, undefined, true)],
    ['padded 64-bit comes back as 64-bit', `00-0000000000000000${T64}-${S}-00`, ctx(T64, S, undefined, false)],
    ['invalid', `00-${T64}-${S}-01`, undefined],
  ])('%s', (_n, tp, want) => {
    expect(extractW3C({ traceparent: tp })).toEqual(want);
  });
});

describe('ids', () => {
  it('generates distinct, valid 64-bit and 128-bit ids across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) {
      const id = newSpanId();
      expect(id).toMatch(/^[0-9a-f]{16}$/);
      expect(id).not.toBe('0000000000000000');
      seen.add(id);
    }
    expect(seen.size).toBe(2000);
    expect(newTraceId128()).toMatch(/^[0-9a-f]{32}$/);
    expect(padTraceId(T64)).toBe(`0000000000000000${T64}`);
    expect(padTraceId(T128)).toBe(T128);
  });
});
