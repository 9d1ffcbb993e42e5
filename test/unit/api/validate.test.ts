import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { specSchema } from '../../../src/api/schema.ts';
import { MANAGED_BY_LABEL, type IamServiceAccountSpec } from '../../../src/api/types.ts';
import { strictSchema, validateSpec } from '../../../src/api/validate.ts';

const statement = { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' };

const fullManaged: IamServiceAccountSpec = {
  serviceAccount: {
    name: 'my-sa.v1',
    create: true,
    labels: { tier: 'web' },
    annotations: { 'example.com/x': 'y' },
    overrideExisting: false,
  },
  roleName: 'my-role+=,.@-_1',
  rolePath: '/a/b/',
  roleDescription: 'desc',
  maxSessionDuration: 43200,
  permissionsBoundary: 'arn:aws:iam::123456789012:policy/path/boundary',
  tags: { team: 'a' },
  attachPolicyARNs: ['arn:aws:iam::aws:policy/ReadOnlyAccess', 'arn:aws-cn:iam::123456789012:policy/x'],
  attachPolicy: { Version: '2012-10-17', Id: 'id', Statement: [statement] },
  wellKnownPolicies: { imageBuilder: true, autoScaler: false },
  roleOnly: false,
  audience: 'sts.amazonaws.com',
  tokenExpiration: 600,
  stsRegionalEndpoints: false,
  deletionPolicy: 'Retain',
};

const ROLE_ARN = 'arn:aws:iam::123456789012:role/path/r';

function invalid(spec: unknown, want: RegExp): void {
  const p = validateSpec(spec);
  assert.ok(p, 'expected a problem');
  assert.equal(p.reason, 'InvalidSpec');
  assert.match(p.message, want);
}

describe('validateSpec accepts', () => {
  const cases: { name: string; spec: unknown }[] = [
    { name: 'an empty spec', spec: {} },
    { name: 'a full managed spec', spec: fullManaged },
    {
      name: 'attachRoleARN with the ServiceAccount fields',
      spec: {
        attachRoleARN: ROLE_ARN,
        serviceAccount: { name: 'sa' },
        audience: 'a',
        tokenExpiration: 86400,
        stsRegionalEndpoints: true,
        deletionPolicy: 'Delete',
      },
    },
    {
      name: 'roleOnly with role fields',
      spec: { roleOnly: true, roleName: 'r', attachPolicyARNs: ['arn:aws-us-gov:iam::aws:policy/X'], tags: { a: 'b' } },
    },
    { name: 'a single statement object', spec: { attachPolicy: { Statement: statement } } },
    {
      name: 'NotAction and NotResource',
      spec: { attachPolicy: { Statement: [{ Effect: 'Deny', NotAction: 's3:*', NotResource: 'arn:aws:s3:::b' }] } },
    },
    {
      name: 'unknown keys inside statements',
      spec: { attachPolicy: { Statement: [{ ...statement, Sid: 'x', Condition: { Bool: { 'aws:SecureTransport': 'true' } } }] } },
    },
    { name: 'a 128-character tag key', spec: { tags: { ['k'.repeat(128)]: 'v' } } },
    { name: 'rolePath /', spec: { rolePath: '/' } },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(validateSpec(tc.spec), undefined);
    });
  }
});

describe('validateSpec schema rules', () => {
  const cases: { name: string; spec: unknown; want: RegExp }[] = [
    { name: 'not an object', spec: 'x', want: /^spec must be object/ },
    { name: 'null', spec: null, want: /^spec must be object/ },
    { name: 'unknown top-level field', spec: { roleArn: 'x' }, want: /^spec: unknown field roleArn$/ },
    {
      name: 'unknown serviceAccount field',
      spec: { serviceAccount: { namespace: 'x' } },
      want: /^spec\.serviceAccount: unknown field namespace$/,
    },
    {
      name: 'unknown well-known policy',
      spec: { wellKnownPolicies: { karpenter: true } },
      want: /^spec\.wellKnownPolicies: unknown field karpenter$/,
    },
    {
      name: 'unknown attachPolicy field',
      spec: { attachPolicy: { Statement: [statement], Foo: 1 } },
      want: /^spec\.attachPolicy: unknown field Foo$/,
    },
    {
      name: 'attachPolicy without Statement',
      spec: { attachPolicy: { Version: '2012-10-17' } },
      want: /^spec\.attachPolicy: Statement is required$/,
    },
    { name: 'bad Version', spec: { attachPolicy: { Version: '2020-01-01', Statement: [statement] } }, want: /spec\.attachPolicy\.Version/ },
    {
      name: 'permissionsBoundary with a short account',
      spec: { permissionsBoundary: 'arn:aws:iam::1234:policy/b' },
      want: /spec\.permissionsBoundary must match pattern/,
    },
    {
      name: 'permissionsBoundary that is a role',
      spec: { permissionsBoundary: 'arn:aws:iam::123456789012:role/b' },
      want: /spec\.permissionsBoundary must match pattern/,
    },
    {
      name: 'attachPolicyARNs in an unknown partition',
      spec: { attachPolicyARNs: ['arn:aws-iso:iam::aws:policy/X'] },
      want: /spec\.attachPolicyARNs\.0 must match pattern/,
    },
    {
      name: 'attachPolicyARNs that is not an ARN',
      spec: { attachPolicyARNs: ['ReadOnlyAccess'] },
      want: /spec\.attachPolicyARNs\.0 must match pattern/,
    },
    {
      name: 'more than 10 attachPolicyARNs',
      spec: { attachPolicyARNs: Array.from({ length: 11 }, (_, i) => `arn:aws:iam::aws:policy/P${i}`) },
      want: /spec\.attachPolicyARNs must NOT have more than 10 items/,
    },
    {
      name: 'attachRoleARN that is a policy',
      spec: { attachRoleARN: 'arn:aws:iam::123456789012:policy/p' },
      want: /spec\.attachRoleARN must match pattern/,
    },
    {
      name: 'attachRoleARN of the aws account',
      spec: { attachRoleARN: 'arn:aws:iam::aws:role/r' },
      want: /spec\.attachRoleARN must match pattern/,
    },
    { name: 'roleName over 64 characters', spec: { roleName: 'r'.repeat(65) }, want: /spec\.roleName must match pattern/ },
    { name: 'roleName with a slash', spec: { roleName: 'a/b' }, want: /spec\.roleName must match pattern/ },
    { name: 'rolePath without slashes', spec: { rolePath: 'a' }, want: /spec\.rolePath must match pattern/ },
    { name: 'rolePath without trailing slash', spec: { rolePath: '/a' }, want: /spec\.rolePath must match pattern/ },
    { name: 'maxSessionDuration too small', spec: { maxSessionDuration: 3599 }, want: /spec\.maxSessionDuration must be >= 3600/ },
    { name: 'maxSessionDuration too large', spec: { maxSessionDuration: 43201 }, want: /spec\.maxSessionDuration must be <= 43200/ },
    { name: 'maxSessionDuration not an integer', spec: { maxSessionDuration: 3600.5 }, want: /spec\.maxSessionDuration must be integer/ },
    { name: 'tokenExpiration too small', spec: { tokenExpiration: 599 }, want: /spec\.tokenExpiration must be >= 600/ },
    { name: 'tokenExpiration too large', spec: { tokenExpiration: 86401 }, want: /spec\.tokenExpiration must be <= 86400/ },
    {
      name: 'deletionPolicy not in the enum',
      spec: { deletionPolicy: 'Orphan' },
      want: /spec\.deletionPolicy must be equal to one of the allowed values/,
    },
    { name: 'empty audience', spec: { audience: '' }, want: /spec\.audience must NOT have fewer than 1 characters/ },
    { name: 'audience with a space', spec: { audience: 'a b' }, want: /spec\.audience must match pattern/ },
    {
      name: 'ServiceAccount name with capitals',
      spec: { serviceAccount: { name: 'MySA' } },
      want: /spec\.serviceAccount\.name must match pattern/,
    },
    {
      name: 'non-string label value',
      spec: { serviceAccount: { labels: { a: 1 } } },
      want: /spec\.serviceAccount\.labels\.a must be string/,
    },
    {
      name: 'more than 40 tags',
      spec: { tags: Object.fromEntries(Array.from({ length: 41 }, (_, i) => [`k${i}`, 'v'])) },
      want: /spec\.tags must NOT have more than 40 properties/,
    },
    {
      name: 'a tag value over 256 characters',
      spec: { tags: { k: 'v'.repeat(257) } },
      want: /spec\.tags\.k must NOT have more than 256 characters/,
    },
    { name: 'roleOnly not a boolean', spec: { roleOnly: 'true' }, want: /spec\.roleOnly must be boolean/ },
  ];
  for (const tc of cases) {
    it(`refuses ${tc.name}`, () => {
      invalid(tc.spec, tc.want);
    });
  }

  it('reports every schema error at once', () => {
    invalid({ foo: 1, maxSessionDuration: 1 }, /unknown field foo.*; .*maxSessionDuration|maxSessionDuration.*; .*unknown field foo/);
  });
});

describe('validateSpec attachRoleARN exclusions', () => {
  const excluded: { field: keyof IamServiceAccountSpec; value: unknown }[] = [
    { field: 'attachPolicyARNs', value: ['arn:aws:iam::aws:policy/X'] },
    { field: 'attachPolicy', value: { Statement: [statement] } },
    { field: 'wellKnownPolicies', value: { imageBuilder: true } },
    { field: 'roleName', value: 'r' },
    { field: 'rolePath', value: '/a/' },
    { field: 'roleDescription', value: 'd' },
    { field: 'permissionsBoundary', value: 'arn:aws:iam::aws:policy/B' },
    { field: 'maxSessionDuration', value: 3600 },
    { field: 'tags', value: { a: 'b' } },
  ];
  for (const tc of excluded) {
    it(`refuses attachRoleARN with ${tc.field}`, () => {
      invalid(
        { attachRoleARN: ROLE_ARN, [tc.field]: tc.value },
        new RegExp(`^attachRoleARN uses an existing role as it is: remove ${tc.field}$`),
      );
    });
  }

  it('names every excluded field present', () => {
    invalid({ attachRoleARN: ROLE_ARN, roleName: 'r', tags: {} }, /remove roleName, tags$/);
  });

  it("refuses a spec.account that is not attachRoleARN's account, and takes one that is", () => {
    invalid(
      { attachRoleARN: ROLE_ARN, account: '210987654321' },
      /attachRoleARN is a role of account 123456789012, not of spec\.account 210987654321/,
    );
    assert.equal(validateSpec({ attachRoleARN: ROLE_ARN, account: '123456789012' }), undefined);
  });

  it('refuses a spec.account that is not 12 digits', () => {
    invalid({ account: '12345' }, /spec\.account must match pattern/);
  });
});

describe('validateSpec roleOnly exclusions', () => {
  const excluded: { field: keyof IamServiceAccountSpec; value: unknown }[] = [
    { field: 'serviceAccount', value: { name: 'sa' } },
    { field: 'attachRoleARN', value: ROLE_ARN },
    { field: 'tokenExpiration', value: 3600 },
    { field: 'stsRegionalEndpoints', value: true },
  ];
  for (const tc of excluded) {
    it(`refuses roleOnly with ${tc.field}`, () => {
      invalid({ roleOnly: true, [tc.field]: tc.value }, new RegExp(`^roleOnly never touches a ServiceAccount: remove ${tc.field}$`));
    });
    it(`accepts roleOnly: false with ${tc.field}`, () => {
      assert.equal(validateSpec({ roleOnly: false, [tc.field]: tc.value }), undefined);
    });
  }
});

describe('validateSpec reserved keys', () => {
  const cases: { name: string; spec: unknown; want: RegExp }[] = [
    {
      name: 'tag key aws:',
      spec: { tags: { 'aws:cloudformation:stack-name': 'x' } },
      want: /^spec\.tags: key aws:cloudformation:stack-name is reserved/,
    },
    { name: 'tag key irsa.dev/', spec: { tags: { 'irsa.dev/cluster': 'x' } }, want: /^spec\.tags: key irsa\.dev\/cluster is reserved/ },
    { name: 'empty tag key', spec: { tags: { '': 'x' } }, want: /^spec\.tags: key "" must be 1 to 128 characters/ },
    { name: 'tag key over 128 characters', spec: { tags: { ['k'.repeat(129)]: 'x' } }, want: /must be 1 to 128 characters/ },
    {
      name: 'SA annotation eks.amazonaws.com/role-arn',
      spec: { serviceAccount: { annotations: { 'eks.amazonaws.com/role-arn': 'x' } } },
      want: /^spec\.serviceAccount\.annotations: eks\.amazonaws\.com\/role-arn is set by the operator/,
    },
    {
      name: 'SA annotation eks.amazonaws.com/audience',
      spec: { serviceAccount: { annotations: { 'eks.amazonaws.com/audience': 'x' } } },
      want: /eks\.amazonaws\.com\/audience is set by the operator/,
    },
    {
      name: 'SA annotation irsa.dev/owner',
      spec: { serviceAccount: { annotations: { 'irsa.dev/owner': 'x' } } },
      want: /irsa\.dev\/owner is set by the operator/,
    },
    {
      name: 'SA managed-by label',
      spec: { serviceAccount: { labels: { [MANAGED_BY_LABEL]: 'me' } } },
      want: new RegExp(`^spec\\.serviceAccount\\.labels: ${MANAGED_BY_LABEL.replaceAll('.', '\\.')} is set by the operator`),
    },
  ];
  for (const tc of cases) {
    it(`refuses ${tc.name}`, () => {
      invalid(tc.spec, tc.want);
    });
  }

  it('accepts other annotations and labels', () => {
    assert.equal(
      validateSpec({
        serviceAccount: { annotations: { 'example.com/eks.amazonaws.com': 'x' }, labels: { 'app.kubernetes.io/name': 'x' } },
      }),
      undefined,
    );
  });
});

describe('validateSpec statements', () => {
  const cases: { name: string; st: unknown; want: string }[] = [
    { name: 'an empty list', st: [], want: 'needs at least one statement' },
    { name: 'a string', st: 'Allow', want: 'statement 0 is not an object' },
    { name: 'a list inside the list', st: [statement, [statement]], want: 'statement 1 is not an object' },
    { name: 'null', st: [null], want: 'statement 0 is not an object' },
    { name: 'no Effect', st: [{ Action: 'a:b', Resource: '*' }], want: 'statement 0: Effect must be Allow or Deny' },
    {
      name: 'a lower-case Effect',
      st: [{ Effect: 'allow', Action: 'a:b', Resource: '*' }],
      want: 'statement 0: Effect must be Allow or Deny',
    },
    { name: 'no Action', st: [statement, { Effect: 'Allow', Resource: '*' }], want: 'statement 1: needs Action or NotAction' },
    { name: 'no Resource', st: [{ Effect: 'Allow', Action: 'a:b' }], want: 'statement 0: needs Resource or NotResource' },
    { name: 'a Principal', st: [{ ...statement, Principal: '*' }], want: 'statement 0: an identity policy has no Principal' },
    {
      name: 'a NotPrincipal',
      st: [{ ...statement, NotPrincipal: { AWS: '*' } }],
      want: 'statement 0: an identity policy has no Principal',
    },
  ];
  for (const tc of cases) {
    it(`refuses ${tc.name}`, () => {
      assert.deepEqual(validateSpec({ attachPolicy: { Statement: tc.st } }), {
        reason: 'InvalidSpec',
        message: `spec.attachPolicy.Statement: ${tc.want}`,
      });
    });
  }
});

describe('strictSchema', () => {
  it('refuses unknown fields where properties are declared, drops x-kubernetes-*, keeps preserve-unknown nodes open', () => {
    const got = strictSchema({
      type: 'object',
      'x-kubernetes-validations': [],
      properties: { a: { type: 'object', properties: { b: { type: 'string' } } }, c: { 'x-kubernetes-preserve-unknown-fields': true } },
    });
    assert.deepEqual(got, {
      type: 'object',
      properties: { a: { type: 'object', properties: { b: { type: 'string' } }, additionalProperties: false }, c: {} },
      additionalProperties: false,
    });
  });

  it('does not change specSchema', () => {
    const before = JSON.stringify(specSchema);
    strictSchema(specSchema);
    assert.equal(JSON.stringify(specSchema), before);
  });
});
