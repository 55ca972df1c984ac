// `meshlet <command> [flags]`: one CLI, one module per subcommand, each
// exporting `run(argv) → exit code` and `help`.
const COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number>; help: string }>> = {
  proxy: () => import('./commands/proxy.js'),
  'control-plane': () => import('./commands/control-plane.js'),
  status: () => import('./commands/status.js'),
  config: () => import('./commands/config.js'),
  tap: () => import('./commands/tap.js'),
  demo: () => import('./commands/demo.js'),
  iptables: () => import('./commands/iptables.js'),
  experiment: () => import('./commands/experiment.js'),
};

const USAGE = `meshlet — a service mesh sidecar and control plane speaking Istio's traffic API

Usage: meshlet <command> [flags]

Commands:
  proxy           run the sidecar proxy (from --config files or --control-plane)
  control-plane   run the control plane: watch Istio YAML, push config to sidecars over gRPC
  status          list connected sidecars and their config versions (like istioctl proxy-status)
  config NODE     print the config the control plane would send to NODE
  tap             stream live requests from a sidecar's admin port (like linkerd tap)
  demo            start the demo mesh on loopback and show it working (npm start)
  iptables        print the pod interception rules (iptables-restore format) for an init container
  experiment      run a fault-injection experiment with a hypothesis and a report (run FILE | compare A B)

Run 'meshlet <command> --help' for the flags of a command. Every flag can also
be set from the environment as MESHLET_<FLAG> (e.g. --outbound-port → MESHLET_OUTBOUND_PORT).
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  const load = COMMANDS[cmd];
  if (load === undefined) {
    process.stderr.write(`meshlet: unknown command "${cmd}"\n\n${USAGE}`);
    return 2;
  }
  const mod = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(mod.help);
    return 0;
  }
  return mod.run(rest);
}
