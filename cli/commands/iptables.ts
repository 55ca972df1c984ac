// `meshlet iptables`: prints the nat rules that redirect a pod's traffic to
// its sidecar, in iptables-restore format. The pod rig and the Kubernetes init
// container (k8s/) both load exactly this output: one rule set, one place.
import { interceptionRules, ISTIO_DEFAULT_INTERCEPTION } from '../../proxy/interception/index.js';
import { flagsHelp, intFlag, parseFlags, type FlagSpec } from '../flags.js';

const d = ISTIO_DEFAULT_INTERCEPTION;
const SPEC = {
  'outbound-port': { type: 'string', default: String(d.outboundPort), help: 'sidecar outbound port' },
  'inbound-port': { type: 'string', default: String(d.inboundPort), help: 'sidecar inbound port' },
  'proxy-uid': { type: 'string', default: String(d.proxyUid), help: 'uid the sidecar runs as (its traffic is not captured)' },
  'proxy-gid': { type: 'string', default: String(d.proxyGid), help: 'gid the sidecar runs as' },
  'exclude-inbound-ports': { type: 'string', default: d.excludeInboundPorts.join(','), help: 'inbound ports reached directly' },
  'exclude-outbound-ports': { type: 'string', default: '', help: 'outbound destination ports not captured' },
  'exclude-outbound-ip-ranges': { type: 'string', default: '', help: 'outbound destination CIDRs not captured' },
  'include-outbound-ip-ranges': { type: 'string', default: '*', help: 'only these outbound CIDRs are captured (* = all)' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp('Usage: meshlet iptables [flags] | iptables-restore', SPEC);

export async function run(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, SPEC);
  const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  process.stdout.write(
    interceptionRules({
      excludeOutboundPorts: list(flags['exclude-outbound-ports']).map((s) => intFlag('exclude-outbound-ports', s)),
      excludeOutboundIpRanges: list(flags['exclude-outbound-ip-ranges']),
      includeOutboundIpRanges: list(flags['include-outbound-ip-ranges']),
      outboundPort: intFlag('outbound-port', flags['outbound-port']),
      inboundPort: intFlag('inbound-port', flags['inbound-port']),
      proxyUid: intFlag('proxy-uid', flags['proxy-uid']),
      proxyGid: intFlag('proxy-gid', flags['proxy-gid']),
      excludeInboundPorts: (flags['exclude-inbound-ports'] ?? '').split(',').filter((s) => s !== '').map((s) => intFlag('exclude-inbound-ports', s)),
    }),
  );
  return 0;
}
