// Builds the operator for production: one minified ES module, dist/main.mjs, with its
// dependencies bundled in. Loading one minified file instead of the packages' thousands of files
// keeps about 45 MB of RSS off the operator (see docs/benchmarks.md); the image needs no
// node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: [new URL('../src/main.ts', import.meta.url).pathname],
  outfile: new URL('../dist/main.mjs', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  minify: true,
  sourcemap: true,
  legalComments: 'linked',
  // Some bundled CommonJS packages call require(); give the ES module one.
  banner: {
    js: "import { createRequire as __irsaCreateRequire } from 'node:module'; const require = __irsaCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
console.log('wrote dist/main.mjs');
