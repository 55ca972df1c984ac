// The last line of defence for long-running commands: an exception nothing
// caught is printed with its stack and the process exits 70 (EX_SOFTWARE),
// because a process in an unknown state must not limp on. Requests never get
// here: every listener answers bad input itself.
export function installLastResort(name: string, onFatal?: (kind: string, detail: string) => void): void {
  const die =
    (kind: string) =>
    (err: unknown): void => {
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      onFatal?.(kind, detail);
      process.stderr.write(`${name}: ${kind}: ${detail}\n`);
      process.exit(70);
    };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled promise rejection'));
}
