// Reads the traffic.sidecar.meshlet.io/* pod annotations. Their values end up
// as init-container arguments, so each is checked strictly (ports 1..65535,
// IPs/CIDRs) and a bad value refuses the pod with the annotation named.
import { isIP } from 'node:net';

function items(annotations: Readonly<Record<string, string>>, key: string): string[] {
  return (annotations[key] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}

export function annotationPorts(annotations: Readonly<Record<string, string>>, key: string): number[] {
  return items(annotations, key).map((s) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new Error(`annotation ${key}: "${s}" is not a port 1..65535`);
    return n;
  });
}

/** `allowStar`: includeOutboundIPRanges accepts "*" (capture everything). */
export function annotationCidrs(annotations: Readonly<Record<string, string>>, key: string, allowStar: boolean): string[] {
  return items(annotations, key).map((s) => {
    if (allowStar && s === '*') return s;
    const [addr, bits, extra] = s.split('/');
    const family = isIP(addr ?? '');
    const max = family === 6 ? 128 : 32;
    const ok = family !== 0 && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max));
    if (!ok) throw new Error(`annotation ${key}: "${s}" is not an IP address or CIDR`);
    return s;
  });
}
