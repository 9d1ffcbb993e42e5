// The CRD rejects malformed objects at apply time, with a message that names the field, before
// the operator ever sees them.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kubectl, kubectlResult, newNamespace } from './helpers.ts';

interface Case {
  name: string;
  spec: Record<string, unknown>;
  /** What kubectl must print (the field or the rule's message). */
  want: RegExp;
}

const cases: Case[] = [
  { name: 'maxSessionDuration under an hour', spec: { maxSessionDuration: 60 }, want: /spec\.maxSessionDuration/ },
  { name: 'maxSessionDuration over 12 hours', spec: { maxSessionDuration: 43201 }, want: /spec\.maxSessionDuration/ },
  { name: 'tokenExpiration under 600', spec: { tokenExpiration: 599 }, want: /spec\.tokenExpiration/ },
  { name: 'role name over 64 characters', spec: { roleName: 'r'.repeat(65) }, want: /spec\.roleName/ },
  { name: 'role name with a space', spec: { roleName: 'my role' }, want: /spec\.roleName/ },
  { name: 'role path without slashes', spec: { rolePath: 'irsa' }, want: /spec\.rolePath/ },
  { name: 'a policy ARN that is not one', spec: { attachPolicyARNs: ['AmazonS3ReadOnlyAccess'] }, want: /spec\.attachPolicyARNs\[0\]/ },
  {
    name: '11 managed policies',
    spec: { attachPolicyARNs: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) },
    want: /spec\.attachPolicyARNs/,
  },
  {
    name: 'a duplicated managed policy',
    spec: { attachPolicyARNs: ['arn:aws:iam::aws:policy/A', 'arn:aws:iam::aws:policy/A'] },
    want: /Duplicate value/,
  },
  { name: 'an unknown deletionPolicy', spec: { deletionPolicy: 'Orphan' }, want: /spec\.deletionPolicy/ },
  { name: 'an unknown well-known policy', spec: { wellKnownPolicies: { superUser: true } }, want: /superUser/ },
  { name: 'a wrong type', spec: { roleOnly: 'yes' }, want: /spec\.roleOnly/ },
  { name: 'an unknown field', spec: { rolename: 'x' }, want: /unknown field "spec\.rolename"/ },
  {
    name: 'attachRoleARN with attachPolicyARNs',
    spec: { attachRoleARN: 'arn:aws:iam::123456789012:role/r', attachPolicyARNs: ['arn:aws:iam::aws:policy/A'] },
    want: /attachRoleARN uses an existing role as it is/,
  },
  {
    name: 'roleOnly with a serviceAccount',
    spec: { roleOnly: true, serviceAccount: { name: 'x' } },
    want: /roleOnly never touches a ServiceAccount/,
  },
  { name: 'an inline policy without Statement', spec: { attachPolicy: { Version: '2012-10-17' } }, want: /spec\.attachPolicy\.Statement/ },
  {
    name: 'a ServiceAccount name that is not a DNS name',
    spec: { serviceAccount: { name: 'Not_Valid' } },
    want: /spec\.serviceAccount\.name/,
  },
  {
    name: 'a permissions boundary that is a role ARN',
    spec: { permissionsBoundary: 'arn:aws:iam::123456789012:role/r' },
    want: /spec\.permissionsBoundary/,
  },
];

describe('admission by the CRD schema and CEL rules', () => {
  let ns: string;
  before(async () => {
    ns = await newNamespace('admission');
  });

  for (const tc of cases) {
    it(`rejects ${tc.name}`, async () => {
      const obj = { apiVersion: 'irsa.dev/v1alpha1', kind: 'IamServiceAccount', metadata: { name: 'bad', namespace: ns }, spec: tc.spec };
      const r = await kubectlResult(['apply', '-f', '-'], JSON.stringify(obj));
      assert.notEqual(r.code, 0, 'kubectl apply must fail');
      assert.match(r.stderr, tc.want);
      assert.equal((await kubectlResult(['get', '-n', ns, 'iamsa', 'bad'])).code, 1, 'nothing was stored');
    });
  }

  it('refuses to change roleName or rolePath once set', async () => {
    const obj = {
      apiVersion: 'irsa.dev/v1alpha1',
      kind: 'IamServiceAccount',
      metadata: { name: 'fixed', namespace: ns },
      spec: { roleName: 'fixed-role', rolePath: '/a/' },
    };
    await kubectl(['apply', '-f', '-'], JSON.stringify(obj));
    const renamed = await kubectlResult(['patch', '-n', ns, 'iamsa', 'fixed', '--type=merge', '-p', '{"spec":{"roleName":"other"}}']);
    assert.match(renamed.stderr, /roleName is immutable/);
    const moved = await kubectlResult(['patch', '-n', ns, 'iamsa', 'fixed', '--type=merge', '-p', '{"spec":{"rolePath":"/b/"}}']);
    assert.match(moved.stderr, /rolePath is immutable/);
    await kubectl(['delete', '-n', ns, 'iamsa', 'fixed']);
  });
});
