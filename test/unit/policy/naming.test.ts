import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { deriveRoleName, INLINE_POLICY_NAME, ROLE_NAME_MAX } from '../../../src/policy/naming.ts';

const IAM_ROLE_NAME = /^[\w+=,.@-]{1,64}$/;

describe('deriveRoleName', () => {
  it('joins prefix, cluster, namespace and name with dots when short', () => {
    assert.equal(deriveRoleName('irsa-', 'prod', 'team', 'app'), 'irsa-prod.team.app');
    assert.equal(deriveRoleName('', 'prod', 'team', 'app'), 'prod.team.app');
  });

  it('is deterministic', () => {
    const long = 'x'.repeat(80);
    assert.equal(deriveRoleName('p-', 'c', 'ns', long), deriveRoleName('p-', 'c', 'ns', long));
    assert.equal(deriveRoleName('p-', 'c', 'ns', 'app'), deriveRoleName('p-', 'c', 'ns', 'app'));
  });

  it("ROLE_NAME_MAX is IAM's 64", () => {
    assert.equal(ROLE_NAME_MAX, 64);
  });

  const shapes: { name: string; args: [string, string, string, string] }[] = [
    { name: 'short', args: ['', 'c', 'n', 'a'] },
    { name: 'exactly 64', args: ['', 'c'.repeat(20), 'n'.repeat(20), 'a'.repeat(22)] },
    { name: '65', args: ['', 'c'.repeat(20), 'n'.repeat(20), 'a'.repeat(23)] },
    { name: 'max-length Kubernetes names', args: ['irsa-operator-prefix-', 'c'.repeat(100), 'n'.repeat(63), 'a'.repeat(253)] },
    { name: 'characters IAM refuses', args: ['p/', 'c:1', 'n s', 'a*b#c'] },
    { name: 'long with refused characters', args: ['', 'c', 'n', '/'.repeat(200)] },
    { name: 'unicode', args: ['', 'c', 'n', 'é'.repeat(70)] },
  ];
  for (const tc of shapes) {
    it(`is a valid IAM role name of at most 64 characters: ${tc.name}`, () => {
      const got = deriveRoleName(...tc.args);
      assert.ok(got.length <= 64, `${got} is ${got.length} characters`);
      assert.match(got, IAM_ROLE_NAME);
    });
  }

  it('keeps a 64-character name whole', () => {
    const got = deriveRoleName('', 'c'.repeat(20), 'n'.repeat(20), 'a'.repeat(22));
    assert.equal(got, `${'c'.repeat(20)}.${'n'.repeat(20)}.${'a'.repeat(22)}`);
  });

  it('cuts a longer name to 55 characters, a dash and 8 hex digits of a hash of the whole', () => {
    const args = ['', 'c'.repeat(20), 'n'.repeat(20), 'a'.repeat(23)] as const;
    const got = deriveRoleName(...args);
    const full = `${args[1]}.${args[2]}.${args[3]}`;
    const hash = createHash('sha256').update(`${args[0]}\0${args[1]}\0${args[2]}\0${args[3]}`).digest('hex').slice(0, 8);
    assert.equal(got, `${full.slice(0, 55)}-${hash}`);
    assert.equal(got.length, 64);
    assert.match(got, /-[0-9a-f]{8}$/);
  });

  it('replaces characters IAM refuses with "-"', () => {
    assert.equal(deriveRoleName('p/', 'c:1', 'n s', 'a*b'), 'p-c-1.n-s.a-b');
  });

  it('gives different names to long inputs that share their first 55 characters', () => {
    const a = deriveRoleName('', 'prod', 'team', `${'x'.repeat(70)}-one`);
    const b = deriveRoleName('', 'prod', 'team', `${'x'.repeat(70)}-two`);
    assert.equal(a.slice(0, 55), b.slice(0, 55));
    assert.notEqual(a, b);
  });

  const distinct: { name: string; a: [string, string, string, string]; b: [string, string, string, string] }[] = [
    { name: 'namespace/name split that collides when joined with "-"', a: ['', 'c', 'a-b', 'c'], b: ['', 'c', 'a', 'b-c'] },
    {
      name: 'cluster/namespace split that collides when joined with "-"',
      a: ['', 'prod-eu', 'team', 'app'],
      b: ['', 'prod', 'eu-team', 'app'],
    },
    { name: 'different clusters', a: ['', 'prod', 'team', 'app'], b: ['', 'staging', 'team', 'app'] },
    { name: 'different clusters, truncated names', a: ['', 'prod', 'team', 'x'.repeat(100)], b: ['', 'stag', 'team', 'x'.repeat(100)] },
    {
      name: 'long names differing only past the cut',
      a: ['', 'c', 'n'.repeat(30), `${'a'.repeat(60)}1`],
      b: ['', 'c', 'n'.repeat(30), `${'a'.repeat(60)}2`],
    },
    {
      name: 'long namespace/name split that collides when joined with "-"',
      a: ['', 'c', `${'n'.repeat(40)}-x`, 'a'.repeat(40)],
      b: ['', 'c', 'n'.repeat(40), `x-${'a'.repeat(40)}`],
    },
  ];
  for (const tc of distinct) {
    it(`different names: ${tc.name}`, () => {
      assert.notEqual(deriveRoleName(...tc.a), deriveRoleName(...tc.b));
    });
  }
});

describe('INLINE_POLICY_NAME', () => {
  it('is a valid IAM policy name', () => {
    assert.match(INLINE_POLICY_NAME, /^[\w+=,.@-]{1,128}$/);
  });
});
