import { describe, expect, it } from 'vitest';
import { closestName, didYouMean, editDistance } from './did-you-mean.js';

describe('did you mean', () => {
  it('measures edits, swaps included', () => {
    expect(editDistance('timout', 'timeout')).toBe(1);
    expect(editDistance('weigth', 'weight')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
  });
  const cases: [string, string[], string | undefined][] = [
    ['timout', ['timeout', 'retries', 'fault'], 'timeout'],
    ['perTryTimout', ['attempts', 'perTryTimeout', 'retryOn'], 'perTryTimeout'],
    ['consecutive5xxError', ['consecutive5xxErrors', 'consecutiveGatewayErrors', 'interval'], 'consecutive5xxErrors'],
    ['weigth', ['destination', 'weight', 'headers'], 'weight'],
    ['confg', ['config', 'control-plane'], 'config'],
    ['VirtualServce', ['VirtualService', 'DestinationRule'], 'VirtualService'],
    ['zzzzzz', ['timeout', 'retries'], undefined],
  ];
  it.each(cases)('%s → %s', (word, known, want) => {
    expect(closestName(word, known)).toBe(want);
  });
  it('formats the hint', () => {
    expect(didYouMean('timout', ['timeout'])).toBe(' (did you mean `timeout`?)');
    expect(didYouMean('qqqq', ['timeout'])).toBe('');
  });
});
