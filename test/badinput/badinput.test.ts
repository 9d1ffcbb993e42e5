// npm run test:badinput: malformed and hostile IamServiceAccounts, each either rejected by the API
// server at apply time (with a message naming the field) or answered by the operator with a
// reason, while healthy objects applied alongside stay Ready and untouched in IAM and the cluster.
// Ends with one line:
//   bad inputs: tried=<n> rejected_with_reason=<n> side_effects=<n> healthy_intact=<n>/<m>
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam';
import type { Operator } from '../../src/operator.ts';
import {
  admin,
  ALLOWED_ISSUERS,
  BAD_NS,
  caseDocument,
  cases,
  HEALTHY,
  HEALTHY_NS,
  healthyRole,
  OPEN_ACCOUNT,
  PREFIX,
  stmt,
} from './cases.ts';
import {
  awsCalls,
  getIamsa,
  getJson,
  iam,
  isWrite,
  kubectl,
  kubectlResult,
  resetAws,
  startOperator,
  waitFor,
  waitGone,
} from '../e2e/helpers.ts';

interface Snapshot {
  roles: Record<string, string>;
  serviceAccounts: Record<string, string>;
  objects: Record<string, string>;
}

async function roleState(name: string): Promise<string> {
  const role = (await iam().send(new GetRoleCommand({ RoleName: name }))).Role;
  const attached = (await iam().send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies?.map(
    (p) => p.PolicyArn,
  ).sort();
  const inline = (await iam().send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames?.sort();
  return JSON.stringify({ trust: role?.AssumeRolePolicyDocument, tags: role?.Tags, attached, inline, boundary: role?.PermissionsBoundary });
}

async function snapshot(): Promise<Snapshot> {
  const roles: Record<string, string> = {};
  for (const name of [...HEALTHY.map(healthyRole), 'admin-role', `${PREFIX}existing-admin`]) roles[name] = await roleState(name);
  const serviceAccounts: Record<string, string> = {};
  const objects: Record<string, string> = {};
  for (const name of HEALTHY) {
    const sa = await getJson<{ metadata: { resourceVersion: string } }>(['-n', HEALTHY_NS, 'get', 'serviceaccount', name]);
    serviceAccounts[name] = sa.metadata.resourceVersion;
    const obj = await getIamsa(HEALTHY_NS, name);
    objects[name] = JSON.stringify(obj.status);
  }
  return { roles, serviceAccounts, objects };
}

/** Every IAM role of the account whose ownership tags name an object other than the healthy ones. */
async function strayRoles(): Promise<string[]> {
  const roles = (await iam().send(new ListRolesCommand({ MaxItems: 1000 }))).Roles ?? [];
  const known = new Set([...HEALTHY.map(healthyRole), 'admin-role', `${PREFIX}existing-admin`]);
  return roles.map((r) => r.RoleName ?? '').filter((n) => !known.has(n));
}

async function straySaAnnotations(): Promise<string[]> {
  const list = await getJson<{ items: { metadata: { namespace: string; name: string; annotations?: Record<string, string> } }[] }>([
    'get',
    'serviceaccounts',
    '-A',
  ]);
  return list.items
    .filter(
      (sa) =>
        sa.metadata.annotations?.['irsa.dev/owner'] !== undefined &&
        !(sa.metadata.namespace === HEALTHY_NS && HEALTHY.includes(sa.metadata.name)),
    )
    .filter(
      (sa) =>
        !(
          sa.metadata.namespace === BAD_NS &&
          sa.metadata.name === 'owned-elsewhere' &&
          sa.metadata.annotations?.['irsa.dev/owner'] === 'someone-else'
        ),
    )
    .map((sa) => `${sa.metadata.namespace}/${sa.metadata.name}`);
}

describe('bad inputs', () => {
  let op: Operator;
  let before0: Snapshot;
  let rejected = 0;
  let sideEffects = 0;
  let intact = 0;

  before(async () => {
    await resetAws();
    for (const ns of [HEALTHY_NS, BAD_NS, 'other-1']) await kubectl(['create', 'namespace', ns]);
    await kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'owned-elsewhere', namespace: BAD_NS, annotations: { 'irsa.dev/owner': 'someone-else' } },
      }),
    );
    await kubectl(['create', '-n', BAD_NS, 'serviceaccount', 'plain']);
    await iam().send(
      new CreateRoleCommand({
        RoleName: 'admin-role',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await iam().send(new AttachRolePolicyCommand({ RoleName: 'admin-role', PolicyArn: admin }));
    await iam().send(
      new CreateRoleCommand({
        RoleName: `${PREFIX}existing-admin`,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await iam().send(new AttachRolePolicyCommand({ RoleName: `${PREFIX}existing-admin`, PolicyArn: admin }));
    await iam().send(
      new CreatePolicyCommand({
        PolicyName: 'escalate',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }] }),
      }),
    );
    await iam().send(
      new CreatePolicyCommand({
        PolicyName: 'not-s3',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Sid: 'AllButS3', Effect: 'Allow', NotAction: 's3:*', Resource: '*' }],
        }),
      }),
    );
    op = await startOperator({
      rolePrefix: PREFIX,
      allowedNamespaces: ['healthy-*', 'bad-*'],
      maxRolesPerNamespace: HEALTHY.length,
      accounts: { [OPEN_ACCOUNT]: { roleArn: `arn:aws:iam::${OPEN_ACCOUNT}:role/irsa-operator-target`, allowedNamespaces: ['healthy-*'] } },
      allowedIssuers: ALLOWED_ISSUERS,
    });
    for (const [i, name] of HEALTHY.entries()) {
      const spec =
        i === 0
          ? { attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'] }
          : i === 1
            ? stmt({ Action: 'dynamodb:GetItem' })
            : { wellKnownPolicies: { externalDNS: true } };
      await kubectl(
        ['apply', '-f', '-'],
        JSON.stringify({ apiVersion: 'irsa.dev/v1alpha1', kind: 'IamServiceAccount', metadata: { name, namespace: HEALTHY_NS }, spec }),
      );
      await waitFor(
        `${name} Ready`,
        async () => (await getIamsa(HEALTHY_NS, name)).status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true,
        30_000,
        100,
      );
    }
    before0 = await snapshot();
  });

  after(async () => {
    await op.stop();
    console.log(
      `bad inputs: tried=${cases.length} rejected_with_reason=${rejected} side_effects=${sideEffects} healthy_intact=${intact}/${HEALTHY.length}`,
    );
  });

  for (const [i, tc] of cases.entries()) {
    it(`${'apply' in tc.want ? 'rejects at apply' : 'answers with a reason'}: ${tc.name}`, async () => {
      const ns = tc.namespace ?? BAD_NS;
      const name = `bad-${i}`;
      const callsBefore = (await awsCalls()).length;
      const doc = caseDocument(tc, i);
      const applied = await kubectlResult(['apply', '-n', ns, '-f', '-'], doc);
      if ('apply' in tc.want) {
        assert.notEqual(applied.code, 0, `kubectl apply must fail; it said: ${applied.stdout}`);
        assert.match(applied.stderr, tc.want.apply);
      } else {
        assert.equal(applied.code, 0, applied.stderr);
        const { reason: want, message = /./ } = tc.want;
        let last = '';
        await waitFor(
          `${ns}/${name} Ready=False ${want}`,
          async () => {
            const obj = await getIamsa(ns, name);
            const ready = obj.status?.conditions?.find((c) => c.type === 'Ready');
            last = JSON.stringify(ready);
            return ready?.status === 'False' && ready.reason === want && message.test(ready.message);
          },
          20_000,
          100,
        ).catch((e: unknown) => {
          throw new Error(`${(e as Error).message}; last Ready: ${last}`);
        });
        await kubectl(['delete', '-n', ns, 'iamsa', name, '--wait=true', '--timeout=30s']);
        await waitGone(['-n', ns, 'iamsa', name]);
      }
      rejected++;
      const writes = (await awsCalls()).slice(callsBefore).filter(isWrite);
      const stray = [...(await strayRoles()), ...(await straySaAnnotations())];
      if (writes.length > 0 || stray.length > 0) sideEffects++;
      assert.deepEqual(writes, [], 'no AWS write');
      assert.deepEqual(stray, [], 'no role or ServiceAccount left behind');
    });
  }

  it('leaves the healthy objects Ready and their roles and ServiceAccounts untouched', async () => {
    const now = await snapshot();
    for (const name of HEALTHY) {
      const same =
        now.roles[healthyRole(name)] === before0.roles[healthyRole(name)] &&
        now.serviceAccounts[name] === before0.serviceAccounts[name] &&
        now.objects[name] === before0.objects[name];
      if (same) intact++;
    }
    assert.deepEqual(now, before0);
    assert.equal(intact, HEALTHY.length);
    assert.ok(cases.length >= 80, `only ${cases.length} cases`);
  });
});
