// irsa render: for each IamServiceAccount, what the operator would write — the role (name, ARN,
// path, trust, managed and inline policies, boundary, tags, session duration) and the
// ServiceAccount with its labels and annotations — from desiredState, the operator's own pure core.
import { identityIn, targetAccount } from '../policy/accounts.ts';
import type { Command } from 'commander';
import type { V1ServiceAccount } from '@kubernetes/client-node';
import type { IamServiceAccount } from '../api/types.ts';
import { decideServiceAccount } from '../controller/serviceaccount.ts';
import { desiredState, type Desired, type DesiredRole } from '../policy/desired.ts';
import type { PolicyDocument } from '../policy/document.ts';
import { buildTrustPolicy } from '../policy/trust.ts';
import { asIamServiceAccount, scanFiles, where, type FoundObject } from './objects.ts';
import { EXIT, parseFormat, sortKeys, toJson, toYamlStream, UsageError } from './output.ts';
import { loadTarget, targetOptions, type Target, type TargetOptions } from './target.ts';

export interface RenderedRole {
  arn: string;
  name: string;
  path: string;
  description: string;
  maxSessionDuration: number;
  permissionsBoundary?: string;
  trustPolicy: PolicyDocument;
  managedPolicyArns: string[];
  inlinePolicies: Record<string, PolicyDocument>;
  tags: Record<string, string>;
}

export interface Rendered {
  namespace: string;
  name: string;
  /** managed: the operator creates and owns the role; attached: an existing role, only verified. */
  mode: 'managed' | 'attached';
  roleArn: string;
  deletionPolicy: 'Delete' | 'Retain';
  role?: RenderedRole;
  /** attachRoleARN: the trust the existing role must hold (the operator verifies it, writes nothing to IAM). */
  requiredTrustPolicy?: PolicyDocument;
  /** What the operator applies to the ServiceAccount; absent with roleOnly. */
  serviceAccount?: V1ServiceAccount;
}

export type RenderResult = { ok: true; rendered: Rendered; notes: string[] } | { ok: false; reason: string; message: string };

function renderRole(role: DesiredRole): RenderedRole {
  const out: RenderedRole = {
    arn: role.arn,
    name: role.name,
    path: role.path,
    description: role.description,
    maxSessionDuration: role.maxSessionDuration,
    trustPolicy: role.trustPolicy,
    managedPolicyArns: [...role.managedPolicyArns].sort(),
    inlinePolicies: role.inlinePolicies,
    tags: role.tags,
  };
  if (role.permissionsBoundary !== undefined) out.permissionsBoundary = role.permissionsBoundary;
  return out;
}

/**
 * The ServiceAccount as the operator applies it: created (create: true, and absent) or annotated
 * (create: false, made by someone else). The operator's own decideServiceAccount says what it writes.
 */
function renderServiceAccount(obj: IamServiceAccount, desired: Desired): V1ServiceAccount | undefined {
  const want = desired.serviceAccount;
  if (!want) return undefined;
  const ns = obj.metadata.namespace;
  const existing: V1ServiceAccount | undefined = want.create ? undefined : { metadata: { name: want.name, namespace: ns } };
  const plan = decideServiceAccount(obj, want, { current: existing, stale: [] });
  return {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: want.name, namespace: ns, labels: plan.write?.labels ?? want.labels, annotations: plan.write?.annotations ?? {} },
  };
}

export function renderOne(obj: IamServiceAccount, target: Target): RenderResult {
  const identity = target.identity;
  if (!identity) throw new UsageError('render needs the account and the issuer (--account, --issuer or --config)');
  // The role's account (spec.account, attachRoleARN's): its ARN there, trusting that account's provider.
  const result = desiredState(obj, identityIn(identity, targetAccount(obj.spec, identity.account)), target.defaults, target.audience);
  if (!result.ok) return { ok: false, reason: result.problem.reason, message: result.problem.message };
  const desired = result.desired;
  const notes: string[] = [];
  if (obj.spec.audience === undefined) {
    notes.push(
      `audience ${target.audience} assumed: the operator uses its defaultAudience, else the STS audience the OIDC provider lists (--audience-default)`,
    );
  }
  const rendered: Rendered = {
    namespace: obj.metadata.namespace,
    name: obj.metadata.name,
    mode: desired.mode,
    roleArn: desired.roleArn,
    deletionPolicy: desired.deletionPolicy,
  };
  if (desired.mode === 'managed') rendered.role = renderRole(desired.role);
  else {
    rendered.requiredTrustPolicy = buildTrustPolicy(desired.trust);
    notes.push(
      `attachRoleARN: the operator writes nothing to IAM; the role must trust this ServiceAccount (requiredTrustPolicy shows a statement that does)`,
    );
  }
  const sa = renderServiceAccount(obj, desired);
  if (sa) rendered.serviceAccount = sa;
  else notes.push('roleOnly: the operator never touches a ServiceAccount; annotate it yourself with the role ARN');
  if (desired.serviceAccount?.create === false) {
    notes.push(`serviceAccount.create is false: the operator only annotates ${desired.serviceAccount.name}, which must exist`);
  }
  return { ok: true, rendered: sortKeys(rendered) as Rendered, notes };
}

interface RenderOptions extends TargetOptions {
  filename: string[];
  namespace?: string;
  output: string;
}

export interface RenderRun {
  out: string;
  errors: string[];
}

export function runRender(opts: RenderOptions): RenderRun {
  const format = parseFormat(opts.output, ['yaml', 'json']);
  const target = loadTarget(opts, true);
  const { objects } = scanFiles(opts.filename);
  const rendered: { comments: string[]; value: Rendered }[] = [];
  const errors: string[] = [];
  for (const found of objects) {
    const r = renderFound(found, target, opts.namespace);
    if (r.ok) rendered.push({ comments: [`${r.rendered.namespace}/${r.rendered.name} (${where(found)})`, ...r.notes], value: r.rendered });
    else errors.push(`${where(found)}: ${r.reason}: ${r.message}`);
  }
  const out = format === 'json' ? toJson(rendered.map((r) => r.value)) : toYamlStream(rendered);
  return { out, errors };
}

function renderFound(found: FoundObject, target: Target, namespace: string | undefined): RenderResult {
  return renderOne(asIamServiceAccount(found.value, namespace), target);
}

export function registerRender(program: Command): void {
  const cmd = program
    .command('render')
    .description('print exactly what the operator would write for each IamServiceAccount: the IAM role and the ServiceAccount')
    .requiredOption('-f, --filename <path...>', 'files or directories (recursively: .yaml, .yml, .json); - for stdin')
    .option('-n, --namespace <ns>', 'namespace of objects that name none (as kubectl apply -n)')
    .option('-o, --output <format>', 'yaml or json', 'yaml');
  targetOptions(cmd)
    .addHelpText(
      'after',
      `
The account and issuer must be given (--account, --issuer, or accountId and oidcIssuer in
--config): the operator asks STS and EKS for them, render asks nobody. Objects without
spec.audience are rendered with sts.amazonaws.com (or --audience-default), which is what the
operator picks when the cluster's OIDC provider lists it, as on EKS.

Examples:
  $ irsa render -f examples/s3-reader.yaml -n team-a --cluster prod --region eu-west-1 \\
      --account 123456789012 --issuer https://oidc.eks.eu-west-1.amazonaws.com/id/ABC
  $ irsa render -f apps/ --config operator-config.yaml -o json | jq '.[].roleArn'
  $ git diff --quiet <(irsa render -f apps/ --config c.yaml) rendered.yaml   # what a change does`,
    )
    .action((_opts: unknown, command: Command) => {
      const run = runRender(command.opts<RenderOptions>());
      process.stdout.write(run.out);
      for (const e of run.errors) process.stderr.write(`${e}\n`);
      process.exitCode = run.errors.length > 0 ? EXIT.findings : EXIT.ok;
    });
}
