import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { imageStage, localPreload } from '../bench/production.ts';

test('imageStage reads the last stage only: its ENV (both forms, continued lines, quotes) and COPY destinations', () => {
  const stage = imageStage(
    [
      '# syntax=docker/dockerfile:1',
      'FROM node:24 AS build',
      'ENV BUILD_ONLY=1',
      'COPY src ./src',
      '',
      'FROM gcr.io/distroless/nodejs24-debian12:nonroot',
      '# a comment',
      'COPY --from=build /lib.so /usr/local/lib/lib.so',
      'ENV A=1 \\',
      '    B="two words" \\',
      '    C=x\\ y',
      'ENV OLD the old form',
      'ENV A=3',
      'CMD ["--a-flag", "dist/main.mjs"]',
    ].join('\n'),
  );
  assert.deepEqual(stage.env, { A: '3', B: 'two words', C: 'x y', OLD: 'the old form' });
  assert.deepEqual(stage.copiedTo, ['/usr/local/lib/lib.so']);
  assert.deepEqual(stage.cmd, ['--a-flag', 'dist/main.mjs']);
});

test('imageStage says what is wrong with a Dockerfile it cannot read', () => {
  assert.throws(() => imageStage('ENV A=1'), /ENV before FROM/);
  assert.throws(() => imageStage('FROM x\nENV A=1 B'), /B is not KEY=VALUE/);
  assert.throws(() => imageStage('FROM x\nENV A="1'), /unterminated quote/);
  assert.throws(() => imageStage('# only a comment'), /no FROM/);
  assert.throws(() => imageStage('FROM x\nCMD node main.mjs'), /not the exec form/);
  assert.throws(() => imageStage('FROM x\nCMD [1]'), /not the exec form/);
});

test("the image's LD_PRELOAD names a file the image's own COPY puts there (ld.so ignores a wrong path, silently)", () => {
  const stage = imageStage(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'));
  const preload = stage.env.LD_PRELOAD;
  assert.ok(preload, 'the image preloads an allocator');
  for (const lib of preload.split(':'))
    assert.ok(stage.copiedTo.includes(lib), `${lib} is copied into the image (copies: ${stage.copiedTo.join(', ')})`);
});

test('localPreload keeps paths that exist here and says how to get a library this machine lacks', () => {
  assert.equal(localPreload(''), '');
  assert.equal(localPreload(process.execPath), process.execPath);
  assert.throws(
    () => localPreload('/usr/local/lib/libnot-a-real-one.so.9'),
    /preloads libnot-a-real-one\.so\.9 .*this machine has none\. Install libnot-a-real-one\.so\.9 .*--operator-env LD_PRELOAD=/,
  );
  assert.throws(() => localPreload('/usr/local/lib/libjemalloc.so.99'), /apt-get install libjemalloc2/);
});
