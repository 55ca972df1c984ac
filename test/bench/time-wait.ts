// Ephemeral-port pressure in a pod, read from `ss`: each TCP connection a pod
// closes first leaves a TIME_WAIT socket for 60 s, and every connection from
// one source address to one destination ip:port shares that pair's ephemeral
// range (net.ipv4.ip_local_port_range). A benchmark that fills a pair's range
// measures the kernel's port allocator, not the proxy (see
// interception-client.ts), so the interception bench reads this after its
// short-connection cells and refuses figures taken near exhaustion.

/** The destination (ip:port) holding most TIME_WAIT sockets, from `ss -Htan state time-wait` output. */
export function busiestTimeWaitDestination(ssOutput: string): { readonly destination: string; readonly count: number } {
  const counts = new Map<string, number>();
  let best = { destination: '', count: 0 };
  for (const line of ssOutput.split('\n')) {
    // Recv-Q Send-Q Local:Port Peer:Port (the state filter drops the State column).
    const cols = line.trim().split(/\s+/);
    if (cols.length < 4) continue;
    const peer = cols[cols.length - 1]!;
    const n = (counts.get(peer) ?? 0) + 1;
    counts.set(peer, n);
    if (n > best.count) best = { destination: peer, count: n };
  }
  return best;
}

/** Size of the ephemeral range from `/proc/sys/net/ipv4/ip_local_port_range` ("32768\t60999"). */
export function ephemeralRangeSize(procText: string): number {
  const [lo, hi] = procText.trim().split(/\s+/).map(Number);
  if (lo === undefined || hi === undefined || !Number.isInteger(lo) || !Number.isInteger(hi) || hi < lo) throw new Error(`unreadable ip_local_port_range: ${JSON.stringify(procText)}`);
  return hi - lo + 1;
}
