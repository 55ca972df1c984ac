// The upstream as its own process, so its event loop never delays the load
// generator's timers (both share CPU 0).
import { startUpstream } from '../upstream-server.js';
import { announce, peerArgs } from './peer-args.js';

const args = peerArgs(process.argv.slice(2));
const up = await startUpstream(Number(args.get('port') ?? '0'));
announce(up.port);
process.on('SIGTERM', () => { void up.close().then(() => process.exit(0)); });
