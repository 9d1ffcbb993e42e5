// The bench's CPU profile summary against a real profile: a bundle built as the operator's is
// (esbuild, one .mjs with a source map), run under node --cpu-prof, its busy loop found in the
// package it came from.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { formatSummary, summariseProfile } from '../bench/profile.ts';

describe('summariseProfile', () => {
  it('charges a bundled package its busy time, by package and by function', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-profile-'));
    try {
      mkdirSync(join(dir, 'node_modules/@acme/spin'), { recursive: true });
      mkdirSync(join(dir, 'src'));
      writeFileSync(
        join(dir, 'node_modules/@acme/spin/index.js'),
        'export function spinFor(ms) { const end = Date.now() + ms; let x = 0; while (Date.now() < end) x += Math.sqrt(x + 1); return x; }\n',
      );
      writeFileSync(join(dir, 'src/main.ts'), "import { spinFor } from '@acme/spin';\nconsole.log(spinFor(300) > 0);\n");
      await build({
        entryPoints: [join(dir, 'src/main.ts')],
        outfile: join(dir, 'dist/main.mjs'),
        bundle: true,
        platform: 'node',
        format: 'esm',
        minify: true,
        sourcemap: true,
        logLevel: 'error',
      });
      const profiles = join(dir, 'profiles');
      execFileSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${profiles}`, join(dir, 'dist/main.mjs')]);
      const s = summariseProfile(profiles, join(dir, 'dist/main.mjs.map'));
      const spin = s.byPackage.find(([name]) => name === '@acme/spin')?.[1] ?? 0;
      assert.ok(spin > 0.5 * s.busyMs, formatSummary(s));
      assert.ok(
        s.byFunction.some(([name]) => name.startsWith('spinFor (@acme/spin/index.js:1)')),
        formatSummary(s),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says so when there is no profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'irsa-profile-'));
    try {
      assert.throws(() => summariseProfile(dir, join(dir, 'none.map')), /no \.cpuprofile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
