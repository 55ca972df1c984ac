// IP and CIDR lists (ipBlocks, source.ip, …) as one node:net BlockList each,
// built once per snapshot; the model's schema has already checked the syntax.
import { BlockList, isIP } from 'node:net';
import type { ValueTest } from './value-pattern.js';

export function compileIpBlocks(blocks: readonly string[]): ValueTest {
  const list = new BlockList();
  for (const b of blocks) {
    const [ip = '', bits] = b.split('/');
    const type = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  return (v) => {
    if (v === undefined) return false;
    const family = isIP(v);
    return family !== 0 && list.check(v, family === 6 ? 'ipv6' : 'ipv4');
  };
}
