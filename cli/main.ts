// `meshlet <command> [flags]`: one CLI, one module per subcommand, each
// exporting `run(argv) → exit code` and `help`.
import { closestName } from '../proxy/config/validate/did-you-mean.js';
import { FlagError } from './flags.js';

const COMMANDS: Record<string, () => Promise<{ run(argv: string[]): Promise<number>; help: string }>> = {
  proxy: () => import('./commands/proxy.js'),
  'control-plane': () => import('./commands/control-plane.js'),
  status: () => import('./commands/status.js'),
  analyze: () => import('./commands/analyze.js'),
  config: () => import('./commands/config.js'),
  tap: () => import('./commands/tap.js'),
  demo: () => import('./commands/demo.js'),
  iptables: () => import('./commands/iptables.js'),
  experiment: () => import('./commands/experiment.js'),
  inject: () => import('./commands/inject.js'),
  crds: () => import('./commands/crds.js'),
};

const USAGE = `meshlet — a service mesh sidecar and control plane speaking Istio's traffic API

Usage: meshlet <command> [flags]

Commands (and meshlet --version):
  proxy           run the sidecar proxy (from --config files or --control-plane)
  control-plane   run the control plane: watch Istio YAML, push config to sidecars over gRPC
  status          list connected sidecars and their config versions (like istioctl proxy-status)
  analyze PATH... validate Istio YAML offline: every error and warning at once (like istioctl analyze)
  config NODE     print the config the control plane would send to NODE
  tap             stream live requests from a sidecar's admin port (like linkerd tap)
  demo            start the demo mesh on loopback and show it working (npm start)
  iptables        print or apply (--apply) the pod interception rules; --cleanup removes them
  experiment      run a fault-injection experiment with a hypothesis and a report (run FILE | compare A B)
  inject          add the sidecar to Kubernetes workloads in YAML (like istioctl kube-inject)
  crds            print the Istio networking CRDs, generated from the loader's schemas

Run 'meshlet <command> --help' for the flags of a command. Every flag can also
be set from the environment as MESHLET_<FLAG> (e.g. --outbound-port → MESHLET_OUTBOUND_PORT).
`;

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-v' || cmd === 'version') {
    process.stdout.write(`meshlet ${await packageVersion()} (node ${process.version})\n`);
    return 0;
  }
  const load = COMMANDS[cmd];
  if (load === undefined) {
    const close = closestName(cmd.replace(/^-+/, ''), [...Object.keys(COMMANDS), 'version', 'help']);
    const hint = close !== undefined ? ` (did you mean \`${close === 'version' && cmd.startsWith('-') ? '--version' : close}\`?)` : '';
    process.stderr.write(`meshlet: unknown command "${cmd}"${hint}\n\n${USAGE}`);
    return 2;
  }
  const mod = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(mod.help);
    return 0;
  }
  try {
    return await mod.run(rest);
  } catch (err) {
    // A bad flag value found after parsing (an integer that is not one, ...): one line, no stack.
    if (err instanceof FlagError) {
      process.stderr.write(`meshlet ${cmd}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** The version in package.json, read at run time so dist/ never disagrees with it. */
async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  for (const rel of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'meshlet' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not there from this build layout; try the next
    }
  }
  return 'unknown';
}
