// Node's built-in modules that the operator's dependencies import when the bundle loads but that a
// normal run never uses: the AWS SDK's HTTP/2 handler (http2) and CRC32 checksums (zlib), the
// SOCKS proxy agent of client-node (dns), jsonpath-plus's script evaluation (vm). Each is loaded on
// first use instead, 0.9 MB less RSS at start (docs/benchmarks.md).
//
// An import of one resolves to a CommonJS stand-in: esbuild reads a CommonJS module's properties
// where they are used, not at import. The stand-in's exports reach the real module only when
// used: a function (a lower-case export) is wrapped, so that taking one at load
// (`const { gzipSync } = require('zlib')`) loads nothing; a plain object (the modules' `constants`)
// is read through; anything else (a class, a value) loads the module when read.
import { createRequire } from 'node:module';
import type { Plugin } from 'esbuild';

export const LAZY_BUILTINS = ['dns', 'http2', 'vm', 'zlib'] as const;

const require = createRequire(import.meta.url);

type Kind = 'function' | 'object' | 'as-is';

function kindOf(name: string, value: unknown): Kind {
  if (typeof value === 'function') return /^[a-z]/.test(name) ? 'function' : 'as-is';
  const proto: unknown = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  const plain = proto === Object.prototype || proto === null;
  return plain ? 'object' : 'as-is';
}

/**
 * The stand-in's CommonJS source. The export names and their kinds are read from the Node that
 * builds the bundle (the image's: both are pinned to the same version); a name it lacks is read
 * from the real module when used.
 */
export function lazyModuleSource(builtin: string): string {
  const real = require(`node:${builtin}`) as Record<string, unknown>;
  const kinds = Object.fromEntries(Object.keys(real).map((k) => [k, kindOf(k, real[k])]));
  return `'use strict';
const kinds = ${JSON.stringify(kinds)};
let real;
const load = () => (real ??= require('node:${builtin}'));
const made = new Map();
const lazyFunction = (k) => function (...args) {
  return new.target ? Reflect.construct(load()[k], args) : load()[k].apply(this, args);
};
const lazyObject = (k) => new Proxy({}, {
  get: (_, p) => load()[k][p],
  has: (_, p) => p in load()[k],
  ownKeys: () => Reflect.ownKeys(load()[k]),
  getOwnPropertyDescriptor: (_, p) => {
    const d = Reflect.getOwnPropertyDescriptor(load()[k], p);
    return d && { ...d, configurable: true };
  },
});
const value = (k) => {
  const kind = kinds[k];
  if (kind !== 'function' && kind !== 'object') return load()[k];
  if (!made.has(k)) made.set(k, kind === 'function' ? lazyFunction(k) : lazyObject(k));
  return made.get(k);
};
module.exports = new Proxy({}, {
  get: (_, k) => (k === '__esModule' ? undefined : typeof k === 'string' && Object.hasOwn(kinds, k) ? value(k) : load()[k]),
  has: (_, k) => Object.hasOwn(kinds, k) || k in load(),
  ownKeys: () => Object.keys(kinds),
  getOwnPropertyDescriptor: (_, k) =>
    Object.hasOwn(kinds, k) ? { configurable: true, enumerable: true, get: () => value(k) } : undefined,
});
`;
}

export const lazyBuiltins: Plugin = {
  name: 'lazy-builtins',
  setup(b) {
    const filter = new RegExp(`^(node:)?(${LAZY_BUILTINS.join('|')})$`);
    // The stand-in's own require() of the real module stays a require() in the bundle.
    b.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin'
        ? { path: args.path, external: true }
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({ contents: lazyModuleSource(args.path), loader: 'js' }));
  },
};
