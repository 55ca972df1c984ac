// V8 heap settings for a sidecar. Measured with the benchmark's open-loop
// generator at 1000 req/s (64 KiB responses): the default young generation
// (semi-spaces growing to 16 MiB) gave p99 13 ms from long scavenges and
// 143 MiB peak RSS; 2 MiB semi-spaces gave p99 2.2 ms and 110 MiB, at about
// 6% less peak throughput. bin/meshlet.js applies the same flags in its
// shebang (`npx meshlet`, `./bin/meshlet.js`); `node bin/meshlet.js` callers
// and containers pass them (k8s/ sets NODE_OPTIONS).
export const SIDECAR_V8_FLAGS: readonly string[] = ['--max-semi-space-size=2'];
