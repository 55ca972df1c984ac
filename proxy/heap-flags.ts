// V8 settings for a sidecar, each measured (issue 17 notes give the runs):
// - `--max-semi-space-size=2`: at 1000 req/s with 64 KiB responses the default
//   young generation (semi-spaces growing to 16 MiB) gave p99 13 ms from long
//   scavenges and 143 MiB peak RSS; 2 MiB semi-spaces gave p99 2.2 ms and
//   110 MiB, at about 6% less peak throughput.
// - `--liftoff-only`: undici parses HTTP/1.1 with llhttp compiled to
//   WebAssembly; V8 first compiles it with its baseline compiler (Liftoff) and
//   then, once hot, again with TurboFan. That second compile is a transient of
//   ~25–30 MiB in a compiler thread's malloc arena, and it set the peak RSS
//   under the first traffic (fresh sidecar, 1000 req/s small: peak 112 → 81 MiB).
//   The CPU cost per request was within the run-to-run noise of a loaded host.
// - `--heap-growing-percent=25`: old space grows by 25% per step instead of
//   V8's default (up to 4x on a small heap), so it is collected earlier: peak
//   after 64 KiB and POST traffic 99 -> 91.5 MiB. It replaced
//   `--optimize-for-size`, which gave about the same heap (90.4 MiB) but also
//   makes V8 optimise less: on a quiet host it cost +40% CPU per request
//   (small 179 vs 128 µs, 64 KiB 634 vs 485 µs, proxy pinned to one core,
//   3 interleaved runs each, 2026-12-02). The loaded-host runs that chose it
//   could not see that cost.
// - `--no-maglev`: Node 24's V8 compiles warm code with its mid-tier Maglev
//   compiler (off by default in Node 20's V8, so a no-op there). On Node 24
//   it added 14 MiB of peak (memory probe, 2 rounds: peak 126.4 -> 111.9 MiB;
//   idle 92.9 -> 91.9); hot code still reaches TurboFan, and CPU per request
//   stayed within run-to-run noise (best of 3: 145 vs 142 µs).
// bin/meshlet.js applies the same flags in its shebang (`npx meshlet`,
// `./bin/meshlet.js`, the container's entrypoint). NODE_OPTIONS cannot carry
// the last three (Node allows only a few V8 flags there).
export const SIDECAR_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2', '--liftoff-only', '--heap-growing-percent=25', '--no-maglev'];
