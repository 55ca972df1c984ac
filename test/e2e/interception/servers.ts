// Real servers for the interception scenarios, started inside rig pods the
// way a workload runs them: redis-server, PostgreSQL (initdb + postgres as the
// unprivileged `postgres` user), nginx serving TLS by SNI, a
// server-first banner protocol, and an app with HTTP on 9080 + TCP echo on 9090.
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PodProcess, PodRig } from '../rig/index.js';
import { runCommand } from '../rig/index.js';

export const APP_UID = 1000;
const NGINX = '/usr/sbin/nginx';

/** Debian packages the scenarios need, with the binary each provides; missing ones are named loudly. */
export function missingServerBinaries(): string[] {
  const need: Array<[string, string]> = [
    ['/usr/bin/redis-server', 'redis-server'],
    ['/usr/bin/redis-cli', 'redis-tools'],
    ['/usr/bin/psql', 'postgresql-client'],
    ['/usr/bin/openssl', 'openssl'],
    [NGINX, 'nginx'],
    ['/usr/bin/curl', 'curl'],
  ];
  const missing = need.filter(([bin]) => !existsSync(bin)).map(([, pkg]) => pkg);
  if (postgresBin('initdb') === undefined) missing.push('postgresql');
  return missing;
}

export function postgresBin(name: 'initdb' | 'postgres'): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  for (const v of readdirSync(root).sort().reverse()) {
    const p = join(root, v, 'bin', name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export async function postgresUid(): Promise<number> {
  const r = await runCommand('id', ['-u', 'postgres'], { allowFail: true });
  const uid = Number(r.stdout.trim());
  if (r.code !== 0 || !Number.isInteger(uid)) throw new Error('no `postgres` user (the postgresql package creates it)');
  return uid;
}

/** A self-signed certificate for both SNI names the scenarios use. */
export async function makeCert(dir: string): Promise<{ cert: string; key: string }> {
  const cert = join(dir, 'tls.crt');
  const key = join(dir, 'tls.key');
  await runCommand('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', key, '-out', cert,
    '-subj', '/CN=secure.example.com', '-addext', 'subjectAltName=DNS:secure.example.com,DNS:tls.example.com',
  ], { timeoutMs: 30_000 });
  return { cert, key };
}

export function startRedis(rig: PodRig, pod: string, dir: string): PodProcess {
  return rig.spawn(pod, {
    uid: APP_UID,
    cmd: '/usr/bin/redis-server',
    args: ['--port', '6379', '--bind', '0.0.0.0', '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--dir', dir],
  });
}

/** initdb (trust auth, user `test`) then postgres on 0.0.0.0:5432, both as the postgres user. */
export async function startPostgres(rig: PodRig, pod: string, dir: string): Promise<PodProcess> {
  const uid = await postgresUid();
  const data = join(dir, 'pgdata');
  const sock = join(dir, 'pgsock');
  mkdirSync(sock, { recursive: true });
  chmodSync(sock, 0o777); // mkdir's mode is cut by the umask
  const init = await rig.exec(pod, postgresBin('initdb')!, ['-D', data, '-U', 'test', '--auth=trust', '--no-sync'], { uid, timeoutMs: 90_000 });
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  return rig.spawn(pod, {
    uid,
    cmd: postgresBin('postgres')!,
    args: ['-D', data, '-k', sock, '-p', '5432', '-c', 'listen_addresses=*', '-c', 'fsync=off'],
  });
}

/**
 * nginx (Debian's) terminating TLS on 8443 and answering `GET /who` with this
 * pod's name. A real server that serves connections concurrently: openssl
 * s_server handles one at a time, so under load handshakes queued behind each
 * other and curl timed out. Runs unprivileged in the foreground, logs to stderr.
 */
export function startTlsServer(rig: PodRig, pod: string, dir: string, tls: { cert: string; key: string }): PodProcess {
  const root = join(dir, `nginx-${pod}`);
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o777); // nginx (uid APP_UID) creates its temp dirs and pid file here
  const conf = join(root, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${root}/nginx.pid;
error_log stderr notice;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${root}/body; proxy_temp_path ${root}/proxy; fastcgi_temp_path ${root}/fastcgi;
  uwsgi_temp_path ${root}/uwsgi; scgi_temp_path ${root}/scgi;
  server {
    listen 8443 ssl;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    location = /who { default_type text/plain; return 200 "${pod}\\n"; }
  }
}
`,
  );
  return rig.spawn(pod, { uid: APP_UID, cmd: NGINX, args: ['-e', 'stderr', '-p', root, '-c', conf, '-g', 'daemon off;'] });
}

/** Resolves when the pod's nginx answers on 8443 (polled from inside the pod over loopback). */
export async function tlsServerReady(rig: PodRig, pod: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    const r = await rig.exec(pod, 'curl', ['-sk', '--max-time', '2', 'https://127.0.0.1:8443/who']);
    if (r.stdout.trim() === pod) return;
    last = r.stderr.trim();
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`nginx in ${pod} did not answer on 8443 within ${timeoutMs} ms: ${last}`);
}

// A server-first protocol (SMTP-like): the server speaks first; the client never does until it has read the banner.
const BANNER_JS = `require('net').createServer((s) => { s.write('220 banner.example ready\\r\\n'); s.on('data', (d) => s.write('250 ' + d)); s.on('error', () => {}); }).listen(2525, () => console.log('banner listening'));`;

export function startBanner(rig: PodRig, pod: string): PodProcess {
  return rig.spawn(pod, { uid: APP_UID, cmd: process.execPath, args: ['-e', BANNER_JS] });
}

// One pod, two ports: HTTP on 9080 and a TCP echo on 9090.
const WEB_JS = `const os = process.env.POD_NAME;
require('http').createServer((q, r) => r.end('web ' + os + ' ' + q.url + '\\n')).listen(9080);
require('net').createServer((s) => { s.pipe(s); s.on('error', () => {}); }).listen(9090, () => console.log('web listening'));`;

export function startWeb(rig: PodRig, pod: string): PodProcess {
  return rig.spawn(pod, { uid: APP_UID, cmd: process.execPath, args: ['-e', WEB_JS] });
}

/** A scripted TCP exchange from inside a pod: send `bytes` bytes, read until as many came back, close. Prints `ECHO <n>` or `ERR <code>`. */
export const ECHO_CLIENT_JS = `const [host, port, n] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const s = require('net').connect(port, host); let got = 0;
s.on('connect', () => s.write(Buffer.alloc(n, 120)));
s.on('data', (d) => { got += d.length; if (got >= n) s.end(); });
s.on('close', () => console.log(got >= n ? 'ECHO ' + got : 'ERR short ' + got));
s.on('error', (e) => console.log('ERR ' + e.code));`;

/** Reads a server-first banner, answers one line, prints what came back. */
export const BANNER_CLIENT_JS = `const s = require('net').connect(Number(process.argv[2]), process.argv[1]); let buf = '';
s.setTimeout(5000, () => { console.log('ERR timeout ' + JSON.stringify(buf)); s.destroy(); });
s.on('data', (d) => { buf += d; if (buf.includes('220 ') && !buf.includes('250 ')) s.write('HELO e2e\\r\\n'); if (buf.includes('250 ')) { console.log(JSON.stringify(buf)); s.end(); } });
s.on('close', () => { if (!buf.includes('250 ')) console.log('ERR closed ' + JSON.stringify(buf)); });
s.on('error', (e) => console.log('ERR ' + e.code));`;

/** Connects, stays silent for argv[3] ms (longer than the detection timeout), then sends one HTTP/1.1 request for argv[4] with Host slow.example.com; prints the status line and body. */
export const SLOW_HTTP_CLIENT_JS = `const s = require('net').connect(Number(process.argv[2]), process.argv[1]); let buf = '';
s.setTimeout(8000, () => { console.log('ERR timeout ' + JSON.stringify(buf)); s.destroy(); });
s.on('connect', () => setTimeout(() => s.write('GET ' + process.argv[4] + ' HTTP/1.1\\r\\nHost: slow.example.com:8080\\r\\nConnection: close\\r\\n\\r\\n'), Number(process.argv[3])));
s.on('data', (d) => { buf += d; });
s.on('close', () => console.log(JSON.stringify(buf.split('\\r\\n')[0] + ' | ' + buf.slice(buf.indexOf('\\r\\n\\r\\n') + 4).trim())));
s.on('error', (e) => console.log('ERR ' + e.code));`;
