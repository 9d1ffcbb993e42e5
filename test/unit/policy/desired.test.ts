import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNER_ANNOTATION,
  type IamServiceAccount,
  type IamServiceAccountSpec,
} from '../../../src/api/types.ts';
import { asArray, minifiedLength, type PolicyDocument } from '../../../src/policy/document.ts';
import {
  ATTACH_POLICY_NAME,
  desiredState,
  INLINE_POLICIES_LIMIT,
  joinRolePath,
  ownedBy,
  ownerTags,
  wellKnownPolicyName,
  type ClusterIdentity,
  type RoleDefaults,
  type Desired,
  type DesiredRole,
} from '../../../src/policy/desired.ts';
import { deriveRoleName } from '../../../src/policy/naming.ts';
import { buildTrustPolicy } from '../../../src/policy/trust.ts';
import type { Partition } from '../../../src/policy/arn.ts';

const ACCOUNT = '123456789012';

/** The cluster's identity and the configuration's role defaults, in one object for brevity. */
type World = ClusterIdentity & RoleDefaults;

function identity(over: Partial<World> = {}): World {
  const partition = over.partition ?? 'aws';
  const issuer = 'oidc.eks.eu-west-1.amazonaws.com/id/ABC';
  return {
    clusterName: 'prod',
    partition,
    account: ACCOUNT,
    issuerHostPath: issuer,
    oidcProviderArn: `arn:${partition}:iam::${ACCOUNT}:oidc-provider/${issuer}`,
    rolePrefix: '',
    rolePathPrefix: '/',
    permissionsBoundary: undefined,
    trustPolicyLimit: 2048,
    maxManagedPolicies: 10,
    ...over,
  };
}

function obj(spec: IamServiceAccountSpec, meta: { name?: string; namespace?: string } = {}): IamServiceAccount {
  return {
    apiVersion: 'irsa.dev/v1alpha1',
    kind: 'IamServiceAccount',
    metadata: { name: meta.name ?? 'app', namespace: meta.namespace ?? 'team' },
    spec,
  };
}

function ok(o: IamServiceAccount, id: World = identity()): Desired {
  const r = desiredState(o, id, id);
  assert.ok(r.ok, r.ok ? '' : `${r.problem.reason}: ${r.problem.message}`);
  return r.desired;
}

function managedRole(o: IamServiceAccount, id: World = identity()): DesiredRole {
  const d = ok(o, id);
  assert.equal(d.mode, 'managed');
  assert.ok(d.role);
  return d.role;
}

function fails(o: IamServiceAccount, id: World = identity()): { reason: string; message: string } {
  const r = desiredState(o, id, id);
  assert.ok(!r.ok, 'expected a problem');
  return r.problem;
}

describe('joinRolePath', () => {
  const cases: { name: string; prefix: string; path: string | undefined; want: string }[] = [
    { name: 'no prefix, no path', prefix: '/', path: undefined, want: '/' },
    { name: 'no prefix, a path', prefix: '/', path: '/app/', want: '/app/' },
    { name: 'prefix with slash, no path', prefix: '/team/', path: undefined, want: '/team/' },
    { name: 'prefix with slash, a path', prefix: '/team/', path: '/app/x/', want: '/team/app/x/' },
    { name: 'prefix without trailing slash', prefix: '/team', path: '/app/', want: '/team/app/' },
    { name: 'prefix without trailing slash, no path', prefix: '/team', path: undefined, want: '/team/' },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(joinRolePath(tc.prefix, tc.path), tc.want);
    });
  }
});

describe('desiredState defaults', () => {
  const d = ok(obj({}));

  it('manages a role named from cluster, namespace and name at /', () => {
    assert.equal(d.mode, 'managed');
    assert.equal(d.roleName, deriveRoleName('', 'prod', 'team', 'app'));
    assert.equal(d.roleArn, `arn:aws:iam::${ACCOUNT}:role/prod.team.app`);
    assert.ok(d.role);
    assert.equal(d.role.name, 'prod.team.app');
    assert.equal(d.role.path, '/');
    assert.equal(d.role.arn, d.roleArn);
  });

  it('fills the role defaults', () => {
    assert.ok(d.role);
    assert.equal(d.role.maxSessionDuration, 3600);
    assert.equal(d.role.permissionsBoundary, undefined);
    assert.equal(d.role.description, 'IRSA role for ServiceAccount team/app in cluster prod');
    assert.deepEqual(d.role.managedPolicyArns, []);
    assert.deepEqual(d.role.inlinePolicies, {});
    assert.deepEqual(d.role.tags, ownerTags('prod', 'team', 'app'));
  });

  it("uses metadata.name as the ServiceAccount name and the partition's audience", () => {
    assert.deepEqual(d.trust, {
      oidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/ABC`,
      issuerHostPath: 'oidc.eks.eu-west-1.amazonaws.com/id/ABC',
      namespace: 'team',
      serviceAccountName: 'app',
      audience: 'sts.amazonaws.com',
    });
    assert.ok(d.role);
    assert.deepEqual(d.role.trustPolicy, buildTrustPolicy(d.trust));
  });

  it('deletes the role by default', () => {
    assert.equal(d.deletionPolicy, 'Delete');
  });

  it('creates and annotates the ServiceAccount with the webhook defaults', () => {
    assert.deepEqual(d.serviceAccount, {
      name: 'app',
      create: true,
      overrideExisting: false,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      annotations: {
        'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/prod.team.app`,
        'eks.amazonaws.com/audience': 'sts.amazonaws.com',
        'eks.amazonaws.com/sts-regional-endpoints': 'true',
        'eks.amazonaws.com/token-expiration': '86400',
        [OWNER_ANNOTATION]: 'app',
      },
    });
  });

  for (const partition of ['aws', 'aws-cn', 'aws-us-gov'] as const) {
    it(`default audience in ${partition}: sts.amazonaws.com, as EKS issues (China included)`, () => {
      const got = ok(obj({}), identity({ partition }));
      assert.equal(got.trust.audience, 'sts.amazonaws.com');
      assert.equal(got.serviceAccount?.annotations['eks.amazonaws.com/audience'], 'sts.amazonaws.com');
      assert.equal(got.roleArn, `arn:${partition}:iam::${ACCOUNT}:role/prod.team.app`);
    });
  }

  it('the default audience given (the one the provider lists) goes into the trust and the annotation', () => {
    const id = identity({ partition: 'aws-cn' });
    const r = desiredState(obj({}), id, id, 'sts.amazonaws.com.cn');
    assert.ok(r.ok);
    assert.equal(r.desired.trust.audience, 'sts.amazonaws.com.cn');
    assert.equal(r.desired.serviceAccount?.annotations['eks.amazonaws.com/audience'], 'sts.amazonaws.com.cn');
  });

  it("spec.audience wins over the default, and another partition's STS audience is no longer refused", () => {
    const id = identity({ partition: 'aws-cn' });
    const r = desiredState(obj({ audience: 'sts.amazonaws.com' }), id, id, 'sts.amazonaws.com.cn');
    assert.ok(r.ok);
    assert.equal(r.desired.trust.audience, 'sts.amazonaws.com');
  });
});

describe('desiredState from spec fields', () => {
  it('takes every field of a full managed spec', () => {
    const d = ok(
      obj({
        serviceAccount: {
          name: 'runner',
          create: false,
          overrideExisting: true,
          labels: { tier: 'web' },
          annotations: { 'example.com/a': 'b' },
        },
        roleName: 'custom-role',
        rolePath: '/apps/',
        roleDescription: 'my role',
        maxSessionDuration: 7200,
        permissionsBoundary: 'arn:aws:iam::123456789012:policy/boundary',
        tags: { team: 'a' },
        audience: 'my-aud',
        tokenExpiration: 3600,
        stsRegionalEndpoints: false,
        deletionPolicy: 'Retain',
      }),
    );
    assert.equal(d.roleName, 'custom-role');
    assert.equal(d.roleArn, `arn:aws:iam::${ACCOUNT}:role/apps/custom-role`);
    assert.equal(d.deletionPolicy, 'Retain');
    assert.ok(d.role);
    assert.equal(d.role.path, '/apps/');
    assert.equal(d.role.description, 'my role');
    assert.equal(d.role.maxSessionDuration, 7200);
    assert.equal(d.role.permissionsBoundary, 'arn:aws:iam::123456789012:policy/boundary');
    assert.deepEqual(d.role.tags, { team: 'a', ...ownerTags('prod', 'team', 'app') });
    assert.equal(d.trust.serviceAccountName, 'runner');
    assert.equal(d.trust.audience, 'my-aud');
    assert.deepEqual(d.serviceAccount, {
      name: 'runner',
      create: false,
      overrideExisting: true,
      labels: { tier: 'web', [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      annotations: {
        'example.com/a': 'b',
        'eks.amazonaws.com/role-arn': `arn:aws:iam::${ACCOUNT}:role/apps/custom-role`,
        'eks.amazonaws.com/audience': 'my-aud',
        'eks.amazonaws.com/sts-regional-endpoints': 'false',
        'eks.amazonaws.com/token-expiration': '3600',
        [OWNER_ANNOTATION]: 'app',
      },
    });
  });

  it('puts the role below the forced path prefix', () => {
    const cases: { prefix: string; path: string | undefined; want: string }[] = [
      { prefix: '/irsa/', path: undefined, want: '/irsa/' },
      { prefix: '/irsa/', path: '/apps/', want: '/irsa/apps/' },
    ];
    for (const tc of cases) {
      const d = ok(obj(tc.path === undefined ? {} : { rolePath: tc.path }), identity({ rolePathPrefix: tc.prefix }));
      assert.equal(d.role?.path, tc.want);
      assert.equal(d.roleArn, `arn:aws:iam::${ACCOUNT}:role${tc.want}prod.team.app`);
    }
  });

  it('refuses a joined path over 512 characters', () => {
    const p = fails(obj({ rolePath: `/${'a'.repeat(500)}/` }), identity({ rolePathPrefix: `/${'b'.repeat(20)}/` }));
    assert.equal(p.reason, 'InvalidRolePath');
  });

  it('uses the role prefix in derived names', () => {
    assert.equal(ok(obj({}), identity({ rolePrefix: 'irsa-' })).roleName, 'irsa-prod.team.app');
  });

  it('applies a forced permissions boundary', () => {
    const forced = 'arn:aws:iam::123456789012:policy/forced';
    assert.equal(managedRole(obj({}), identity({ permissionsBoundary: forced })).permissionsBoundary, forced);
    assert.equal(managedRole(obj({ permissionsBoundary: forced }), identity({ permissionsBoundary: forced })).permissionsBoundary, forced);
  });

  it('refuses another boundary than the forced one', () => {
    const p = fails(
      obj({ permissionsBoundary: 'arn:aws:iam::123456789012:policy/mine' }),
      identity({ permissionsBoundary: 'arn:aws:iam::123456789012:policy/forced' }),
    );
    assert.equal(p.reason, 'PermissionsBoundaryForced');
    assert.match(p.message, /policy\/forced/);
  });

  it('refuses an invalid spec with InvalidSpec', () => {
    const p = fails(obj({ maxSessionDuration: 1 }));
    assert.equal(p.reason, 'InvalidSpec');
  });

  it('keeps spec tags next to the owner tags, which spec tags cannot override', () => {
    const role = managedRole(obj({ tags: { team: 'a', env: 'prod' } }));
    assert.deepEqual(role.tags, {
      team: 'a',
      env: 'prod',
      'irsa.dev/managed-by': 'irsa-operator',
      'irsa.dev/cluster': 'prod',
      'irsa.dev/namespace': 'team',
      'irsa.dev/name': 'app',
    });
    // irsa.dev/* keys are reserved: a spec that tries to set an owner tag is refused, so the
    // owner tags always win.
    for (const key of Object.keys(ownerTags('prod', 'team', 'app'))) {
      const p = fails(obj({ tags: { [key]: 'someone-else' } }));
      assert.equal(p.reason, 'InvalidSpec');
      assert.match(p.message, /reserved/);
    }
  });
});

describe('desiredState policies', () => {
  it('sorts and de-duplicates managed policies', () => {
    const role = managedRole(
      obj({ attachPolicyARNs: ['arn:aws:iam::aws:policy/B', 'arn:aws:iam::aws:policy/A'], wellKnownPolicies: { imageBuilder: true } }),
    );
    assert.deepEqual(role.managedPolicyArns, [
      'arn:aws:iam::aws:policy/A',
      'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser',
      'arn:aws:iam::aws:policy/B',
    ]);
  });

  it('puts attachPolicy inline under its own name', () => {
    const doc: PolicyDocument = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
    assert.deepEqual(managedRole(obj({ attachPolicy: doc })).inlinePolicies, { [ATTACH_POLICY_NAME]: doc });
  });

  const partitions: Partition[] = ['aws', 'aws-cn', 'aws-us-gov'];
  for (const partition of partitions) {
    it(`turns well-known policies into managed ARNs and inline policies in ${partition}`, () => {
      const role = managedRole(
        obj({
          wellKnownPolicies: {
            imageBuilder: true,
            ebsCSIController: true,
            externalDNS: true,
            awsLoadBalancerController: true,
            autoScaler: false,
          },
        }),
        identity({ partition }),
      );
      assert.deepEqual(role.managedPolicyArns, [
        `arn:${partition}:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser`,
        `arn:${partition}:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy`,
      ]);
      assert.deepEqual(Object.keys(role.inlinePolicies).sort(), [
        wellKnownPolicyName('awsLoadBalancerController'),
        wellKnownPolicyName('externalDNS'),
      ]);
      const text = JSON.stringify(role.inlinePolicies);
      assert.ok(!text.includes('${'), 'a placeholder is left');
      assert.ok(text.includes(`"arn:${partition}:route53:::hostedzone/*"`));
      assert.ok(text.includes(`"arn:${partition}:ec2:*:*:security-group/*"`));
      const dns = role.inlinePolicies[wellKnownPolicyName('externalDNS')];
      assert.ok(dns);
      assert.equal(dns.Version, '2012-10-17');
    });
  }

  it('refuses more managed policies than the limit, counting well-known ones', () => {
    const arns = (n: number) => Array.from({ length: n }, (_, i) => `arn:aws:iam::aws:policy/P${i}`);
    assert.equal(managedRole(obj({ attachPolicyARNs: arns(2) }), identity({ maxManagedPolicies: 3 })).managedPolicyArns.length, 2);
    assert.equal(
      managedRole(obj({ attachPolicyARNs: arns(2), wellKnownPolicies: { imageBuilder: true } }), identity({ maxManagedPolicies: 3 }))
        .managedPolicyArns.length,
      3,
    );
    const p = fails(obj({ attachPolicyARNs: arns(3), wellKnownPolicies: { imageBuilder: true } }), identity({ maxManagedPolicies: 3 }));
    assert.equal(p.reason, 'TooManyManagedPolicies');
    assert.match(p.message, /^4 managed policies .* limit of 3/);
  });

  it('refuses inline policies over 10,240 characters, and accepts exactly 10,240', () => {
    assert.equal(INLINE_POLICIES_LIMIT, 10240);
    const docWithResource = (len: number): PolicyDocument => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'r'.repeat(len) }],
    });
    const overhead = ATTACH_POLICY_NAME.length + minifiedLength(docWithResource(0));
    const atLimit = docWithResource(INLINE_POLICIES_LIMIT - overhead);
    assert.equal(ATTACH_POLICY_NAME.length + minifiedLength(atLimit), INLINE_POLICIES_LIMIT);
    managedRole(obj({ attachPolicy: atLimit }));
    const p = fails(obj({ attachPolicy: docWithResource(INLINE_POLICIES_LIMIT - overhead + 1) }));
    assert.equal(p.reason, 'InlinePolicyTooLarge');
    assert.match(p.message, /10241 characters/);
  });

  it('counts well-known inline policies toward the inline limit', () => {
    const wk = managedRole(obj({ wellKnownPolicies: { awsLoadBalancerController: true } }));
    const used = Object.entries(wk.inlinePolicies).reduce((n, [k, d]) => n + k.length + minifiedLength(d), 0);
    const docWithResource = (len: number): PolicyDocument => ({ Statement: { Effect: 'Allow', Action: 'a:b', Resource: 'r'.repeat(len) } });
    const overhead = ATTACH_POLICY_NAME.length + minifiedLength(docWithResource(0));
    const room = INLINE_POLICIES_LIMIT - used - overhead;
    managedRole(obj({ attachPolicy: docWithResource(room), wellKnownPolicies: { awsLoadBalancerController: true } }));
    assert.equal(
      fails(obj({ attachPolicy: docWithResource(room + 1), wellKnownPolicies: { awsLoadBalancerController: true } })).reason,
      'InlinePolicyTooLarge',
    );
  });

  it('refuses a trust policy over the limit, and accepts one exactly at it', () => {
    // The namespace appears once in the trust policy (in sub); pad it to land on the limit.
    const sizeFor = (ns: string): number => minifiedLength(buildTrustPolicy({ ...ok(obj({}, { namespace: 'n' })).trust, namespace: ns }));
    const base = sizeFor('');
    const atLimit = 'n'.repeat(2048 - base);
    assert.equal(sizeFor(atLimit), 2048);
    assert.equal(minifiedLength(managedRole(obj({}, { namespace: atLimit })).trustPolicy), 2048);
    const p = fails(obj({}, { namespace: `${atLimit}n` }));
    assert.equal(p.reason, 'TrustPolicyTooLarge');
    assert.match(p.message, /2049 characters/);
    // A raised limit lets it through.
    managedRole(obj({}, { namespace: `${atLimit}n` }), identity({ trustPolicyLimit: 2049 }));
  });

  const mismatches: { name: string; spec: IamServiceAccountSpec; partition: Partition }[] = [
    {
      name: 'attachPolicyARNs in aws from an aws-cn cluster',
      spec: { attachPolicyARNs: ['arn:aws:iam::aws:policy/X'] },
      partition: 'aws-cn',
    },
    {
      name: 'attachPolicyARNs in aws-cn from an aws cluster',
      spec: { attachPolicyARNs: ['arn:aws-cn:iam::aws:policy/X'] },
      partition: 'aws',
    },
    {
      name: 'attachPolicyARNs in aws-us-gov from an aws cluster',
      spec: { attachPolicyARNs: ['arn:aws-us-gov:iam::aws:policy/X'] },
      partition: 'aws',
    },
    {
      name: 'attachRoleARN in aws from an aws-us-gov cluster',
      spec: { attachRoleARN: 'arn:aws:iam::123456789012:role/r' },
      partition: 'aws-us-gov',
    },
  ];
  for (const tc of mismatches) {
    it(`PartitionMismatch: ${tc.name}`, () => {
      const p = fails(obj(tc.spec), identity({ partition: tc.partition }));
      assert.equal(p.reason, 'PartitionMismatch');
      assert.match(p.message, new RegExp(`\\(${tc.partition}\\)`));
    });
  }

  it('PartitionMismatch: a permissions boundary in another partition', () => {
    const p = fails(obj({ permissionsBoundary: 'arn:aws:iam::aws:policy/B' }), identity({ partition: 'aws-cn' }));
    assert.equal(p.reason, 'PartitionMismatch');
  });
});

describe('desiredState modes', () => {
  it('attachRoleARN: uses the role as it is and annotates the ServiceAccount', () => {
    const arn = 'arn:aws:iam::210987654321:role/path/existing';
    const d = ok(obj({ attachRoleARN: arn, serviceAccount: { name: 'runner' } }));
    assert.equal(d.mode, 'attached');
    assert.equal(d.role, undefined);
    assert.equal(d.roleArn, arn);
    assert.equal(d.roleName, 'existing');
    assert.equal(d.trust.serviceAccountName, 'runner');
    assert.equal(d.serviceAccount?.annotations['eks.amazonaws.com/role-arn'], arn);
    assert.equal(d.deletionPolicy, 'Delete');
  });

  it('attachRoleARN in aws-cn', () => {
    const d = ok(obj({ attachRoleARN: 'arn:aws-cn:iam::123456789012:role/r' }), identity({ partition: 'aws-cn' }));
    assert.equal(d.mode, 'attached');
    assert.equal(d.trust.oidcProviderArn.split(':')[1], 'aws-cn');
  });

  it('roleOnly: a role and no ServiceAccount', () => {
    const d = ok(obj({ roleOnly: true }));
    assert.equal(d.mode, 'managed');
    assert.ok(d.role);
    assert.equal(d.serviceAccount, undefined);
    assert.equal(d.trust.serviceAccountName, 'app');
  });

  it('roleOnly: false still manages the ServiceAccount', () => {
    assert.ok(ok(obj({ roleOnly: false })).serviceAccount);
  });
});

describe('ownerTags / ownedBy', () => {
  const tags = ownerTags('prod', 'team', 'app');
  const cases: { name: string; tags: Record<string, string>; want: boolean }[] = [
    { name: 'own tags', tags, want: true },
    { name: 'own tags plus others', tags: { ...tags, extra: 'x' }, want: true },
    { name: 'another cluster', tags: { ...tags, 'irsa.dev/cluster': 'staging' }, want: false },
    { name: 'another namespace', tags: { ...tags, 'irsa.dev/namespace': 'x' }, want: false },
    { name: 'another name', tags: { ...tags, 'irsa.dev/name': 'x' }, want: false },
    { name: 'no managed-by', tags: { 'irsa.dev/cluster': 'prod', 'irsa.dev/namespace': 'team', 'irsa.dev/name': 'app' }, want: false },
    { name: 'no tags', tags: {}, want: false },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      assert.equal(ownedBy(tc.tags, 'prod', 'team', 'app'), tc.want);
    });
  }
});

describe('desiredState: spec.identity', () => {
  const CLUSTER_ARN = `arn:aws:eks:eu-west-1:${ACCOUNT}:cluster/prod`;
  const eksWorld = () => ({ ...identity(), clusterArn: CLUSTER_ARN });
  const want = (spec: IamServiceAccountSpec, keep = {}) => {
    const r = desiredState(obj(spec), eksWorld(), eksWorld(), 'sts.amazonaws.com', keep);
    if (!r.ok) throw new Error(r.problem.message);
    return r.desired;
  };
  const principals = (d: Desired) =>
    asArray(d.role?.trustPolicy.Statement).map((s) => Object.keys((s as { Principal: object }).Principal)[0]);

  it('IRSA (default): the OIDC statement, the role annotation, no association', () => {
    const d = want({});
    assert.deepEqual(principals(d), ['Federated']);
    assert.equal(d.association, undefined);
    assert.equal(d.serviceAccount?.annotations['eks.amazonaws.com/role-arn'], d.roleArn);
  });

  it('PodIdentity: the pods.eks statement, an owned association, no IRSA annotations (the ServiceAccount is still made)', () => {
    const d = want({ identity: 'PodIdentity', podIdentity: { targetRoleARN: 'arn:aws:iam::210987654321:role/t' } });
    assert.deepEqual(principals(d), ['Service']);
    assert.deepEqual(d.association, {
      clusterName: 'prod',
      namespace: 'team',
      serviceAccount: 'app',
      roleArn: d.roleArn,
      targetRoleArn: 'arn:aws:iam::210987654321:role/t',
      disableSessionTags: false,
      tags: ownerTags('prod', 'team', 'app'),
    });
    assert.deepEqual(Object.keys(d.serviceAccount?.annotations ?? {}), [OWNER_ANNOTATION]);
    assert.equal(d.serviceAccount?.create, true);
  });

  it('Both: both statements, the annotation and the association', () => {
    const d = want({ identity: 'Both' });
    assert.deepEqual(principals(d), ['Federated', 'Service']);
    assert.ok(d.association);
    assert.equal(d.serviceAccount?.annotations['eks.amazonaws.com/role-arn'], d.roleArn);
  });

  it('keeps a path no longer wanted in the trust while the object migrates, and only in the trust', () => {
    const d = want({ identity: 'PodIdentity' }, { irsa: true });
    assert.deepEqual(principals(d), ['Federated', 'Service']);
    assert.equal(d.serviceAccount?.annotations['eks.amazonaws.com/role-arn'], undefined);
    const back = want({}, { pod: true });
    assert.deepEqual(principals(back), ['Federated', 'Service']);
    assert.equal(back.association, undefined);
  });

  it('off EKS (no cluster ARN): PodIdentityNotAvailable', () => {
    const r = desiredState(obj({ identity: 'PodIdentity' }), identity(), identity());
    assert.equal(r.ok ? undefined : r.problem.reason, 'PodIdentityNotAvailable');
  });
});
