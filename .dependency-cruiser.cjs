// `npm run lint`: the import rules of the architecture guide
// (/work/shared/reference/architecture.md §2, README "Architecture"), checked
// on every CI run. Each rule's comment says which sentence of the guide it
// encodes. Type-only imports count: a type cycle is still a cycle.

// Runtime folders under proxy/, lowest first. A folder may import only folders
// to its left (plus config/model and config/validate), so no two folders can
// ever import each other, even through types. `exchange` is the leaf module of
// per-request types that used to make pipeline⇄upstream⇄layers⇄errors a cycle.
const RUNTIME_ORDER = ['exchange', 'errors', 'layers/balance', 'upstream', 'layers', 'observe', 'snapshot', 'listener', 'pipeline', 'admin', 'xds'];

const ANY_RUNTIME = `^proxy/(${RUNTIME_ORDER.join('|')})/`;

const layering = RUNTIME_ORDER.map((folder, i) => ({
  name: `layering-${folder.replace('/', '-')}`,
  comment: `proxy/${folder} must not import a folder above it (${RUNTIME_ORDER.join(' < ')}): folders form no cycles`,
  severity: 'error',
  from: { path: `^proxy/${folder}/`, pathNot: folder === 'layers' ? '^proxy/layers/balance/' : undefined },
  to: { path: ANY_RUNTIME, pathNot: `^proxy/(${RUNTIME_ORDER.slice(0, i + 1).join('|')})/` },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No import cycles between modules (type-only imports included).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layering,
    {
      name: 'layers-stay-apart',
      comment: 'Layers never import each other; they meet only in pipeline/ (balance pickers are shared by upstream/ and snapshot/).',
      severity: 'error',
      from: { path: '^proxy/layers/([^/]+)/' },
      to: { path: '^proxy/layers/([^/]+)/', pathNot: ['^proxy/layers/$1/', '^proxy/layers/balance/'] },
    },
    {
      name: 'model-imports-nothing',
      comment: 'proxy/config/model is the kernel: it imports nothing of ours.',
      severity: 'error',
      from: { path: '^proxy/config/model/' },
      to: { path: '^(proxy|control-plane|cli|proto)/', pathNot: '^proxy/config/model/' },
    },
    {
      name: 'config-is-self-contained',
      comment: 'proxy/config/** imports only itself (plus proto/gen from wire/): no runtime, no control plane.',
      severity: 'error',
      from: { path: '^proxy/config/' },
      to: { path: '^(proxy|control-plane|cli|proto)/', pathNot: ['^proxy/config/', '^proto/gen/'] },
    },
    {
      name: 'istio-shapes-stay-in-translation',
      comment:
        'Only config/istio, config/translate, the config kernel\'s top-level entry points (proxy/config/*.ts: loadMeshConfig, analyze) and standalone.ts (the file-mode composition root) see Istio shapes; the runtime never does.',
      severity: 'error',
      from: { path: '^proxy/', pathNot: ['^proxy/config/(istio|translate)/', '^proxy/config/[^/]+\\.ts$', '^proxy/standalone\\.ts$', '\\.test\\.ts$'] },
      to: { path: '^proxy/config/(istio|translate)/|^proxy/config/[^/]+\\.ts$' },
    },
    {
      name: 'control-plane-uses-only-the-config-kernel',
      comment: 'control-plane/** may import proxy/config/** (and proto/gen), nothing else of the proxy. Its tests may use the proxy to check what it produces.',
      severity: 'error',
      from: { path: '^control-plane/', pathNot: '\\.test\\.ts$' },
      to: { path: '^(proxy|cli)/', pathNot: '^proxy/config/' },
    },
    {
      name: 'proxy-never-imports-control-plane',
      comment: 'Dependencies point one way: the proxy does not know the control plane or the CLI.',
      severity: 'error',
      from: { path: '^proxy/' },
      to: { path: '^(control-plane|cli)/' },
    },
    {
      name: 'undici-only-in-forward-and-upstream',
      comment: 'Only layers/forward, layers/mirror (the shadow writer) and upstream/ talk to undici.',
      severity: 'error',
      from: { path: '^proxy/', pathNot: ['^proxy/layers/(forward|mirror)/', '^proxy/upstream/', '\\.test\\.ts$'] },
      to: { path: '^node_modules/undici/' },
    },
    {
      name: 'no-undici-index-at-runtime',
      comment: "undici's index also loads fetch/cookies, which pulls in Node's bundled undici (a second llhttp wasm, ~10 MiB RSS): take Pool from upstream/undici-pool (types from 'undici' are fine).",
      severity: 'error',
      from: { path: '^proxy/' },
      to: { path: '^node_modules/undici/index\\.js$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 're2js-loaded-lazily',
      comment: 're2js costs ~1.5 MiB RSS in a sidecar whose config has no regex (issue 17): value imports go through proxy/config/validate/re2js-lazy (types are fine).',
      severity: 'error',
      from: { path: '^proxy/', pathNot: ['^proxy/config/validate/re2js-lazy\\.ts$', '\\.test\\.ts$'] },
      to: { path: '^node_modules/re2js/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'standalone-config-loaded-lazily',
      comment: 'The YAML parser and Istio translation load only when --config is given: proxy/run imports standalone with import() (control-plane mode idle 74 → 70 MiB with re2js, issue 17).',
      severity: 'error',
      from: { path: '^proxy/run\\.ts$' },
      to: { path: '^proxy/standalone\\.ts$', dependencyTypesNot: ['dynamic-import', 'type-only'] },
    },
    {
      name: 'no-zod-in-control-plane-fed-sidecar',
      comment:
        'zod costs ~8.6 MiB RSS in an idle sidecar (issue 17): what a control-plane-fed sidecar loads (proxy/main, the runtime, proxy/xds) validates snapshots with the validator generated from the zod schema (proxy/config/validate/validate-snapshot.ts, npm run gen:validator). zod stays on the control plane, in --config mode (standalone.ts, imported lazily) and in analyze.',
      severity: 'error',
      from: { path: '^proxy/(main\\.ts$|xds/)', pathNot: '\\.test\\.ts$' },
      to: { path: '^node_modules/zod/', reachable: true },
    },
    {
      name: 'grpc-only-in-xds',
      comment: 'Only proxy/xds and control-plane/server speak gRPC or import the generated proto types.',
      severity: 'error',
      from: { path: '^(proxy|control-plane)/', pathNot: ['^proxy/xds/', '^control-plane/server/', '^proxy/config/wire/', '\\.test\\.ts$'] },
      to: { path: '^node_modules/@grpc/|^proto/gen/' },
    },
    {
      name: 'metrics-libraries-only-in-observe',
      comment: 'In the proxy only observe/ imports prom-client and OpenTelemetry.',
      severity: 'error',
      from: { path: '^proxy/', pathNot: ['^proxy/observe/'] },
      to: { path: '^node_modules/(prom-client|@opentelemetry)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js', '.d.ts'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
