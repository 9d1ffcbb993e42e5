// The credentials of another account: assumed once and kept by the IAM client, asked again when
// they near their end (the SDK renews them five minutes before), and a refusal told as
// AccountCredentialsRefused. STS and IAM are answered in memory by client middleware; nothing is sent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import type { FromTemporaryCredentialsOptions } from '@aws-sdk/credential-providers';
import { assumedRoleCredentials } from '../../../src/aws/accounts.ts';
import { parseConfig } from '../../../src/config.ts';
import { WaitError } from '../../../src/errors.ts';

const TARGET = '210987654321';
const ROLE = `arn:aws:iam::${TARGET}:role/irsa-operator-target`;
const CONFIG = parseConfig({
  clusterName: 'prod',
  region: 'eu-west-1',
  accounts: { [TARGET]: { roleArn: ROLE, externalId: 'prod-irsa' } },
});
const ENTRY = CONFIG.accounts[TARGET] ?? { roleArn: ROLE, allowedNamespaces: [] };

interface Stack {
  add: (
    mw: (next: unknown, context: { commandName?: string }) => (args: { input: Record<string, unknown> }) => Promise<unknown>,
    o: object,
  ) => void;
}

/** STS answering AssumeRole in memory: sessions that last `lifetimeMs`, or a refusal. */
function fakeSts(lifetimeMs: number, refuse = false) {
  const sent: Record<string, unknown>[] = [];
  const plugin = {
    applyToStack: (stack: Stack) =>
      stack.add(
        (_next, context) => (args) => {
          assert.equal(context.commandName, 'AssumeRoleCommand');
          sent.push(args.input);
          if (refuse)
            return Promise.reject(Object.assign(new Error('User is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));
          const Expiration = new Date(Date.now() + lifetimeMs);
          return Promise.resolve({
            output: { Credentials: { AccessKeyId: `ASIA${sent.length}`, SecretAccessKey: 's', SessionToken: 't', Expiration } },
            response: { statusCode: 200, headers: {} },
          });
        },
        // No name: fromTemporaryCredentials applies the plugins again on each renewal.
        { step: 'initialize' },
      ),
  };
  return { plugin, sent };
}

/** An IAM client of the account that answers every command once it is signed, recording the key it was signed with. */
function accountIam(sts: ReturnType<typeof fakeSts>) {
  const keys: string[] = [];
  // The SDK's Pluggable type, which this small plugin satisfies in the one respect the client uses.
  const plugin = sts.plugin as unknown as NonNullable<FromTemporaryCredentialsOptions['clientPlugins']>[number];
  const iam = new IAMClient({ region: 'eu-west-1', credentials: assumedRoleCredentials(CONFIG, TARGET, ENTRY, [plugin]) });
  iam.middlewareStack.add(
    () => (args) => {
      const headers = (args.request as { headers?: Record<string, string> }).headers ?? {};
      keys.push(/Credential=([^/]+)\//.exec(headers.authorization ?? '')?.[1] ?? '');
      return Promise.resolve({ output: { $metadata: {} }, response: { statusCode: 200, headers: {} } });
    },
    { step: 'deserialize', name: 'answerSigned' },
  );
  return { iam, keys };
}

describe('assumedRoleCredentials', () => {
  it("assumes the configured role with its external ID and the cluster's session name, once while the session lasts", async () => {
    const sts = fakeSts(3_600_000);
    const { iam, keys } = accountIam(sts);
    await iam.send(new GetRoleCommand({ RoleName: 'a' }));
    await iam.send(new GetRoleCommand({ RoleName: 'b' }));
    assert.equal(sts.sent.length, 1);
    assert.deepEqual(sts.sent[0], { RoleArn: ROLE, RoleSessionName: 'irsa-operator-prod', DurationSeconds: 3600, ExternalId: 'prod-irsa' });
    assert.deepEqual(keys, ['ASIA1', 'ASIA1']);
    iam.destroy();
  });

  it('asks STS again for a session that ends within five minutes', async () => {
    const sts = fakeSts(240_000);
    const { iam, keys } = accountIam(sts);
    await iam.send(new GetRoleCommand({ RoleName: 'a' }));
    await iam.send(new GetRoleCommand({ RoleName: 'b' }));
    assert.equal(new Set(keys).size, 2, `each call signed with a new session: ${keys.join(', ')}`);
    iam.destroy();
  });

  it('tells a refusal as AccountCredentialsRefused, naming the role and what to check, and asks again on the next call', async () => {
    const sts = fakeSts(3_600_000, true);
    const { iam } = accountIam(sts);
    await assert.rejects(iam.send(new GetRoleCommand({ RoleName: 'a' })), (e: unknown) => {
      assert.ok(e instanceof WaitError);
      assert.equal(e.reason, 'AccountCredentialsRefused');
      assert.match(e.message, new RegExp(`STS refused AssumeRole of ${ROLE} for account ${TARGET}: .*not authorized.*trust policy`));
      return true;
    });
    await assert.rejects(iam.send(new GetRoleCommand({ RoleName: 'a' })), WaitError);
    assert.equal(sts.sent.length, 2, 'a failure is not kept');
    iam.destroy();
  });
});
