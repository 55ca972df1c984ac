// The rig's network: one "node" namespace holding a bridge, and one namespace
// per pod joined to it by a veth pair made directly between the two, so
// nothing ever appears in (or routes to) the root namespace.
import { mkdirSync, writeFileSync } from 'node:fs';
import { runCommand } from './run-command.js';
import { NETNS_ETC } from './rig-cleanup.js';

export const NODE_IP = '10.244.0.1';
export const POD_CIDR_PREFIX = '10.244.0.';
export const VIP_CIDR = '10.96.0.0/16';
export const SERVICE_DOMAINS: readonly string[] = ['', '.default', '.default.svc', '.default.svc.cluster.local'];

// The machine's IPv4 sysctls are copied into a new namespace (a Docker host has
// ip_forward=1, rp_filter=1), so every namespace sets its own. IPv6 is off:
// the rig's pods are IPv4 (test/e2e/scenarios/interception-ipv6.test.ts turns
// it on in its own pods to prove the ip6tables twin of the rules).
const COMMON_SYSCTLS = [
  'net/ipv4/ip_forward=0',
  'net/ipv6/conf/all/disable_ipv6=1',
  'net/ipv6/conf/default/disable_ipv6=1',
];
const NODE_SYSCTLS = [
  ...COMMON_SYSCTLS,
  // Bridged pod-to-pod frames must not meet netfilter in the node namespace.
  'net/bridge/bridge-nf-call-iptables=0',
  'net/bridge/bridge-nf-call-ip6tables=0',
  'net/bridge/bridge-nf-call-arptables=0',
];
const POD_SYSCTLS = [...COMMON_SYSCTLS, 'net/ipv4/conf/all/rp_filter=0', 'net/ipv4/conf/default/rp_filter=0'];

function sysctlScript(settings: readonly string[]): string {
  // A missing knob (br_netfilter not loaded) is fine: then there is nothing to turn off.
  return settings
    .map((s) => {
      const [key, value] = s.split('=');
      return `[ ! -e /proc/sys/${key} ] || echo ${value} > /proc/sys/${key}`;
    })
    .join('\n');
}

/** /etc/hosts for one pod: every service name (all DNS forms) to its VIP, the pod's own name to its IP. */
export function hostsFile(podName: string, podIp: string, vips: ReadonlyMap<string, string>): string {
  const lines = ['127.0.0.1 localhost', `${podIp} ${podName}`];
  for (const [service, vip] of vips) lines.push(`${vip} ${SERVICE_DOMAINS.map((d) => service + d).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

export async function createNode(nodeNs: string): Promise<void> {
  await runCommand('ip', ['netns', 'add', nodeNs]);
  const script = [
    'set -e',
    sysctlScript(NODE_SYSCTLS),
    'ip link set lo up',
    'ip link add br0 type bridge',
    `ip addr add ${NODE_IP}/24 dev br0`,
    'ip link set br0 up',
    // A VIP that escapes capture lands here and gets a RST: tests fail fast.
    `ip route add local ${VIP_CIDR} dev lo`,
  ].join('\n');
  await runCommand('ip', ['netns', 'exec', nodeNs, 'sh', '-c', script]);
}

export interface PodNet {
  readonly ns: string;
  readonly name: string;
  readonly ip: string;
  /** Node-side veth name (veth<index>). */
  readonly veth: string;
}

/**
 * Creates the pod namespace, its hosts/resolv.conf, the veth pair to the node
 * bridge, addresses and routes, and runs `natScript` (proxy/interception's
 * interceptionScript, which touches only Meshlet's chains); null = no rules.
 */
export async function createPod(nodeNs: string, pod: PodNet, hosts: string, natScript: string | null): Promise<void> {
  // Written before the namespace exists so no `ip netns exec` ever misses them.
  const etc = `${NETNS_ETC}/${pod.ns}`;
  mkdirSync(etc, { recursive: true });
  writeFileSync(`${etc}/hosts`, hosts);
  // Nothing in a pod may ask the machine's real DNS server.
  writeFileSync(`${etc}/resolv.conf`, 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  await runCommand('ip', ['netns', 'add', pod.ns]);
  await runCommand('ip', ['-n', nodeNs, 'link', 'add', pod.veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', pod.ns]);
  await runCommand('ip', ['-n', nodeNs, 'link', 'set', pod.veth, 'master', 'br0', 'up']);
  const script = [
    'set -e',
    sysctlScript(POD_SYSCTLS),
    'ip link set lo up',
    `ip addr add ${pod.ip}/24 dev eth0`,
    'ip link set eth0 up',
    // Without a route to the VIPs connect() fails with ENETUNREACH before the
    // nat OUTPUT hook ever sees the packet.
    `ip route add ${VIP_CIDR} via ${NODE_IP}`,
    natScript ?? '',
  ].join('\n');
  await runCommand('ip', ['netns', 'exec', pod.ns, 'sh', '-c', script]);
}
