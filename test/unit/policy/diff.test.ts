import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PolicyDocument } from '../../../src/policy/document.ts';
import type { DesiredRole } from '../../../src/policy/desired.ts';
import { diffRole, roleAsWritten, type ActualRole, type IamOperation } from '../../../src/policy/diff.ts';
import { actualOf, enc } from '../iam-role.ts';

const ISSUER = 'oidc.example.com/id/X';
const trust: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Federated: `arn:aws:iam::123456789012:oidc-provider/${ISSUER}` },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: { StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:ns:sa', [`${ISSUER}:aud`]: 'sts.amazonaws.com' } },
    },
  ],
};
const inlineA: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: '*' }],
};
const inlineB: PolicyDocument = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:*:*:q' }],
};

const desired: DesiredRole = {
  name: 'r',
  path: '/',
  arn: 'arn:aws:iam::123456789012:role/r',
  description: 'd',
  maxSessionDuration: 3600,
  permissionsBoundary: 'arn:aws:iam::123456789012:policy/boundary',
  trustPolicy: trust,
  tags: { a: '1', b: '2' },
  managedPolicyArns: ['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/B'],
  inlinePolicies: { 'irsa-a': inlineA, 'irsa-b': inlineB },
};

const actual = actualOf(desired);

describe('diffRole', () => {
  it('creates a missing role, then attaches, then puts', () => {
    assert.deepEqual(diffRole(desired, undefined), [
      { op: 'CreateRole', role: desired },
      { op: 'AttachRolePolicy', arn: 'arn:aws:iam::aws:policy/A' },
      { op: 'AttachRolePolicy', arn: 'arn:aws:iam::aws:policy/B' },
      { op: 'PutRolePolicy', name: 'irsa-a', document: inlineA },
      { op: 'PutRolePolicy', name: 'irsa-b', document: inlineB },
    ]);
  });

  it('creates a bare role with one operation', () => {
    assert.deepEqual(diffRole({ ...desired, managedPolicyArns: [], inlinePolicies: {} }, undefined), [
      { op: 'CreateRole', role: { ...desired, managedPolicyArns: [], inlinePolicies: {} } },
    ]);
  });

  it('does nothing when the role is as desired', () => {
    assert.deepEqual(diffRole(desired, actual), []);
  });

  it('does nothing when IAM returns documents reordered and with one-element arrays', () => {
    const reordered: ActualRole = {
      ...actual,
      trustPolicy: enc({
        Statement: {
          Condition: { StringEquals: { [`${ISSUER}:aud`]: ['sts.amazonaws.com'], [`${ISSUER}:sub`]: 'system:serviceaccount:ns:sa' } },
          Action: ['sts:AssumeRoleWithWebIdentity'],
          Principal: { Federated: [`arn:aws:iam::123456789012:oidc-provider/${ISSUER}`] },
          Effect: 'Allow',
        },
        Version: '2012-10-17',
      }),
      tags: { b: '2', a: '1' },
      managedPolicyArns: ['arn:aws:iam::aws:policy/B', 'arn:aws:iam::aws:policy/A'],
      inlinePolicies: {
        'irsa-b': enc({
          Statement: [{ Resource: ['arn:aws:sqs:*:*:q'], Action: ['sqs:SendMessage'], Effect: 'Allow' }],
          Version: '2012-10-17',
        }),
        'irsa-a': enc({
          Version: '2012-10-17',
          Statement: { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: ['*'] },
        }),
      },
    };
    assert.deepEqual(diffRole(desired, reordered), []);
  });

  const single: { name: string; actual: ActualRole; want: IamOperation[] }[] = [
    {
      name: 'trust policy',
      actual: {
        ...actual,
        trustPolicy: enc({
          ...trust,
          Statement: [
            {
              ...(trust.Statement as Record<string, unknown>[])[0],
              Condition: { StringEquals: { [`${ISSUER}:sub`]: 'system:serviceaccount:ns:other', [`${ISSUER}:aud`]: 'sts.amazonaws.com' } },
            },
          ],
        }),
      },
      want: [{ op: 'UpdateAssumeRolePolicy', document: trust }],
    },
    {
      name: 'unreadable trust policy',
      actual: { ...actual, trustPolicy: '%%%' },
      want: [{ op: 'UpdateAssumeRolePolicy', document: trust }],
    },
    {
      name: 'description',
      actual: { ...actual, description: 'old' },
      want: [{ op: 'UpdateRole', description: 'd', maxSessionDuration: 3600 }],
    },
    {
      name: 'max session duration',
      actual: { ...actual, maxSessionDuration: 7200 },
      want: [{ op: 'UpdateRole', description: 'd', maxSessionDuration: 3600 }],
    },
    {
      name: 'boundary missing',
      actual: { ...actual, permissionsBoundary: undefined },
      want: [{ op: 'PutRolePermissionsBoundary', arn: 'arn:aws:iam::123456789012:policy/boundary' }],
    },
    {
      name: 'boundary different',
      actual: { ...actual, permissionsBoundary: 'arn:aws:iam::123456789012:policy/other' },
      want: [{ op: 'PutRolePermissionsBoundary', arn: 'arn:aws:iam::123456789012:policy/boundary' }],
    },
    { name: 'tag value', actual: { ...actual, tags: { a: '1', b: 'old' } }, want: [{ op: 'TagRole', tags: { b: '2' } }] },
    { name: 'tag missing', actual: { ...actual, tags: { b: '2' } }, want: [{ op: 'TagRole', tags: { a: '1' } }] },
    { name: 'extra tags', actual: { ...actual, tags: { z: '9', a: '1', b: '2', y: '8' } }, want: [{ op: 'UntagRole', keys: ['y', 'z'] }] },
    {
      name: 'managed policy missing',
      actual: { ...actual, managedPolicyArns: ['arn:aws:iam::aws:policy/A'] },
      want: [{ op: 'AttachRolePolicy', arn: 'arn:aws:iam::aws:policy/B' }],
    },
    {
      name: 'extra managed policy',
      actual: { ...actual, managedPolicyArns: ['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/Z', 'arn:aws:iam::aws:policy/B'] },
      want: [{ op: 'DetachRolePolicy', arn: 'arn:aws:iam::aws:policy/Z' }],
    },
    {
      name: 'inline policy different',
      actual: {
        ...actual,
        inlinePolicies: {
          ...actual.inlinePolicies,
          'irsa-a': enc({ ...inlineA, Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
        },
      },
      want: [{ op: 'PutRolePolicy', name: 'irsa-a', document: inlineA }],
    },
    {
      name: 'inline policy missing',
      actual: { ...actual, inlinePolicies: { 'irsa-b': enc(inlineB) } },
      want: [{ op: 'PutRolePolicy', name: 'irsa-a', document: inlineA }],
    },
    {
      name: 'extra inline policy',
      actual: { ...actual, inlinePolicies: { ...actual.inlinePolicies, 'someone-else': enc(inlineA) } },
      want: [{ op: 'DeleteRolePolicy', name: 'someone-else' }],
    },
  ];
  for (const tc of single) {
    it(`one difference, one operation: ${tc.name}`, () => {
      assert.deepEqual(diffRole(desired, tc.actual), tc.want);
    });
  }

  // IAM allows tag keys and inline policy names such as "toString" and "constructor"; `k in obj`
  // finds them on Object.prototype, so diffRole never removes them.
  it('untags an extra tag named like an Object.prototype member', () => {
    assert.deepEqual(diffRole(desired, { ...actual, tags: { ...actual.tags, toString: 'x' } }), [{ op: 'UntagRole', keys: ['toString'] }]);
  });

  it('deletes an extra inline policy named like an Object.prototype member', () => {
    assert.deepEqual(diffRole(desired, { ...actual, inlinePolicies: { ...actual.inlinePolicies, constructor: enc(inlineA) } }), [
      { op: 'DeleteRolePolicy', name: 'constructor' },
    ]);
  });

  it('never removes a boundary, even one no longer wanted', () => {
    assert.deepEqual(diffRole({ ...desired, permissionsBoundary: undefined }, actual), []);
  });

  it('does nothing when neither has a boundary', () => {
    assert.deepEqual(diffRole({ ...desired, permissionsBoundary: undefined }, { ...actual, permissionsBoundary: undefined }), []);
  });

  it('orders everything: trust, settings, boundary, tags, attach, put, detach, delete', () => {
    const drifted: ActualRole = {
      ...actual,
      trustPolicy: enc({ Version: '2012-10-17', Statement: [] }),
      description: 'old',
      permissionsBoundary: undefined,
      tags: { a: 'old', x: '1' },
      managedPolicyArns: ['arn:aws:iam::aws:policy/Old2', 'arn:aws:iam::aws:policy/Old1'],
      inlinePolicies: { 'old-z': enc(inlineA), 'old-y': enc(inlineA) },
    };
    assert.deepEqual(diffRole(desired, drifted), [
      { op: 'UpdateAssumeRolePolicy', document: trust },
      { op: 'UpdateRole', description: 'd', maxSessionDuration: 3600 },
      { op: 'PutRolePermissionsBoundary', arn: 'arn:aws:iam::123456789012:policy/boundary' },
      { op: 'TagRole', tags: { a: '1', b: '2' } },
      { op: 'UntagRole', keys: ['x'] },
      { op: 'AttachRolePolicy', arn: 'arn:aws:iam::aws:policy/A' },
      { op: 'AttachRolePolicy', arn: 'arn:aws:iam::aws:policy/B' },
      { op: 'PutRolePolicy', name: 'irsa-a', document: inlineA },
      { op: 'PutRolePolicy', name: 'irsa-b', document: inlineB },
      { op: 'DetachRolePolicy', arn: 'arn:aws:iam::aws:policy/Old1' },
      { op: 'DetachRolePolicy', arn: 'arn:aws:iam::aws:policy/Old2' },
      { op: 'DeleteRolePolicy', name: 'old-y' },
      { op: 'DeleteRolePolicy', name: 'old-z' },
    ]);
  });

  it('attaches the replacement before detaching the replaced policy', () => {
    const ops = diffRole(
      { ...desired, managedPolicyArns: ['arn:aws:iam::aws:policy/New'] },
      { ...actual, managedPolicyArns: ['arn:aws:iam::aws:policy/Old'] },
    );
    assert.deepEqual(ops, [
      { op: 'AttachRolePolicy', arn: 'arn:aws:iam::aws:policy/New' },
      { op: 'DetachRolePolicy', arn: 'arn:aws:iam::aws:policy/Old' },
    ]);
  });

  it('puts the new inline policy before deleting the old one', () => {
    const ops = diffRole({ ...desired, inlinePolicies: { new: inlineA } }, { ...actual, inlinePolicies: { old: enc(inlineA) } });
    assert.deepEqual(ops, [
      { op: 'PutRolePolicy', name: 'new', document: inlineA },
      { op: 'DeleteRolePolicy', name: 'old' },
    ]);
  });
});

describe('roleAsWritten', () => {
  const variants: [string, DesiredRole][] = [
    ['the full role', desired],
    [
      'no boundary, no policies, no tags',
      { ...desired, permissionsBoundary: undefined, managedPolicyArns: [], inlinePolicies: {}, tags: {} },
    ],
    ['another path and session length', { ...desired, path: '/irsa/', maxSessionDuration: 43200 }],
  ];
  for (const [name, d] of variants) {
    it(`${name}: nothing left to do against it`, () => assert.deepEqual(diffRole(d, roleAsWritten(d)), []));
  }

  it('a changed spec against it gives the same operations as against the role IAM returns', () => {
    const next: DesiredRole = {
      ...desired,
      tags: { a: '1', c: '3' },
      managedPolicyArns: ['arn:aws:iam::aws:policy/B', 'arn:aws:iam::aws:policy/C'],
      inlinePolicies: { 'irsa-a': inlineB },
      maxSessionDuration: 7200,
    };
    assert.deepEqual(diffRole(next, roleAsWritten(desired)), diffRole(next, actual));
  });

  it('copies what a caller could change', () => {
    const written = roleAsWritten(desired);
    written.tags.x = 'y';
    written.managedPolicyArns.push('arn:aws:iam::aws:policy/X');
    assert.equal(desired.tags.x, undefined);
    assert.equal(desired.managedPolicyArns.length, 2);
  });
});
