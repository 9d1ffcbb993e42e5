// The test environment's EKS Pod Identity association store (test/env/pod-identity-store.ts)
// against botocore's EKS model, the source the SDKs are generated from: through the real
// @aws-sdk/client-eks, every operation answers, and every answer fits the operation's output
// shape; every required member, type, length and range the model states is enforced; each error
// is one the model lists for the operation, with its HTTP status; clientRequestToken is idempotent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { botocoreModelPath, loadModel, shapeProblem } from '../env/aws-model.ts';
import { POD_IDENTITY_OPERATIONS, PodIdentityStore, type PodIdentityOperation, type StoreAnswer } from '../env/pod-identity-store.ts';

const model = loadModel(botocoreModelPath('eks'));
const CLUSTER_ARN = 'arn:aws:eks:us-east-1:123456789012:cluster/prod';
const ROLE = 'arn:aws:iam::123456789012:role/app';
const store = new PodIdentityStore(model, { cluster: (name) => Promise.resolve(name === 'prod' ? CLUSTER_ARN : undefined) });
/** Each answer, with the operation it was for. */
const answers: { operation: PodIdentityOperation; answer: StoreAnswer }[] = [];
let server: Server;
let eks: EKSClient;

/** A request as bytes on the wire (what the SDK would refuse to send), recorded with the SDK's. */
async function raw(method: string, url: string, body?: unknown): Promise<StoreAnswer> {
  const answer = await store.handle({ method, url, body: body === undefined ? '' : JSON.stringify(body) });
  const routed = store.route(method, url);
  if (routed) answers.push({ operation: routed.operation, answer });
  return answer;
}

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const routed = store.route(req.method ?? 'GET', req.url ?? '/');
      void store
        .handle({ method: req.method ?? 'GET', url: req.url ?? '/', body: Buffer.concat(chunks).toString('utf8') })
        .then((answer) => {
          if (routed) answers.push({ operation: routed.operation, answer });
          res
            .writeHead(answer.status, {
              'Content-Type': 'application/json',
              ...(answer.errorType ? { 'x-amzn-ErrorType': answer.errorType } : {}),
            })
            .end(JSON.stringify(answer.body));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  eks = new EKSClient({
    region: 'us-east-1',
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    maxAttempts: 1,
  });
});

after(async () => {
  eks.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const codeOf = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => (e as { name: string }).name,
  );

describe('the Pod Identity store through @aws-sdk/client-eks', () => {
  it('creates, describes, lists, updates and deletes, and every answer fits the model', async () => {
    const made = await eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'prod',
        namespace: 'team-a',
        serviceAccount: 'app',
        roleArn: ROLE,
        tags: { owner: 'me' },
      }),
    );
    const id = made.association?.associationId ?? '';
    assert.match(id, /^a-[0-9a-z]{17}$/);
    assert.equal(made.association?.associationArn, `arn:aws:eks:us-east-1:123456789012:podidentityassociation/prod/${id}`);
    const described = await eks.send(new DescribePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id }));
    assert.deepEqual(described.association?.tags, { owner: 'me' });
    const listed = await eks.send(
      new ListPodIdentityAssociationsCommand({ clusterName: 'prod', namespace: 'team-a', serviceAccount: 'app' }),
    );
    assert.deepEqual(
      listed.associations?.map((a) => a.associationId),
      [id],
    );
    const target = 'arn:aws:iam::210987654321:role/target';
    const updated = await eks.send(
      new UpdatePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id, targetRoleArn: target }),
    );
    assert.equal(updated.association?.targetRoleArn, target);
    assert.ok(updated.association?.externalId, 'a target role comes with an external ID');
    const cleared = await eks.send(new UpdatePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id, targetRoleArn: '' }));
    assert.equal(cleared.association?.targetRoleArn, undefined);
    await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id }));
    assert.equal(
      await codeOf(eks.send(new DescribePodIdentityAssociationCommand({ clusterName: 'prod', associationId: id }))),
      'ResourceNotFoundException',
    );
    for (const { operation, answer } of answers.filter((a) => a.answer.status === 200)) {
      const shape = model.operations[operation]?.output?.shape ?? '';
      assert.equal(shapeProblem(model, shape, answer.body, ''), undefined, `${operation}'s answer fits ${shape}`);
    }
  });

  it('honours clientRequestToken: the same token answers the same association; with other parameters it is refused', async () => {
    const input = { clusterName: 'prod', namespace: 'team-b', serviceAccount: 'app', roleArn: ROLE, clientRequestToken: 'token-1' };
    const first = await eks.send(new CreatePodIdentityAssociationCommand(input));
    const again = await eks.send(new CreatePodIdentityAssociationCommand(input));
    assert.equal(again.association?.associationId, first.association?.associationId);
    assert.equal(
      await codeOf(eks.send(new CreatePodIdentityAssociationCommand({ ...input, roleArn: 'arn:aws:iam::123456789012:role/other' }))),
      'InvalidRequestException',
    );
    // Without a token of its own, the SDK makes one per call: a second create is a new request.
    const { clientRequestToken: _t, ...untokened } = input;
    assert.equal(await codeOf(eks.send(new CreatePodIdentityAssociationCommand(untokened))), 'ResourceInUseException');
  });

  it('pages a list by maxResults and nextToken', async () => {
    for (const sa of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      await eks.send(
        new CreatePodIdentityAssociationCommand({ clusterName: 'prod', namespace: 'paged', serviceAccount: sa, roleArn: ROLE }),
      );
    }
    const seen: string[] = [];
    let nextToken: string | undefined;
    let pages = 0;
    do {
      const page = await eks.send(
        new ListPodIdentityAssociationsCommand({ clusterName: 'prod', namespace: 'paged', maxResults: 2, nextToken }),
      );
      seen.push(...(page.associations ?? []).map((a) => a.serviceAccount ?? ''));
      nextToken = page.nextToken;
      pages++;
    } while (nextToken);
    assert.deepEqual(seen.sort(), ['p1', 'p2', 'p3', 'p4', 'p5']);
    assert.equal(pages, 3);
  });

  it('answers an unknown cluster with ResourceNotFoundException', async () => {
    assert.equal(await codeOf(eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'staging' }))), 'ResourceNotFoundException');
  });

  it('stops at the per-cluster limit with ResourceLimitExceededException', async () => {
    const small = new PodIdentityStore(model, { cluster: () => Promise.resolve(CLUSTER_ARN), limit: 2 });
    const create = (sa: string) =>
      small.handle({
        method: 'POST',
        url: '/clusters/prod/pod-identity-associations',
        body: JSON.stringify({ namespace: 'n', serviceAccount: sa, roleArn: ROLE }),
      });
    assert.equal((await create('a')).status, 200);
    assert.equal((await create('b')).status, 200);
    const third = await create('c');
    assert.equal(third.errorType, 'ResourceLimitExceededException');
    assert.equal(third.status, 400);
  });
});

describe("the Pod Identity store enforces the model's input shapes", () => {
  const CREATE = '/clusters/prod/pod-identity-associations';
  const valid = { namespace: 'n', serviceAccount: 's', roleArn: ROLE };

  for (const operation of POD_IDENTITY_OPERATIONS) {
    const op = model.operations[operation];
    const shape = model.shapes[op?.input?.shape ?? ''];
    const bodyRequired = (shape?.required ?? []).filter((m) => shape?.members?.[m]?.location === undefined);
    for (const member of bodyRequired) {
      it(`${operation}: without ${member}, InvalidParameterException`, async () => {
        const { [member as keyof typeof valid]: _dropped, ...rest } = valid;
        const answer = await raw('POST', CREATE, rest);
        assert.equal(answer.errorType, 'InvalidParameterException', JSON.stringify(answer.body));
        assert.match(String(answer.body.message), new RegExp(member));
      });
    }
  }

  const refused: [string, string, unknown][] = [
    ['a number for a string', CREATE, { ...valid, namespace: 5 }],
    ['a string for a boolean', CREATE, { ...valid, disableSessionTags: 'yes' }],
    ['an empty tag map (min 1)', CREATE, { ...valid, tags: {} }],
    ['51 tags (max 50)', CREATE, { ...valid, tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }],
    ['a tag key of 129 characters (max 128)', CREATE, { ...valid, tags: { ['k'.repeat(129)]: 'v' } }],
    ['a tag value of 257 characters (max 256)', CREATE, { ...valid, tags: { k: 'v'.repeat(257) } }],
    ['an unknown member', CREATE, { ...valid, roleARN: ROLE }],
    ['a roleArn that is no role ARN', CREATE, { ...valid, roleArn: 'arn:aws:iam::123456789012:user/alice' }],
    ['maxResults 0 (min 1)', `${CREATE}?maxResults=0`, undefined],
    ['maxResults 101 (max 100)', `${CREATE}?maxResults=101`, undefined],
    ['maxResults that is not a number', `${CREATE}?maxResults=ten`, undefined],
  ];
  for (const [what, url, body] of refused) {
    it(`refuses ${what} with InvalidParameterException`, async () => {
      const answer = await raw(body === undefined ? 'GET' : 'POST', url, body);
      assert.equal(answer.errorType, 'InvalidParameterException', JSON.stringify(answer.body));
      assert.equal(answer.status, 400);
    });
  }

  it('refuses a session policy without disableSessionTags (InvalidRequestException)', async () => {
    const answer = await raw('POST', CREATE, { ...valid, serviceAccount: 'with-policy', policy: '{}' });
    assert.equal(answer.errorType, 'InvalidRequestException');
  });

  it('answers a second association for one ServiceAccount with ResourceInUseException (409)', async () => {
    assert.equal((await raw('POST', CREATE, { ...valid, serviceAccount: 'twice' })).status, 200);
    const second = await raw('POST', CREATE, { ...valid, serviceAccount: 'twice' });
    assert.equal(second.errorType, 'ResourceInUseException');
    assert.equal(second.status, 409);
  });

  it("answers only with error codes the model lists for the operation, with the model's HTTP status", () => {
    const errors = answers.filter((a) => a.answer.errorType !== undefined);
    assert.ok(errors.length > 0);
    for (const { operation, answer } of errors) {
      const listed = (model.operations[operation]?.errors ?? []).map((e) => e.shape);
      assert.ok(listed.includes(answer.errorType ?? ''), `${operation} answered ${answer.errorType ?? ''}, not among ${listed.join(', ')}`);
      assert.equal(answer.status, model.shapes[answer.errorType ?? '']?.error?.httpStatusCode);
    }
  });
});
