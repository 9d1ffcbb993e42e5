// The bundle's stand-ins for Node built-ins that load only on first use (scripts/bundle/
// lazy-builtins.ts): taking an export at load loads nothing, using it loads the real module once,
// and what it returns is the real module's.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import http2 from 'node:http2';
import zlib from 'node:zlib';
import { lazyModuleSource } from '../../scripts/bundle/lazy-builtins.ts';

const realRequire = createRequire(import.meta.url);

/** The stand-in of `builtin`, run as CommonJS, with the ids it required. */
function standIn(builtin: string): { exports: Record<string, unknown>; loads: string[] } {
  const loads: string[] = [];
  const module = { exports: {} as Record<string, unknown> };
  const require = (id: string) => {
    loads.push(id);
    return realRequire(id) as unknown;
  };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- runs the generated CommonJS source, as the bundle does
  const run = new Function('module', 'require', lazyModuleSource(builtin)) as (m: typeof module, r: typeof require) => void;
  run(module, require);
  return { exports: module.exports, loads };
}

describe('a lazy built-in', () => {
  it('loads nothing when its exports are taken or listed, as a module does at load', () => {
    const { exports: z, loads } = standIn('zlib');
    const { crc32, gzipSync, constants } = z;
    assert.equal(typeof crc32, 'function', 'what smithy’s checksum module checks at load');
    assert.equal(typeof gzipSync, 'function');
    assert.equal(typeof constants, 'object');
    assert.deepEqual(Object.keys(z), Object.keys(zlib), 'the real module’s export names');
    assert.equal((z as { __esModule?: unknown }).__esModule, undefined);
    assert.deepEqual(loads, []);
  });

  it('loads the real module once, on first use, and gives its results', () => {
    const { exports: z, loads } = standIn('zlib');
    const crc32 = z.crc32 as typeof zlib.crc32;
    assert.equal(crc32('irsa'), zlib.crc32('irsa'));
    assert.equal(z.crc32, crc32, 'the same wrapper on every read');
    assert.equal(z.Gzip, zlib.Gzip, 'a class is the real one');
    assert.ok(new z.Gzip() instanceof zlib.Gzip);
    assert.equal((z.constants as typeof zlib.constants).Z_BEST_SPEED, zlib.constants.Z_BEST_SPEED);
    assert.deepEqual(loads, ['node:zlib']);
  });

  it('reads a plain object through: http2’s constants, taken at load by the AWS SDK', () => {
    const { exports: h, loads } = standIn('http2');
    const constants = h.constants as typeof http2.constants;
    assert.deepEqual(loads, []);
    assert.equal(constants.HTTP2_HEADER_PATH, http2.constants.HTTP2_HEADER_PATH);
    assert.ok('HTTP2_HEADER_METHOD' in constants);
    assert.deepEqual(Object.keys(constants), Object.keys(http2.constants));
    assert.deepEqual(loads, ['node:http2']);
  });
});
