// A loopback TCP port whose connects hang: a socket that listens (backlog 0)
// but never accepts, with its one queue slot taken. Linux then drops further
// SYNs, so a connect to it neither succeeds nor is refused until the caller's
// own connect timeout fires. Node cannot listen without accepting, so the
// socket is made with libc through koffi (already a dependency, for
// SO_ORIGINAL_DST). Linux only.
import { createRequire } from 'node:module';
import { connect, type Socket } from 'node:net';

interface Libc {
  socket(domain: number, type: number, proto: number): number;
  bind(fd: number, addr: Buffer, len: number): number;
  listen(fd: number, backlog: number): number;
  getsockname(fd: number, addr: Buffer, len: number[]): number;
  close(fd: number): number;
}

function libc(): Libc {
  const koffi = createRequire(import.meta.url)('koffi') as { load(p: string): { func(d: string): unknown } };
  const lib = koffi.load('libc.so.6');
  return {
    socket: lib.func('int socket(int, int, int)') as Libc['socket'],
    bind: lib.func('int bind(int, const uint8_t *addr, uint32_t len)') as Libc['bind'],
    listen: lib.func('int listen(int, int)') as Libc['listen'],
    getsockname: lib.func('int getsockname(int, _Out_ uint8_t *addr, _Inout_ uint32_t *len)') as Libc['getsockname'],
    close: lib.func('int close(int)') as Libc['close'],
  };
}

export interface UnacceptingListener {
  readonly port: number;
  close(): void;
}

export async function unacceptingListener(): Promise<UnacceptingListener> {
  const c = libc();
  const fd = c.socket(2 /* AF_INET */, 1 /* SOCK_STREAM */, 0);
  if (fd < 0) throw new Error('socket() failed');
  // sockaddr_in: family (host order), port 0 (network order), 127.0.0.1
  const addr = Buffer.alloc(16);
  addr.writeUInt16LE(2, 0);
  addr.set([127, 0, 0, 1], 4);
  if (c.bind(fd, addr, 16) !== 0 || c.listen(fd, 0) !== 0) {
    c.close(fd);
    throw new Error('bind/listen failed');
  }
  const out = Buffer.alloc(16);
  c.getsockname(fd, out, [16]);
  const port = out.readUInt16BE(2);
  // Fill the accept queue (backlog 0 holds one): later SYNs are dropped.
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    fillers.push(s);
  }
  await new Promise((r) => fillers[0]!.once('connect', r));
  return {
    port,
    close: () => {
      for (const s of fillers) s.destroy();
      c.close(fd);
    },
  };
}
