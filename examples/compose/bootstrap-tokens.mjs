// One-shot bootstrap for the compose examples (run as root by the
// `meshlet-bootstrap` service before anything else): creates the shared state
// directory with the control plane's CA directory and one random bootstrap
// token per workload, owned by the sidecars' uid. Runs again harmlessly: an
// existing token list is kept, so restarts do not invalidate running sidecars.
// Usage: node bootstrap-tokens.mjs STATE_DIR NODE_ID=SERVICE_ACCOUNT...
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const PROXY_UID = 1337;
const [stateDir, ...workloads] = process.argv.slice(2);
if (!stateDir || workloads.length === 0 || workloads.some((w) => !/^[a-z0-9-]+=[a-z0-9-]+$/.test(w))) {
  console.error('usage: bootstrap-tokens.mjs STATE_DIR NODE_ID=SERVICE_ACCOUNT...');
  process.exit(2);
}
const own = (path) => {
  // Root hands the files to the sidecars' and control plane's uid; anyone else already owns them.
  if (process.getuid?.() === 0) chownSync(path, PROXY_UID, PROXY_UID);
};
const tokensDir = join(stateDir, 'tokens');
const caDir = join(stateDir, 'ca');
for (const dir of [stateDir, tokensDir, caDir]) {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  own(dir);
}
const listFile = join(tokensDir, 'bootstrap-tokens.yaml');
if (existsSync(listFile)) {
  console.log(`meshlet-bootstrap: ${listFile} exists, kept`);
  process.exit(0);
}
const write = (path, text, mode) => {
  writeFileSync(path, text, { mode });
  own(path);
};
const entries = workloads.map((w) => {
  const [nodeId, serviceAccount] = w.split('=');
  const token = randomBytes(24).toString('hex');
  write(join(tokensDir, `${nodeId}.token`), `${token}\n`, 0o600);
  return { token, nodeId, namespace: 'default', serviceAccount };
});
// An operator credential for `meshlet status` / `meshlet experiment` from inside the network.
const admin = { token: randomBytes(24).toString('hex'), nodeId: 'operator', namespace: 'meshlet-system', serviceAccount: 'operator', admin: true };
write(join(tokensDir, 'admin.token'), `${admin.token}\n`, 0o600);
// JSON is YAML: no YAML library needed in this stand-alone script.
write(listFile, `${JSON.stringify([...entries, admin], null, 1)}\n`, 0o600);
console.log(`meshlet-bootstrap: ${entries.length} workload tokens and an admin token in ${tokensDir}`);
