// The irsa CLI against the real servers. render: for every example, what `irsa render` prints is
// what the operator wrote to IAM and to the ServiceAccount (as JSON, keys sorted). Ends with one line:
//   cli: validate_agree=N/M render_equal=N/M doctor_cases=N/N import_ready=N/M
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
} from '@aws-sdk/client-iam';
import { parse } from 'yaml';
import type { IamServiceAccount } from '../../src/api/types.ts';
import type { Rendered } from '../../src/cli/render.ts';
import { sortKeys } from '../../src/cli/output.ts';
import { SETUP } from './example-setup.ts';
import { decodeDoc, getJson, iam, kubectl, newNamespace, REPO, resetAws, startOperator, TEST_ISSUER, waitForCondition } from './helpers.ts';
import { identityFlags, runCli } from './cli-run.ts';

const tally = {
  validate: { agree: 0, of: 0 },
  render: { equal: 0, of: 0 },
  doctor: { named: 0, of: 0 },
  import: { ready: 0, of: 0 },
};

after(() => {
  const t = tally;
  console.log(
    `cli: validate_agree=${t.validate.agree}/${t.validate.of} render_equal=${t.render.equal}/${t.render.of} doctor_cases=${t.doctor.named}/${t.doctor.of} import_ready=${t.import.ready}/${t.import.of}`,
  );
});

const canonical = (v: unknown) => JSON.stringify(sortKeys(v));

/** The role as IAM holds it, in render's shape (documents parsed). */
async function roleInIam(region: string, name: string): Promise<Record<string, unknown>> {
  const client = iam(region);
  const role = (await client.send(new GetRoleCommand({ RoleName: name }))).Role;
  const attached = (await client.send(new ListAttachedRolePoliciesCommand({ RoleName: name }))).AttachedPolicies ?? [];
  const inlineNames = (await client.send(new ListRolePoliciesCommand({ RoleName: name }))).PolicyNames ?? [];
  const inline: Record<string, unknown> = {};
  for (const p of inlineNames) {
    inline[p] = decodeDoc((await client.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: p }))).PolicyDocument);
  }
  const tags = (await client.send(new ListRoleTagsCommand({ RoleName: name }))).Tags ?? [];
  const out: Record<string, unknown> = {
    arn: role?.Arn,
    name: role?.RoleName,
    path: role?.Path,
    description: role?.Description,
    maxSessionDuration: role?.MaxSessionDuration,
    trustPolicy: decodeDoc(role?.AssumeRolePolicyDocument),
    managedPolicyArns: attached.map((p) => p.PolicyArn).sort(),
    inlinePolicies: inline,
    tags: Object.fromEntries(tags.map((t) => [t.Key, t.Value])),
  };
  if (role?.PermissionsBoundary?.PermissionsBoundaryArn) out.permissionsBoundary = role.PermissionsBoundary.PermissionsBoundaryArn;
  return out;
}

describe('irsa render', () => {
  const files = readdirSync(join(REPO, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();

  for (const file of files) {
    it(`${file}: render equals what the operator wrote to IAM and the ServiceAccount`, async () => {
      tally.render.of++;
      const setup = SETUP[file] ?? {};
      const region = setup.region ?? 'us-east-1';
      const path = join(REPO, 'examples', file);
      const example = parse(readFileSync(path, 'utf8')) as IamServiceAccount;
      await resetAws(TEST_ISSUER, region);
      const ns = await newNamespace('render');
      await setup.before?.(ns);
      const op = await startOperator({ region, watchNamespaces: [ns] });
      try {
        await kubectl(['apply', '-n', ns, '-f', path]);
        const obj = await waitForCondition(ns, example.metadata.name, 'Ready', 'True');
        const run = await runCli(['render', '-f', path, '-n', ns, ...identityFlags(region), '-o', 'json']);
        assert.equal(run.code, 0, run.stderr);
        const [rendered] = JSON.parse(run.stdout) as Rendered[];
        assert.ok(rendered);
        assert.equal(rendered.roleArn, obj.status?.roleARN);
        if (rendered.role) assert.equal(canonical(rendered.role), canonical(await roleInIam(region, rendered.role.name)));
        if (rendered.serviceAccount) {
          const name = rendered.serviceAccount.metadata?.name ?? '';
          const sa = await getJson<{ metadata: { labels?: object; annotations?: object } }>(['-n', ns, 'get', 'serviceaccount', name]);
          const meta = rendered.serviceAccount.metadata;
          assert.equal(
            canonical({ labels: meta?.labels, annotations: meta?.annotations }),
            canonical({ labels: sa.metadata.labels, annotations: sa.metadata.annotations }),
          );
        } else {
          assert.equal(example.spec.roleOnly, true, 'only roleOnly renders no ServiceAccount');
        }
        tally.render.equal++;
      } finally {
        await op.stop();
      }
    });
  }
});
