// What goes into the operator's bundle (scripts/bundle/options.ts): of @kubernetes/client-node
// only KubeConfig and what it needs, no generated models or API clients, and no undici; and the
// AWS SDK's XML parser replaced by ours, and Node built-ins a run does not use loaded on first
// use. Each of them is measured memory (docs/benchmarks.md); this
// keeps a new import from bringing them back.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { LAZY_BUILTINS } from '../../scripts/bundle/lazy-builtins.ts';
import { OPERATOR_BUNDLE } from '../../scripts/bundle/options.ts';

describe('the operator bundle', () => {
  it('holds KubeConfig but not client-node’s generated layer or undici, parses XML with ours, and stays under 2 MB', async () => {
    const { metafile, outputFiles } = await build({
      ...OPERATOR_BUNDLE,
      write: false,
      metafile: true,
      outfile: 'main.mjs',
      logLevel: 'silent',
    });
    const inputs = Object.keys(metafile.outputs['main.mjs']?.inputs ?? {});
    assert.ok(
      inputs.some((f) => f.endsWith('@kubernetes/client-node/dist/config.js')),
      'KubeConfig is in',
    );
    assert.deepEqual(
      inputs.filter((f) => /client-node\/dist\/gen\/(models|apis)\//.test(f)),
      [],
      'no generated models or API clients',
    );
    assert.deepEqual(
      inputs.filter((f) => f.includes('node_modules/undici/')),
      [],
      'no undici',
    );
    assert.ok(
      inputs.some((f) => f.endsWith('scripts/bundle/undici-unused.ts')),
      'the stub stands in for undici',
    );
    assert.ok(
      inputs.includes('src/aws/xml-parser.ts') && inputs.includes('scripts/bundle/xml-builder.ts'),
      'the AWS SDK parses XML with src/aws/xml-parser.ts',
    );
    assert.deepEqual(
      inputs.filter((f) => f.startsWith('lazy-builtin:')).sort(),
      LAZY_BUILTINS.map((b) => `lazy-builtin:${b}`).sort(),
      'built-ins a run does not use load on first use',
    );
    const bytes = outputFiles[0]?.contents.byteLength ?? 0;
    assert.ok(bytes < 2_000_000, `bundle is ${bytes} bytes`);
  });
});
