// The operator's own IAM policy (config/iam/operator-policy.json) is enough for the whole flow:
// the operator runs as an IAM user holding only that policy's actions, against a moto with
// authorization enforced. moto evaluates actions but not resources or conditions (it denies any
// statement with a condition, and matches IAM resources as "*"), so the test holds the policy's
// actions with Resource "*": it proves the action list is complete, and that what it leaves out
// is refused. The resource and condition scoping is proven by simulation in
// test/unit/iam/operator-policy.test.ts (config/iam/README.md).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AttachUserPolicyCommand,
  CreateAccessKeyCommand,
  CreatePolicyCommand,
  CreateUserCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { createOidcProvider, readTestenv, startMoto } from '../env/cluster.ts';
import { freePort } from '../env/processes.ts';
import { kubectl, newNamespace, REPO, startOperator, waitFor, waitForCondition, env } from './helpers.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: { StringEquals?: Record<string, string> };
}

it('runs the whole flow with only the actions of config/iam/operator-policy.json, under enforced authorization', async () => {
  const python = readTestenv().MOTO_PYTHON ?? '';
  const port = await freePort();
  // The first 6 requests (the set-up below) run unauthenticated; every later one is checked.
  const moto = startMoto(python, port, join(env().dir, 'moto-auth.log'), { INITIAL_NO_AUTH_ACTION_COUNT: '6' });
  const endpoint = `http://127.0.0.1:${port}`;
  const ns = await newNamespace('leastpriv');
  try {
    await waitFor('moto with authorization', async () => (await fetch(`${endpoint}/moto-api/`)).ok, 60_000, 100);
    const setup = new IAMClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'setup', secretAccessKey: 'setup' } });
    const policy = JSON.parse(readFileSync(join(REPO, 'config/iam/operator-policy.json'), 'utf8')) as { Statement: Statement[] };
    const allows = policy.Statement.filter((s) => s.Effect === 'Allow');
    const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
    assert.ok(!allows.flatMap(actionsOf).some((a) => a.includes('*')), 'no wildcard actions');
    // iam:PassRole only of its own roles and only to EKS Pod Identity (EKS checks it when an
    // association is made). This flow makes none (moto has no association API), and moto would
    // grant it on every role: it is left out here; the simulation proves its scope.
    const passRole = allows.filter((s) => actionsOf(s).includes('iam:PassRole'));
    assert.deepEqual(
      passRole.map((s) => [s.Resource, s.Condition?.StringEquals?.['iam:PassedToService']]),
      [['arn:PARTITION:iam::ACCOUNT_ID:role/irsa/*', 'pods.eks.amazonaws.com']],
      'PassRole only of its own roles, only to pods.eks.amazonaws.com',
    );
    const actions = allows.flatMap(actionsOf).filter((a) => a !== 'iam:PassRole');
    await createOidcProvider(endpoint);
    const boundary = await setup.send(
      new CreatePolicyCommand({
        PolicyName: 'irsa-boundary',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['s3:*', 'sqs:*', 'dynamodb:*'], Resource: '*' }],
        }),
      }),
    );
    const operatorPolicy = await setup.send(
      new CreatePolicyCommand({
        PolicyName: 'irsa-operator',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }),
      }),
    );
    await setup.send(new CreateUserCommand({ UserName: 'irsa-operator' }));
    await setup.send(new AttachUserPolicyCommand({ UserName: 'irsa-operator', PolicyArn: operatorPolicy.Policy?.Arn }));
    const key = (await setup.send(new CreateAccessKeyCommand({ UserName: 'irsa-operator' }))).AccessKey;
    const creds = { accessKeyId: key?.AccessKeyId ?? '', secretAccessKey: key?.SecretAccessKey ?? '' };
    const asOperator = new IAMClient({ region: 'us-east-1', endpoint, credentials: creds });

    // What the policy leaves out is refused: moto's authorization is on.
    await assert.rejects(asOperator.send(new CreateUserCommand({ UserName: 'escalate' })), /not authorized|AccessDenied/);

    // The SDK reads credentials from the environment when it first signs a request, so they stay
    // set while the operator runs.
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = creds.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = creds.secretAccessKey;
    const op = await startOperator({
      awsEndpoint: endpoint,
      accountId: '123456789012',
      rolePath: '/irsa/',
      permissionsBoundary: boundary.Policy?.Arn,
      watchNamespaces: [ns],
    });
    try {
      await kubectl(['apply', '-n', ns, '-f', join(REPO, 'examples/s3-reader.yaml'), '-f', join(REPO, 'examples/inline-policy.yaml')]);
      const s3 = await waitForCondition(ns, 's3-reader', 'Ready', 'True');
      await waitForCondition(ns, 'orders-api', 'Ready', 'True');
      const role = (await asOperator.send(new GetRoleCommand({ RoleName: s3.status?.roleName ?? '' }))).Role;
      assert.equal(role?.Path, '/irsa/');
      assert.equal(role?.PermissionsBoundary?.PermissionsBoundaryArn, boundary.Policy?.Arn);

      await kubectl([
        'patch',
        '-n',
        ns,
        'iamsa',
        's3-reader',
        '--type=merge',
        '-p',
        '{"spec":{"attachPolicyARNs":["arn:aws:iam::aws:policy/AmazonSQSReadOnlyAccess"],"tags":{"team":"a"}}}',
      ]);
      await waitForCondition(ns, 's3-reader', 'Ready', 'True');
      await kubectl(['delete', '-n', ns, 'iamsa', '--all', '--wait=true', '--timeout=30s']);
      await assert.rejects(asOperator.send(new GetRoleCommand({ RoleName: s3.status?.roleName ?? '' })), /cannot be found|NoSuchEntity/);
    } finally {
      await op.stop();
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
    }
  } finally {
    await moto.stop();
  }
});
