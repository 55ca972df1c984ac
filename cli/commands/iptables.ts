// `meshlet iptables`: the nat rules that redirect a pod's traffic to its
// sidecar, as the idempotent script from proxy/interception (the pod rig and
// the Kubernetes init container run this very script). Prints it by default;
// --apply runs it, --cleanup removes exactly what it added. It only ever
// touches Meshlet's own chains, so Docker's or a CNI's rules survive.
import { spawn } from 'node:child_process';
import { cleanupScript, interceptionRules, interceptionScript, IPV6_MODES, ISTIO_DEFAULT_INTERCEPTION, OWN_CHAINS, type InterceptionOptions, type Ipv6Mode } from '../../proxy/interception/index.js';
import { FlagError, flagsHelp, intFlag, parseFlags, type FlagSpec } from '../flags.js';
import { exitQuietlyOnEpipe } from '../quiet-epipe.js';

const d = ISTIO_DEFAULT_INTERCEPTION;
const SPEC = {
  apply: { type: 'boolean', default: false, help: 'run the rules (root, NET_ADMIN) instead of printing them' },
  cleanup: { type: 'boolean', default: false, help: "remove Meshlet's chains and jumps, nothing else (prints the script unless --apply)" },
  format: { type: 'string', default: 'script', help: 'what to print: script (idempotent sh, safe to `| sh`), iptables-save or ip6tables-save (the resulting nat table, to read or diff)' },
  ipv6: { type: 'string', default: 'auto', help: 'the ip6tables twin: auto (when the namespace has a routable IPv6 address), on (always; Istio --dual-stack), off (IPv4 only: IPv6 bypasses the sidecar)' },
  'outbound-port': { type: 'string', default: String(d.outboundPort), help: 'sidecar outbound port' },
  'inbound-port': { type: 'string', default: String(d.inboundPort), help: 'sidecar inbound port' },
  'proxy-uid': { type: 'string', default: String(d.proxyUid), help: 'uid the sidecar runs as (its traffic is not captured)' },
  'proxy-gid': { type: 'string', default: String(d.proxyGid), help: 'gid the sidecar runs as' },
  'include-inbound-ports': { type: 'string', default: '*', help: "inbound ports redirected to the sidecar (* = all, '' = none)" },
  'exclude-inbound-ports': { type: 'string', default: d.excludeInboundPorts.join(','), help: 'inbound ports reached directly' },
  'include-outbound-ip-ranges': { type: 'string', default: '*', help: 'only these outbound CIDRs are captured (* = all)' },
  'exclude-outbound-ip-ranges': { type: 'string', default: '', help: 'outbound destination CIDRs not captured' },
  'exclude-outbound-ports': { type: 'string', default: '', help: 'outbound destination ports not captured' },
  'exclude-uids': { type: 'string', default: '', help: 'further uids whose outbound traffic is not captured' },
} satisfies Record<string, FlagSpec>;

export const help = flagsHelp(
  `Usage: meshlet iptables [flags]            print the script (pipe it to sh in the pod's network namespace)
       meshlet iptables --apply [flags]    apply it (idempotent: a second run changes nothing)
       meshlet iptables --cleanup [--apply] remove what it added, nothing else

WARNING: applied on a workstation this redirects the machine's own outbound TCP
to port 15001. Run it only inside a pod's (or a test's) network namespace.`,
  SPEC,
);

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

function options(flags: ReturnType<typeof parseFlags<typeof SPEC>>['flags']): InterceptionOptions {
  const ports = (name: keyof typeof SPEC): number[] => list(flags[name] as string | undefined).map((s) => intFlag(name, s));
  const include = (flags['include-inbound-ports'] ?? '*').trim();
  return {
    outboundPort: intFlag('outbound-port', flags['outbound-port']),
    inboundPort: intFlag('inbound-port', flags['inbound-port']),
    proxyUid: intFlag('proxy-uid', flags['proxy-uid']),
    proxyGid: intFlag('proxy-gid', flags['proxy-gid']),
    includeInboundPorts: include === '*' ? '*' : ports('include-inbound-ports'),
    excludeInboundPorts: ports('exclude-inbound-ports'),
    includeOutboundIpRanges: list(flags['include-outbound-ip-ranges']),
    excludeOutboundIpRanges: list(flags['exclude-outbound-ip-ranges']),
    excludeOutboundPorts: ports('exclude-outbound-ports'),
    excludeUids: ports('exclude-uids'),
    ipv6: ipv6Mode(flags.ipv6),
  };
}

function ipv6Mode(v: string | undefined): Ipv6Mode {
  const mode = (v ?? 'auto').trim();
  if (!(IPV6_MODES as readonly string[]).includes(mode)) throw new FlagError(`--ipv6 must be one of ${IPV6_MODES.join(', ')}, got "${mode}"`);
  return mode as Ipv6Mode;
}

export async function run(argv: string[]): Promise<number> {
  exitQuietlyOnEpipe();
  const { flags, positionals } = parseFlags(argv, SPEC);
  if (positionals.length > 0) throw new FlagError(`unexpected argument "${positionals[0]}"`);
  const format = flags.format ?? 'script';
  if (format !== 'script' && format !== 'iptables-save' && format !== 'ip6tables-save') throw new FlagError(`--format must be script, iptables-save or ip6tables-save, got "${format}"`);
  let script: string;
  try {
    const opts = options(flags);
    if (format !== 'script' && !flags.apply && !flags.cleanup) {
      process.stdout.write(interceptionRules(opts, format === 'ip6tables-save' ? 6 : 4));
      return 0;
    }
    script = flags.cleanup ? cleanupScript() : interceptionScript(opts);
  } catch (err) {
    // The rules module refuses bad ports/CIDRs/ids with a RangeError naming the field.
    if (err instanceof RangeError) throw new FlagError(err.message.replace(/^interceptionRules: /, ''));
    throw err;
  }
  if (!flags.apply) {
    process.stdout.write(script);
    return 0;
  }
  return runScript(script, flags.cleanup ? 'cleanup' : 'apply');
}

/** Runs the script with /bin/sh; its iptables errors go to our stderr as they are. */
function runScript(script: string, what: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', script, 'meshlet-iptables'], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (err) => {
      process.stderr.write(`meshlet iptables: cannot run /bin/sh for ${what}: ${err.message}\n`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(0);
      const why = signal !== null ? `killed by ${signal}` : code === 127 ? 'exit 127: iptables/iptables-restore not found (apt-get install iptables)' : `exit ${String(code)}`;
      process.stderr.write(`meshlet iptables: ${what} failed (${why}); it only ever edits ${OWN_CHAINS.join(', ')} and the jumps to them\n`);
      resolve(code ?? 1);
    });
  });
}
