// A command whose output is piped into something that stops reading
// (`meshlet iptables | head -1`, or into a command that does not exist) gets
// EPIPE on stdout. That is the reader's choice, not our failure: exit quietly
// instead of dying on an unhandled 'error' event with a stack trace.
let installed = false;

export function exitQuietlyOnEpipe(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}
