import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { minifiedLength, normalisePolicy, parsePolicyDocument, policiesEqual, type PolicyDocument } from '../../../src/policy/document.ts';

/** As IAM returns documents: URL-encoded JSON. */
const iamEncoded = (doc: unknown): string => encodeURIComponent(JSON.stringify(doc));

const base: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Read',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
      Condition: { StringEquals: { 'aws:PrincipalTag/team': ['a', 'b'] } },
    },
    { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
  ],
};

describe('parsePolicyDocument', () => {
  const cases: { name: string; text: string; want: PolicyDocument }[] = [
    { name: 'plain JSON', text: JSON.stringify(base), want: base },
    { name: 'URL-encoded JSON as IAM returns it', text: iamEncoded(base), want: base },
    { name: 'JSON with white space around it', text: `\n  ${JSON.stringify(base, null, 2)}  \n`, want: base },
    {
      name: 'encoded characters that need it',
      text: iamEncoded({ Statement: [{ Resource: 'arn:aws:s3:::b/a b/%/ü' }] }),
      want: { Statement: [{ Resource: 'arn:aws:s3:::b/a b/%/ü' }] },
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.deepEqual(parsePolicyDocument(tc.text), tc.want);
    });
  }

  const bad: { name: string; text: string; want: RegExp | typeof SyntaxError | typeof URIError }[] = [
    { name: 'an array', text: '[]', want: /must be a JSON object/ },
    { name: 'an encoded array', text: iamEncoded([1]), want: /must be a JSON object/ },
    { name: 'null', text: 'null', want: /must be a JSON object/ },
    { name: 'a string', text: '"x"', want: /must be a JSON object/ },
    { name: 'broken JSON', text: '{"Version":', want: SyntaxError },
    { name: 'broken URL encoding', text: '%E0%A4%A', want: URIError },
  ];
  for (const tc of bad) {
    it(`rejects ${tc.name}`, () => {
      assert.throws(() => parsePolicyDocument(tc.text), tc.want);
    });
  }
});

describe('minifiedLength', () => {
  it('counts JSON without white space', () => {
    assert.equal(minifiedLength({ A: 'b', C: [1, 2] }), '{"A":"b","C":[1,2]}'.length);
  });
});

describe('normalisePolicy', () => {
  it('sorts keys, turns scalars into sets and Principal "*" into {AWS: ["*"]}', () => {
    const got = normalisePolicy({
      Statement: { Resource: 'r', Principal: '*', Effect: 'Allow', Action: ['b', 'a', 'b'] },
      Version: '2012-10-17',
    });
    assert.equal(
      JSON.stringify(got),
      '{"Statement":[{"Action":["a","b"],"Effect":"Allow","Principal":{"AWS":["*"]},"Resource":["r"]}],"Version":"2012-10-17"}',
    );
  });
});

describe('policiesEqual', () => {
  const equal: { name: string; actual: PolicyDocument | string }[] = [
    { name: 'the same object', actual: base },
    { name: 'URL-encoded as IAM returns it', actual: iamEncoded(base) },
    { name: 'plain JSON text', actual: JSON.stringify(base) },
    {
      name: 'string versus one-element array',
      actual: iamEncoded({
        Version: '2012-10-17',
        Statement: [(base.Statement as unknown[])[0], { Effect: 'Deny', Action: ['s3:DeleteObject'], Resource: ['*'] }],
      }),
    },
    {
      name: 'key order',
      actual: iamEncoded({
        Statement: [
          {
            Condition: { StringEquals: { 'aws:PrincipalTag/team': ['a', 'b'] } },
            Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'],
            Action: ['s3:GetObject', 's3:ListBucket'],
            Effect: 'Allow',
            Sid: 'Read',
          },
          { Resource: '*', Action: 's3:DeleteObject', Effect: 'Deny' },
        ],
        Version: '2012-10-17',
      }),
    },
    {
      name: 'statement order',
      actual: iamEncoded({ Version: '2012-10-17', Statement: [(base.Statement as unknown[])[1], (base.Statement as unknown[])[0]] }),
    },
    {
      name: 'Action, Resource and condition value order',
      actual: iamEncoded({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'Read',
            Effect: 'Allow',
            Action: ['s3:ListBucket', 's3:GetObject'],
            Resource: ['arn:aws:s3:::b/*', 'arn:aws:s3:::b'],
            Condition: { StringEquals: { 'aws:PrincipalTag/team': ['b', 'a'] } },
          },
          { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' },
        ],
      }),
    },
  ];
  for (const tc of equal) {
    it(`equal: ${tc.name}`, () => {
      assert.equal(policiesEqual(base, tc.actual), true);
    });
  }

  const other: { name: string; desired: Record<string, unknown>; actual: Record<string, unknown>; want: boolean }[] = [
    {
      name: 'nested objects under other keys, key order',
      desired: { Extra: { b: 1, a: { d: 1, c: 2 } } },
      actual: { Extra: { a: { c: 2, d: 1 }, b: 1 } },
      want: true,
    },
    { name: 'arrays under other keys keep their order', desired: { Extra: [1, 2] }, actual: { Extra: [2, 1] }, want: false },
    {
      name: 'a condition block that is not an object',
      desired: { Condition: { Bool: 'x' } },
      actual: { Condition: { Bool: 'x' } },
      want: true,
    },
    {
      name: 'a condition block that is not an object, different',
      desired: { Condition: { Bool: 'x' } },
      actual: { Condition: { Bool: 'y' } },
      want: false,
    },
    { name: 'a Condition that is not an object', desired: { Condition: 'x' }, actual: { Condition: 'x' }, want: true },
    { name: 'a Principal that is neither "*" nor an object', desired: { Principal: 'arn:a' }, actual: { Principal: 'arn:b' }, want: false },
  ];
  for (const tc of other) {
    it(`${tc.name}: ${tc.want ? 'equal' : 'different'}`, () => {
      const doc = (extra: Record<string, unknown>): PolicyDocument => ({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'a:b', Resource: '*', ...extra }],
      });
      assert.equal(policiesEqual(doc(tc.desired), iamEncoded(doc(tc.actual))), tc.want);
    });
  }

  it('statements that are not objects compare as values', () => {
    assert.equal(policiesEqual({ Statement: ['x', { Effect: 'Allow' }] }, iamEncoded({ Statement: [{ Effect: 'Allow' }, 'x'] })), true);
    assert.equal(policiesEqual({ Statement: ['x'] }, iamEncoded({ Statement: ['y'] })), false);
  });

  it('top-level values other than Statement compare by canonical form', () => {
    assert.equal(policiesEqual({ Statement: [], Id: { b: 1, a: 2 } }, iamEncoded({ Id: { a: 2, b: 1 }, Statement: [] })), true);
  });

  const principals: { name: string; desired: unknown; actual: unknown; want: boolean }[] = [
    { name: '"*" and {"AWS":"*"}', desired: '*', actual: { AWS: '*' }, want: true },
    { name: '"*" and {"AWS":["*"]}', desired: '*', actual: { AWS: ['*'] }, want: true },
    { name: 'Federated scalar and array', desired: { Federated: 'arn:f' }, actual: { Federated: ['arn:f'] }, want: true },
    { name: 'AWS list order', desired: { AWS: ['arn:a', 'arn:b'] }, actual: { AWS: ['arn:b', 'arn:a'] }, want: true },
    { name: '"*" and a Federated principal', desired: '*', actual: { Federated: '*' }, want: false },
    { name: 'different AWS principals', desired: { AWS: 'arn:a' }, actual: { AWS: 'arn:b' }, want: false },
  ];
  for (const tc of principals) {
    it(`Principal ${tc.name}: ${tc.want ? 'equal' : 'different'}`, () => {
      const doc = (p: unknown): PolicyDocument => ({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: p, Action: 'sts:AssumeRole' }],
      });
      assert.equal(policiesEqual(doc(tc.desired), iamEncoded(doc(tc.actual))), tc.want);
    });
  }

  const withStatement0 = (over: Record<string, unknown>): PolicyDocument => ({
    Version: '2012-10-17',
    Statement: [{ ...(base.Statement as Record<string, unknown>[])[0], ...over }, (base.Statement as unknown[])[1]],
  });
  const different: { name: string; actual: PolicyDocument | string | undefined }[] = [
    { name: 'another Effect', actual: withStatement0({ Effect: 'Deny' }) },
    { name: 'one Action less', actual: withStatement0({ Action: 's3:GetObject' }) },
    { name: 'one Action more', actual: withStatement0({ Action: ['s3:GetObject', 's3:ListBucket', 's3:PutObject'] }) },
    { name: 'another Resource', actual: withStatement0({ Resource: ['arn:aws:s3:::c', 'arn:aws:s3:::b/*'] }) },
    { name: 'another condition value', actual: withStatement0({ Condition: { StringEquals: { 'aws:PrincipalTag/team': ['a', 'c'] } } }) },
    { name: 'another condition operator', actual: withStatement0({ Condition: { StringLike: { 'aws:PrincipalTag/team': ['a', 'b'] } } }) },
    { name: 'another Sid', actual: withStatement0({ Sid: 'Other' }) },
    { name: 'NotAction instead of Action', actual: withStatement0({ Action: undefined, NotAction: ['s3:GetObject', 's3:ListBucket'] }) },
    {
      name: 'a statement more',
      actual: { ...base, Statement: [...(base.Statement as unknown[]), { Effect: 'Allow', Action: 'sqs:*', Resource: '*' }] },
    },
    { name: 'a statement less', actual: { ...base, Statement: [(base.Statement as unknown[])[0]] } },
    { name: 'another Version', actual: { ...base, Version: '2008-10-17' } },
    { name: 'no actual document', actual: undefined },
    { name: 'unparsable actual text', actual: 'not a policy' },
    { name: 'broken URL encoding', actual: '%E0%A4%A' },
    { name: 'truncated JSON', actual: iamEncoded(base).slice(0, 40) },
    { name: 'an array', actual: iamEncoded([base]) },
  ];
  for (const tc of different) {
    it(`different: ${tc.name}`, () => {
      assert.equal(policiesEqual(base, tc.actual), false);
    });
  }
});
