// The TypeScript types of src/api/types.ts and the OpenAPI schema of src/api/schema.ts describe the
// same API: every field of the types is in the schema and the other way round.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DNS_SUBDOMAIN_PATTERN,
  openAPIV3Schema,
  POLICY_ARN_PATTERN,
  ROLE_ARN_PATTERN,
  ROLE_NAME_PATTERN,
  ROLE_PATH_PATTERN,
  specSchema,
  statusSchema,
} from '../../../src/api/schema.ts';
import type {
  AdditionalCluster,
  Condition,
  ConditionStatus,
  ConditionType,
  DeletionPolicy,
  IamServiceAccountSpec,
  IamServiceAccountStatus,
  ServiceAccountSpec,
  WellKnownPolicies,
} from '../../../src/api/types.ts';
import { validateSpec } from '../../../src/api/validate.ts';

/** Every field of the spec type set, nested optional ones too. Not valid as a whole: attachRoleARN and roleOnly exclude other fields. */
const full = {
  serviceAccount: {
    name: 'sa',
    create: true,
    labels: { a: 'b' },
    annotations: { 'example.com/a': 'b' },
    overrideExisting: true,
  } satisfies Required<ServiceAccountSpec>,
  roleName: 'role',
  rolePath: '/p/',
  roleDescription: 'd',
  maxSessionDuration: 3600,
  permissionsBoundary: 'arn:aws:iam::123456789012:policy/b',
  tags: { t: 'v' },
  attachPolicyARNs: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
  attachPolicy: { Version: '2012-10-17', Id: 'id', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] },
  wellKnownPolicies: {
    imageBuilder: true,
    autoScaler: true,
    awsLoadBalancerController: true,
    externalDNS: true,
    certManager: true,
    ebsCSIController: true,
    efsCSIController: true,
  } satisfies Required<WellKnownPolicies>,
  attachRoleARN: 'arn:aws:iam::123456789012:role/existing',
  account: '123456789012',
  roleOnly: true,
  audience: 'sts.amazonaws.com',
  tokenExpiration: 86400,
  stsRegionalEndpoints: true,
  deletionPolicy: 'Retain',
  restartPods: true,
  identity: 'Both',
  podIdentity: { targetRoleARN: 'arn:aws:iam::210987654321:role/target', disableSessionTags: true },
  additionalClusters: [
    {
      issuer: 'https://oidc.eks.us-west-2.amazonaws.com/id/B',
      namespace: 'ns',
      serviceAccount: 'sa',
    } satisfies Required<AdditionalCluster>,
  ],
  subjectPattern: 's*',
} satisfies Required<IamServiceAccountSpec>;

// The two valid halves of `full`: a managed role, and an existing role (attachRoleARN).
function omit<T extends object, K extends keyof T>(o: T, ...keys: K[]): Omit<T, K> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !(keys as (string | number | symbol)[]).includes(k))) as Omit<T, K>;
}
const managed: IamServiceAccountSpec = { ...omit(full, 'attachRoleARN'), roleOnly: false };
const attached: IamServiceAccountSpec = {
  attachRoleARN: full.attachRoleARN,
  account: full.account,
  roleOnly: false,
  serviceAccount: full.serviceAccount,
  audience: full.audience,
  tokenExpiration: full.tokenExpiration,
  stsRegionalEndpoints: full.stsRegionalEndpoints,
  deletionPolicy: full.deletionPolicy,
};
const roleOnlySpec: IamServiceAccountSpec = omit(
  full,
  'attachRoleARN',
  'serviceAccount',
  'tokenExpiration',
  'stsRegionalEndpoints',
  'identity',
  'podIdentity',
);

/**
 * Where the walks stop. Map-valued fields (labels, annotations, tags) are leaves: their keys are
 * data, not fields, and the schema declares them with additionalProperties, not properties.
 * attachPolicy is a leaf too: its type is an open PolicyDocument (Record<string, unknown>); the
 * schema's three properties of it are checked separately against the populated document.
 * Arrays are leaves.
 */
const LEAVES = new Set(['serviceAccount.labels', 'serviceAccount.annotations', 'tags', 'attachPolicy']);

function propertiesOf(node: unknown): Record<string, unknown> | undefined {
  if (typeof node !== 'object' || node === null || !('properties' in node)) return undefined;
  const p = node.properties;
  return typeof p === 'object' && p !== null ? (p as Record<string, unknown>) : undefined;
}

function schemaPaths(node: unknown, prefix = ''): string[] {
  return Object.entries(propertiesOf(node) ?? {}).flatMap(([k, child]) => {
    const path = `${prefix}${k}`;
    return propertiesOf(child) && !LEAVES.has(path) ? schemaPaths(child, `${path}.`) : [path];
  });
}

function objectPaths(value: object, prefix = ''): string[] {
  return Object.entries(value).flatMap(([k, child]: [string, unknown]) => {
    const path = `${prefix}${k}`;
    return typeof child === 'object' && child !== null && !Array.isArray(child) && !LEAVES.has(path)
      ? objectPaths(child, `${path}.`)
      : [path];
  });
}

describe('IamServiceAccountSpec and specSchema agree', () => {
  it('the property paths of the schema are the key paths of the fully populated type', () => {
    assert.deepEqual(schemaPaths(specSchema).sort(), objectPaths(full).sort());
  });

  it('every path is really there (the walk found nested fields)', () => {
    const paths = objectPaths(full);
    for (const p of [
      'serviceAccount.name',
      'serviceAccount.overrideExisting',
      'wellKnownPolicies.efsCSIController',
      'attachPolicy',
      'tags',
      'deletionPolicy',
    ])
      assert.ok(paths.includes(p), p);
    assert.equal(paths.length, 5 + 18 + 8 + 2);
  });

  it('the map-valued leaves are maps in the schema', () => {
    assert.equal(specSchema.properties.tags.type, 'object');
    assert.ok(!('properties' in specSchema.properties.tags));
    assert.ok(!('properties' in specSchema.properties.serviceAccount.properties.labels));
    assert.ok(!('properties' in specSchema.properties.serviceAccount.properties.annotations));
    assert.deepEqual(specSchema.properties.tags.additionalProperties, { type: 'string', maxLength: 256 });
  });

  it("the schema's additionalClusters items are the populated entry's keys", () => {
    const items = specSchema.properties.additionalClusters.items;
    assert.deepEqual(Object.keys(items.properties).sort(), Object.keys(full.additionalClusters[0] ?? {}).sort());
    assert.deepEqual(items.required, ['issuer']);
  });

  it("the schema's attachPolicy properties are the populated document's keys", () => {
    assert.deepEqual(Object.keys(specSchema.properties.attachPolicy.properties).sort(), Object.keys(full.attachPolicy).sort());
    assert.deepEqual(specSchema.properties.attachPolicy.required, ['Statement']);
  });

  it('validateSpec accepts the managed half', () => {
    assert.equal(validateSpec(managed), undefined);
  });

  it('validateSpec accepts the attachRoleARN half', () => {
    assert.equal(validateSpec(attached), undefined);
  });

  it('validateSpec accepts the roleOnly variant', () => {
    assert.equal(validateSpec(roleOnlySpec), undefined);
  });

  it('the halves together cover every field', () => {
    const covered = new Set([...objectPaths(managed), ...objectPaths(attached), ...objectPaths(roleOnlySpec)]);
    assert.deepEqual([...covered].sort(), objectPaths(full).sort());
  });

  it('validateSpec refuses the whole only for the exclusive fields', () => {
    const p = validateSpec(full);
    assert.ok(p);
    assert.equal(p.reason, 'InvalidSpec');
    assert.match(
      p.message,
      /^attachRoleARN uses an existing role as it is: remove attachPolicyARNs, attachPolicy, wellKnownPolicies, roleName, rolePath, roleDescription, permissionsBoundary, maxSessionDuration, tags$/,
    );
    const withoutAttach: Record<string, unknown> = { ...full };
    delete withoutAttach.attachRoleARN;
    const q = validateSpec(withoutAttach);
    assert.ok(q);
    assert.match(q.message, /^roleOnly never touches a ServiceAccount: remove serviceAccount, tokenExpiration, stsRegionalEndpoints$/);
  });

  it('enums match the types', () => {
    type SchemaDeletion = (typeof specSchema.properties.deletionPolicy.enum)[number];
    type SchemaType = (typeof statusSchema.properties.conditions.items.properties.type.enum)[number];
    type SchemaStatus = (typeof statusSchema.properties.conditions.items.properties.status.enum)[number];
    // Each is `true` only when the two unions are equal; otherwise the file does not compile.
    const deletion: [SchemaDeletion] extends [DeletionPolicy] ? ([DeletionPolicy] extends [SchemaDeletion] ? true : false) : false = true;
    const type: [SchemaType] extends [ConditionType] ? ([ConditionType] extends [SchemaType] ? true : false) : false = true;
    const status: [SchemaStatus] extends [ConditionStatus] ? ([ConditionStatus] extends [SchemaStatus] ? true : false) : false = true;
    assert.deepEqual([deletion, type, status], [true, true, true]);
    assert.deepEqual([...specSchema.properties.deletionPolicy.enum].sort(), ['Delete', 'Retain']);
  });
});

describe('IamServiceAccountStatus and statusSchema agree', () => {
  const condition = {
    type: 'Ready',
    status: 'True',
    reason: 'Synced',
    message: 'm',
    observedGeneration: 1,
    lastTransitionTime: '2024-01-01T00:00:00Z',
  } satisfies Required<Condition>;
  const status = {
    observedGeneration: 1,
    roleARN: 'arn',
    roleName: 'r',
    oidcProviderARN: 'arn',
    serviceAccountName: 'sa',
    attachedPolicyARNs: ['arn'],
    podIdentityAssociationARN: 'arn',
    podIdentityAssociationID: 'a-0123456789abcdef0',
    podsNeedingRestart: { count: 2, pods: ['web-1', 'web-2'] },
    conditions: [condition],
  } satisfies Required<IamServiceAccountStatus>;

  it('status fields', () => {
    assert.deepEqual(Object.keys(statusSchema.properties).sort(), Object.keys(status).sort());
  });

  it('condition fields and required ones', () => {
    assert.deepEqual(Object.keys(statusSchema.properties.conditions.items.properties).sort(), Object.keys(condition).sort());
    assert.deepEqual([...statusSchema.properties.conditions.items.required].sort(), [
      'lastTransitionTime',
      'message',
      'reason',
      'status',
      'type',
    ]);
  });

  it('conditions are a map keyed by type', () => {
    assert.equal(statusSchema.properties.conditions['x-kubernetes-list-type'], 'map');
    assert.deepEqual(statusSchema.properties.conditions['x-kubernetes-list-map-keys'], ['type']);
  });
});

describe('openAPIV3Schema', () => {
  it('wraps spec and status and requires spec', () => {
    assert.equal(openAPIV3Schema.properties.spec, specSchema);
    assert.equal(openAPIV3Schema.properties.status, statusSchema);
    assert.deepEqual(openAPIV3Schema.required, ['spec']);
  });
});

describe('patterns', () => {
  const cases: { name: string; pattern: string; yes: string[]; no: string[] }[] = [
    {
      name: 'ROLE_NAME_PATTERN',
      pattern: ROLE_NAME_PATTERN,
      yes: ['a', 'A+=,.@_-1', 'r'.repeat(64)],
      no: ['', 'r'.repeat(65), 'a/b', 'a b', 'a*'],
    },
    { name: 'ROLE_PATH_PATTERN', pattern: ROLE_PATH_PATTERN, yes: ['/', '/a/', '/a/b/'], no: ['', 'a/', '/a', '/a b/'] },
    {
      name: 'POLICY_ARN_PATTERN',
      pattern: POLICY_ARN_PATTERN,
      yes: ['arn:aws:iam::aws:policy/X', 'arn:aws-cn:iam::123456789012:policy/p/q', 'arn:aws-us-gov:iam::aws:policy/X'],
      no: ['arn:aws:iam::12:policy/X', 'arn:aws:iam::aws:role/X', 'arn:aws-iso:iam::aws:policy/X', 'arn:aws:iam::aws:policy/'],
    },
    {
      name: 'ROLE_ARN_PATTERN',
      pattern: ROLE_ARN_PATTERN,
      yes: ['arn:aws:iam::123456789012:role/r', 'arn:aws-cn:iam::123456789012:role/p/r'],
      no: ['arn:aws:iam::aws:role/r', 'arn:aws:iam::123456789012:policy/r', 'arn:aws:sts::123456789012:role/r'],
    },
    { name: 'DNS_SUBDOMAIN_PATTERN', pattern: DNS_SUBDOMAIN_PATTERN, yes: ['a', 'a-b.c', '0a'], no: ['', '-a', 'a-', 'A', 'a..b', 'a_b'] },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const re = new RegExp(tc.pattern, 'u');
      for (const s of tc.yes) assert.ok(re.test(s), `${s} should match`);
      for (const s of tc.no) assert.ok(!re.test(s), `${s} should not match`);
    });
  }
});
