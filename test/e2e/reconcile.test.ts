// The reconcile loop end to end: kubectl applies YAML to the real apiserver, the operator writes
// IAM in moto and the ServiceAccount in the cluster; IAM is read back directly from moto.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  CreateRoleCommand,
  DetachRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import type { Operator } from '../../src/operator.ts';
import {
  applyIamsa,
  awsCalls,
  decodeDoc,
  getIamsa,
  getJson,
  iam,
  isWrite,
  kubectl,
  kubectlResult,
  newNamespace,
  operatorKubeWrites,
  REPO,
  resetAws,
  startOperator,
  TEST_ISSUER,
  waitFor,
  waitForCondition,
  waitGone,
} from './helpers.ts';

const ISSUER_HOST = TEST_ISSUER.replace('https://', '');
const PROVIDER_ARN = `arn:aws:iam::123456789012:oidc-provider/${ISSUER_HOST}`;

function expectedTrust(ns: string, sa: string, aud = 'sts.amazonaws.com') {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: PROVIDER_ARN },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: { StringEquals: { [`${ISSUER_HOST}:sub`]: `system:serviceaccount:${ns}:${sa}`, [`${ISSUER_HOST}:aud`]: aud } },
      },
    ],
  };
}

interface SaJson {
  metadata: {
    name: string;
    uid: string;
    resourceVersion: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: { manager: string }[];
  };
}

async function attached(role: string): Promise<string[]> {
  const out = await iam().send(new ListAttachedRolePoliciesCommand({ RoleName: role }));
  return (out.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort();
}

async function inlineNames(role: string): Promise<string[]> {
  return ((await iam().send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? []).sort();
}

async function roleExists(role: string): Promise<boolean> {
  try {
    await iam().send(new GetRoleCommand({ RoleName: role }));
    return true;
  } catch {
    return false;
  }
}

function reconcileCount(op: Operator): Promise<number> {
  return op.metrics.reconciles.get().then((m) => m.values.reduce((n, v) => n + v.value, 0));
}

describe('reconcile against kube-apiserver and moto', () => {
  let op: Operator;
  let ns: string;

  before(async () => {
    // The provider accepts the audience one test changes to (STS would refuse any other).
    await resetAws(undefined, undefined, ['sts.amazonaws.com', 'my-audience']);
    op = await startOperator();
  });
  after(async () => {
    await op.stop();
  });
  beforeEach(async () => {
    // Each test has its own namespace; role names carry it, so tests never share a role. IAM is
    // emptied once per suite: emptying it per test would make the operator rebuild the roles of
    // earlier tests' objects in the middle of later tests' counts.
    ns = await newNamespace();
  });

  it('gives the s3-reader example a role with the exact trust policy, its policy and an annotated ServiceAccount', async () => {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/s3-reader.yaml')]);
    await kubectl(['wait', '-n', ns, '--for=condition=Ready', '--timeout=30s', 'iamsa/s3-reader']);
    const obj = await getIamsa(ns, 's3-reader');
    const roleName = obj.status?.roleName ?? '';
    assert.equal(roleName, `local.${ns}.s3-reader`);
    assert.equal(obj.status?.roleARN, `arn:aws:iam::123456789012:role/${roleName}`);
    assert.deepEqual(obj.metadata.finalizers, ['irsa.dev/finalizer']);

    const role = (await iam().send(new GetRoleCommand({ RoleName: roleName }))).Role;
    assert.deepEqual(decodeDoc(role?.AssumeRolePolicyDocument), expectedTrust(ns, 's3-reader'));
    assert.deepEqual(await attached(roleName), ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess']);
    const tags = Object.fromEntries((role?.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    assert.equal(tags['irsa.dev/namespace'], ns);
    assert.equal(tags['irsa.dev/name'], 's3-reader');

    const sa = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 's3-reader']);
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], obj.status?.roleARN);
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/audience'], 'sts.amazonaws.com');
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/sts-regional-endpoints'], 'true');
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/token-expiration'], '86400');
    assert.equal(sa.metadata.labels?.['irsa.dev/managed-by'], 'irsa-operator');

    const table = await kubectl(['get', '-n', ns, 'iamsa']);
    assert.match(table, /^NAME\s+READY\s+REASON\s+ROLE ARN\s+AGE/m);
    assert.match(table, new RegExp(`^s3-reader\\s+True\\s+Synced\\s+${obj.status?.roleARN ?? ''}`, 'm'));
  });

  it('makes no AWS or Kubernetes write on a second pass (operator restarted, everything re-read)', async () => {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/inline-policy.yaml')]);
    await waitForCondition(ns, 'orders-api', 'Ready', 'True');
    const before = await getIamsa(ns, 'orders-api');
    const sa = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'orders-api']);

    await op.stop();
    const callsBefore = (await awsCalls()).length;
    const kubeWritesBefore = operatorKubeWrites().length;
    op = await startOperator();
    const roleName = before.status?.roleName ?? '';
    // The new operator reconciles every object once at start: wait until it has read this role.
    await waitFor('the restarted operator to read the role', async () =>
      (await awsCalls()).slice(callsBefore).some((c) => c.operation === 'GetRolePolicy'),
    );
    await waitFor(
      'the work queue to settle',
      async () => (await reconcileCount(op)) >= 1 && op.metrics.queueDepth.get().then((g) => g.values[0]?.value === 0),
    );
    const calls = (await awsCalls()).slice(callsBefore);
    assert.deepEqual(calls.filter(isWrite), [], 'no AWS write on the second pass');
    assert.ok(
      calls.some((c) => c.operation === 'GetRole'),
      'the second pass did read the role',
    );
    assert.deepEqual(operatorKubeWrites().slice(kubeWritesBefore), [], 'no Kubernetes write on the second pass');
    const afterObj = await getIamsa(ns, 'orders-api');
    assert.deepEqual(afterObj.status, before.status);
    const saAfter = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'orders-api']);
    assert.equal(saAfter.metadata.resourceVersion, sa.metadata.resourceVersion);
    assert.deepEqual(await inlineNames(roleName), ['irsa-attach-policy']);
  });

  it('follows updates: policies added and removed, audience changed, ServiceAccount renamed', async () => {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/s3-reader.yaml')]);
    const first = await waitForCondition(ns, 's3-reader', 'Ready', 'True');
    const roleName = first.status?.roleName ?? '';

    await kubectl([
      'patch',
      '-n',
      ns,
      'iamsa',
      's3-reader',
      '--type=merge',
      '-p',
      JSON.stringify({
        spec: {
          attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess'],
          audience: 'my-audience',
          serviceAccount: { name: 'renamed' },
          attachPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] },
        },
      }),
    ]);
    const updated = await waitForCondition(ns, 's3-reader', 'Ready', 'True');
    assert.equal(updated.status?.roleName, roleName, 'same role');
    assert.equal(updated.status?.serviceAccountName, 'renamed');
    assert.deepEqual(await attached(roleName), ['arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess']);
    assert.deepEqual(await inlineNames(roleName), ['irsa-attach-policy']);
    const role = (await iam().send(new GetRoleCommand({ RoleName: roleName }))).Role;
    assert.deepEqual(decodeDoc(role?.AssumeRolePolicyDocument), expectedTrust(ns, 'renamed', 'my-audience'));
    const sa = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'renamed']);
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/audience'], 'my-audience');
    await waitGone(['-n', ns, 'serviceaccount', 's3-reader']);

    await kubectl(['patch', '-n', ns, 'iamsa', 's3-reader', '--type=json', '-p', '[{"op":"remove","path":"/spec/attachPolicy"}]']);
    await waitFor('the inline policy to be deleted', async () => (await inlineNames(roleName)).length === 0);
  });

  it('repairs drift in AWS when the drift check runs', async () => {
    await op.stop();
    op = await startOperator({ driftPeriodSeconds: 1 });
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/s3-reader.yaml')]);
    const obj = await waitForCondition(ns, 's3-reader', 'Ready', 'True');
    const roleName = obj.status?.roleName ?? '';
    await iam().send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess' }));
    await iam().send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: roleName,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await waitFor('the policy to be attached again', async () => (await attached(roleName)).length === 1, 15_000);
    await waitFor(
      'the trust policy to be restored',
      async () => {
        const role = (await iam().send(new GetRoleCommand({ RoleName: roleName }))).Role;
        return JSON.stringify(decodeDoc(role?.AssumeRolePolicyDocument)) === JSON.stringify(expectedTrust(ns, 's3-reader'));
      },
      15_000,
    );
    await kubectl(['annotate', '-n', ns, 'serviceaccount', 's3-reader', 'eks.amazonaws.com/role-arn-']);
    await waitFor(
      'the role annotation to come back',
      async () => {
        const sa = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 's3-reader']);
        return sa.metadata.annotations?.['eks.amazonaws.com/role-arn'] === obj.status?.roleARN;
      },
      15_000,
    );
    await op.stop();
    op = await startOperator();
  });

  it('recreates its ServiceAccount when someone deletes it', async () => {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/s3-reader.yaml')]);
    const obj = await waitForCondition(ns, 's3-reader', 'Ready', 'True');
    const first = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 's3-reader']);
    await kubectl(['delete', '-n', ns, 'serviceaccount', 's3-reader']);
    await waitFor('a new ServiceAccount with the role annotation', async () => {
      const r = await kubectlResult(['get', '-n', ns, 'serviceaccount', 's3-reader', '-o', 'json']);
      if (r.code !== 0) return false;
      const sa = JSON.parse(r.stdout) as SaJson;
      return sa.metadata.uid !== first.metadata.uid && sa.metadata.annotations?.['eks.amazonaws.com/role-arn'] === obj.status?.roleARN;
    });
  });

  it('deletes the role and its ServiceAccount with deletionPolicy Delete', async () => {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/s3-reader.yaml')]);
    const obj = await waitForCondition(ns, 's3-reader', 'Ready', 'True');
    const roleName = obj.status?.roleName ?? '';
    assert.ok(await roleExists(roleName));
    await kubectl(['delete', '-n', ns, 'iamsa', 's3-reader', '--wait=true', '--timeout=30s']);
    assert.equal(await roleExists(roleName), false);
    await waitGone(['-n', ns, 'serviceaccount', 's3-reader']);
  });

  it('keeps the role with deletionPolicy Retain and still removes the finalizer', async () => {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/retain.yaml')]);
    const obj = await waitForCondition(ns, 'backup-writer', 'Ready', 'True');
    const roleName = obj.status?.roleName ?? '';
    const role = (await iam().send(new GetRoleCommand({ RoleName: roleName }))).Role;
    assert.equal(role?.Path, '/data/');
    await kubectl(['delete', '-n', ns, 'iamsa', 'backup-writer', '--wait=true', '--timeout=30s']);
    assert.equal(await roleExists(roleName), true);
    assert.deepEqual(await attached(roleName), ['arn:aws:iam::aws:policy/AmazonS3FullAccess']);
    await waitGone(['-n', ns, 'serviceaccount', 'backup-writer']);
  });

  /** Helm's ServiceAccount `app`: server-side applied by the field manager helm. */
  const applyAsHelm = async (labels: Record<string, string>) => {
    const sa = {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'app', namespace: ns, labels, annotations: { 'meta.helm.sh/release-name': 'app' } },
    };
    await kubectl(['apply', '--server-side', '--field-manager=helm', '-f', '-'], JSON.stringify(sa));
  };

  it('keeps fields another manager (Helm) owns on a ServiceAccount it takes over, and gives them back on delete', async () => {
    await applyAsHelm({ 'app.kubernetes.io/managed-by': 'Helm', chart: 'app-1.0' });
    await applyIamsa(ns, 'app', {
      serviceAccount: { overrideExisting: true },
      attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
    });
    const obj = await waitForCondition(ns, 'app', 'Ready', 'True');
    const sa = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'app', '--show-managed-fields']);
    assert.equal(sa.metadata.labels?.chart, 'app-1.0');
    assert.equal(sa.metadata.labels?.['app.kubernetes.io/managed-by'], 'Helm', "Helm's managed-by label untouched");
    assert.equal(sa.metadata.annotations?.['meta.helm.sh/release-name'], 'app');
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], obj.status?.roleARN);
    const managers = (sa.metadata.managedFields ?? []).map((m) => m.manager).sort();
    assert.deepEqual(managers, ['helm', 'irsa-operator']);

    await kubectl(['delete', '-n', ns, 'iamsa', 'app', '--wait=true', '--timeout=30s']);
    const released = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'app']);
    assert.equal(released.metadata.annotations?.['eks.amazonaws.com/role-arn'], undefined, 'our annotation removed');
    assert.equal(released.metadata.annotations?.['meta.helm.sh/release-name'], 'app', "Helm's annotation kept");
    assert.equal(released.metadata.labels?.chart, 'app-1.0', "Helm's label kept");
  });

  it('removes a label or annotation dropped from the spec from the ServiceAccount, and keeps the keys Helm owns', async () => {
    await applyAsHelm({ chart: 'app-1.0', shared: 'helm' });
    await applyIamsa(ns, 'app', {
      serviceAccount: { overrideExisting: true, labels: { tier: 'web', shared: 'helm' }, annotations: { note: 'from-spec' } },
    });
    await waitForCondition(ns, 'app', 'Ready', 'True');
    const before = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'app']);
    assert.equal(before.metadata.labels?.tier, 'web');
    assert.equal(before.metadata.annotations?.note, 'from-spec');

    await applyIamsa(ns, 'app', { serviceAccount: { overrideExisting: true } });
    await waitFor('the dropped label and annotation to go', async () => {
      const sa = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'app']);
      return sa.metadata.labels?.tier === undefined && sa.metadata.annotations?.note === undefined;
    });
    const after = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'app']);
    assert.equal(after.metadata.labels?.chart, 'app-1.0', "Helm's label kept");
    assert.equal(after.metadata.labels?.shared, 'helm', 'a key both managers applied stays: Helm still owns it');
    assert.equal(after.metadata.annotations?.['meta.helm.sh/release-name'], 'app', "Helm's annotation kept");
    assert.ok(after.metadata.annotations?.['eks.amazonaws.com/role-arn'], 'the role annotation stays');
  });

  it('does not take over a ServiceAccount that is not its own without overrideExisting', async () => {
    await kubectl(['create', '-n', ns, 'serviceaccount', 's3-reader']);
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/s3-reader.yaml')]);
    const obj = await waitForCondition(ns, 's3-reader', 'Ready', 'False', 'ServiceAccountExists');
    const stalled = obj.status?.conditions?.find((c) => c.type === 'Stalled');
    assert.equal(stalled?.status, 'True');
    assert.match(stalled?.message ?? '', /overrideExisting: true/);
    const sa = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 's3-reader']);
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], undefined);
    await waitFor('a Warning Event with the reason', async () =>
      /ServiceAccountExists/.test(
        await kubectl([
          'get',
          '-n',
          ns,
          'events',
          '--field-selector',
          'involvedObject.name=s3-reader',
          '-o',
          'jsonpath={.items[*].reason}',
        ]),
      ),
    );
  });

  it('uses an existing role with attachRoleARN only when its trust allows this ServiceAccount', async () => {
    await iam().send(
      new CreateRoleCommand({
        RoleName: 'payments-terraform',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/existing-role.yaml')]);
    const waiting = await waitForCondition(ns, 'payments', 'Ready', 'False', 'TrustPolicyMismatch');
    assert.match(waiting.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /system:serviceaccount:.*:payments/);
    const callsBefore = (await awsCalls()).length;
    await iam().send(
      new UpdateAssumeRolePolicyCommand({ RoleName: 'payments-terraform', PolicyDocument: JSON.stringify(expectedTrust(ns, 'payments')) }),
    );
    await kubectl(['annotate', '-n', ns, 'iamsa', 'payments', 'retry=now']);
    await waitForCondition(ns, 'payments', 'Ready', 'True');
    assert.deepEqual((await awsCalls()).slice(callsBefore).filter(isWrite), [], 'attachRoleARN writes nothing to IAM');
    const sa = await getJson<SaJson>(['-n', ns, 'get', 'serviceaccount', 'payments']);
    assert.equal(sa.metadata.annotations?.['eks.amazonaws.com/role-arn'], 'arn:aws:iam::123456789012:role/payments-terraform');
    await kubectl(['delete', '-n', ns, 'iamsa', 'payments', '--wait=true', '--timeout=30s']);
    assert.equal(await roleExists('payments-terraform'), true, 'an attached role is never deleted');
  });

  it('manages only the role with roleOnly', async () => {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/role-only.yaml')]);
    const obj = await waitForCondition(ns, 'batch-runner', 'Ready', 'True');
    assert.equal(
      obj.status?.conditions?.some((c) => c.type === 'ServiceAccountSynced'),
      false,
    );
    assert.equal((await kubectlResult(['get', '-n', ns, 'serviceaccount', 'batch-runner'])).code, 1, 'no ServiceAccount created');
    const role = (await iam().send(new GetRoleCommand({ RoleName: obj.status?.roleName ?? '' }))).Role;
    assert.deepEqual(decodeDoc(role?.AssumeRolePolicyDocument), expectedTrust(ns, 'batch-runner'));
  });

  it('refuses a role of the same name that it does not own (RoleNotOwned) and leaves it alone', async () => {
    await iam().send(new CreateRoleCommand({ RoleName: 'taken-role', AssumeRolePolicyDocument: JSON.stringify(expectedTrust(ns, 'x')) }));
    await applyIamsa(ns, 'grabber', { roleName: 'taken-role', attachPolicyARNs: ['arn:aws:iam::aws:policy/AmazonS3FullAccess'] });
    await waitForCondition(ns, 'grabber', 'Stalled', 'True', 'RoleNotOwned');
    assert.deepEqual(await attached('taken-role'), []);
    await kubectl(['delete', '-n', ns, 'iamsa', 'grabber', '--wait=true', '--timeout=30s']);
    assert.equal(await roleExists('taken-role'), true);
  });

  it('reports a bad inline policy the API server cannot catch as InvalidSpec without calling AWS', async () => {
    const callsBefore = (await awsCalls()).length;
    await applyIamsa(ns, 'bad', { attachPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*' }] } });
    const obj = await waitForCondition(ns, 'bad', 'Stalled', 'True', 'InvalidSpec');
    assert.match(obj.status?.conditions?.find((c) => c.type === 'Ready')?.message ?? '', /Resource/);
    const writes = (await awsCalls()).slice(callsBefore).filter(isWrite);
    assert.deepEqual(writes, []);
  });

  it('reads inline policy documents back as IAM stores them', async () => {
    await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/litmus-chaos-runner.yaml')]);
    const obj = await waitForCondition(ns, 'litmus-admin', 'Ready', 'True');
    const doc = await iam().send(new GetRolePolicyCommand({ RoleName: obj.status?.roleName ?? '', PolicyName: 'irsa-attach-policy' }));
    const parsed = decodeDoc(doc.PolicyDocument) as { Statement: unknown[] };
    assert.equal(parsed.Statement.length, 2);
  });
});
