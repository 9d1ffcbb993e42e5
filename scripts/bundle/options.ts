// How the operator is bundled (scripts/build.ts writes it; a tooling test checks what goes in).
//
// Of @kubernetes/client-node the operator uses only KubeConfig (src/kube/http.ts). The package
// declares no `sideEffects`, so a bundler must keep every module it reaches, generated models and
// API clients included (1.3 MB); its modules only define classes and functions (the one that does
// more, polyfill.js, sets a global File for Node 18), so they are marked free of side effects and
// what is not used is left out. undici, which KubeConfig imports for the fetch layer the operator
// does not use, is replaced by a stub that throws (undici-unused.ts). 3.6 -> 1.5 MB. And node:http
// is loaded through require() (node-http.ts), which keeps Node's own copy of undici unloaded.
// The AWS SDK's XML parser is replaced by src/aws/xml-parser.ts (xml-builder.ts): same output,
// without a string per character read. Node built-ins a normal run does not use (http2, zlib, dns,
// vm) load on first use (lazy-builtins.ts).
import type { BuildOptions, Plugin } from 'esbuild';
import { lazyBuiltins } from './lazy-builtins.ts';

const CLIENT_NODE = '/@kubernetes/client-node/dist/';

const nodeHttpThroughRequire: Plugin = {
  name: 'node-http-through-require',
  setup(b) {
    const shim = new URL('./node-http.ts', import.meta.url).pathname;
    b.onResolve({ filter: /^(node:)?http$/ }, (args) => (args.importer === shim ? undefined : { path: shim }));
  },
};

const clientNodeWithoutSideEffects: Plugin = {
  name: 'client-node-without-side-effects',
  setup(b) {
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData === 'resolved' || !args.importer.includes(CLIENT_NODE)) return undefined;
      const found = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: 'resolved',
      });
      return found.path.includes(CLIENT_NODE) ? { ...found, sideEffects: false } : found;
    });
  },
};

/** The AWS SDK's XML parser replaced by src/aws/xml-parser.ts (xml-builder.ts). */
const slicingXmlParser: Plugin = {
  name: 'slicing-xml-parser',
  setup(b) {
    const shim = new URL('./xml-builder.ts', import.meta.url).pathname;
    b.onResolve({ filter: /^@aws-sdk\/xml-builder$/ }, (args) => (args.importer === shim ? undefined : { path: shim }));
  },
};

export const OPERATOR_BUNDLE: BuildOptions = {
  entryPoints: [new URL('../../src/main.ts', import.meta.url).pathname],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  define: { 'import.meta.env': '__irsaImportMetaEnv' },
  banner: {
    js: [
      // Some bundled CommonJS packages call require(); give the ES module one.
      "import { createRequire as __irsaCreateRequire } from 'node:module'; const require = __irsaCreateRequire(import.meta.url);",
      "const __irsaImportMetaEnv = { IAM_DATA_ROOT: new URL('./iam-data/', import.meta.url).href };",
    ].join('\n'),
  },
  alias: { undici: new URL('./undici-unused.ts', import.meta.url).pathname },
  plugins: [nodeHttpThroughRequire, clientNodeWithoutSideEffects, slicingXmlParser, lazyBuiltins],
  logLevel: 'warning',
};
