// irsa validate: what `kubectl apply` and the operator would refuse, found offline. In order, as
// the servers run them: the CRD's schema and CEL rules (schema-check.ts, cel.ts), then the
// operator's own checks — validateSpec, desiredState (sizes, quotas, partitions) and the policy
// guard (checkOperatorPolicy) — the functions the operator runs, not copies of them.
import { identityIn, podIdentityElsewhere, targetAccount } from '../policy/accounts.ts';
import type { Command } from 'commander';
import type { IamServiceAccountSpec } from '../api/types.ts';
import { validateSpec } from '../api/validate.ts';
import { resolveDeniedActions, type DeniedAction } from '../policy/actions.ts';
import { eksClusterArn, issuerHostPath, oidcProviderArn, parseArn, type Partition } from '../policy/arn.ts';
import { desiredState, type ClusterIdentity } from '../policy/desired.ts';
import { checkOperatorPolicy, type OperatorPolicy } from '../policy/guard.ts';
import { checkCel, TRANSITION_RULES } from './cel.ts';
import { error, parseFieldName, warning, type Finding } from './findings.ts';
import { fieldName, isRecord, lineOf, type FieldPath, type SourceDoc } from './files.ts';
import { asIamServiceAccount, scanFiles } from './objects.ts';
import { colourEnabled, EXIT, paint, parseFormat, UsageError } from './output.ts';
import { checkSchema } from './schema-check.ts';
import { loadTarget, targetOptions, type Target, type TargetOptions } from './target.ts';

export interface ValidateContext {
  target: Target;
  denied: readonly DeniedAction[];
  namespace: string | undefined;
}

/** The partition an object's own ARNs are in, when the cluster's region is not given. */
function partitionOfSpec(spec: IamServiceAccountSpec): Partition | undefined {
  const arn = [spec.attachRoleARN, spec.permissionsBoundary, ...(spec.attachPolicyARNs ?? [])].find((a) => a !== undefined);
  const p = arn === undefined ? undefined : parseArn(arn)?.partition;
  return p === 'aws' || p === 'aws-cn' || p === 'aws-us-gov' ? p : undefined;
}

/**
 * The cluster as far as it is known; what is not is filled with values that change no verdict
 * (an account of zeros, an issuer as long as an EKS one).
 */
function offlineIdentity(target: Target, spec: IamServiceAccountSpec): ClusterIdentity {
  if (target.identity) return target.identity;
  const partition = target.partition ?? partitionOfSpec(spec) ?? 'aws';
  const account = target.config.accountId ?? '000000000000';
  const hostPath =
    target.config.oidcIssuer !== undefined
      ? issuerHostPath(target.config.oidcIssuer)
      : `oidc.eks.${target.config.region}.amazonaws.com/id/${'0'.repeat(32)}`;
  return {
    clusterName: target.clusterName,
    partition,
    account,
    issuerHostPath: hostPath,
    oidcProviderArn: oidcProviderArn(partition, account, hostPath),
    clusterArn: eksClusterArn(partition, target.config.region, account, target.clusterName),
  };
}

/** The field a problem of the operator's is about, from its reason and message. */
function problemField(reason: string, message: string, spec: IamServiceAccountSpec): FieldPath {
  const arnIndex = (arns: readonly string[] | undefined) => (arns ?? []).findIndex((a) => message.includes(a));
  switch (reason) {
    case 'PartitionMismatch': {
      if (message.startsWith('attachRoleARN')) return ['spec', 'attachRoleARN'];
      if (spec.permissionsBoundary !== undefined && message.includes(spec.permissionsBoundary)) return ['spec', 'permissionsBoundary'];
      const i = arnIndex(spec.attachPolicyARNs);
      return i >= 0 ? ['spec', 'attachPolicyARNs', i] : ['spec', 'wellKnownPolicies'];
    }
    case 'PolicyDenied':
    case 'PolicyNotAllowed': {
      const i = arnIndex(spec.attachPolicyARNs);
      return i >= 0 ? ['spec', 'attachPolicyARNs', i] : ['spec', 'wellKnownPolicies'];
    }
    case 'InlinePolicyDenied':
    case 'InvalidSpec':
      if (message.startsWith('spec.attachPolicy') || reason === 'InlinePolicyDenied') return statementField(message, spec);
      return leadingField(message);
    case 'InvalidRolePath':
      return ['spec', 'rolePath'];
    case 'TrustPolicyTooLarge':
      if (spec.additionalClusters !== undefined) return ['spec', 'additionalClusters'];
      return spec.audience !== undefined ? ['spec', 'audience'] : ['metadata', 'name'];
    case 'TooManyManagedPolicies':
      return ['spec', 'attachPolicyARNs'];
    case 'InlinePolicyTooLarge':
      return ['spec', 'attachPolicy'];
    case 'PermissionsBoundaryForced':
      return ['spec', 'permissionsBoundary'];
    case 'NamespaceNotAllowed':
      return ['metadata', 'namespace'];
    case 'RoleNameNotAllowed':
      return ['spec', 'roleName'];
    case 'AccountNotAllowed':
    case 'AccountNotAllowedInNamespace':
      return spec.account === undefined ? ['spec', 'attachRoleARN'] : ['spec', 'account'];
    case 'PodIdentityNeedsOwnAccount':
      return ['spec', 'account'];
    default:
      return leadingField(message);
  }
}

/** `spec.tags: key ...` -> spec.tags, `spec.additionalClusters[1].issuer ...` too; a message that names no field is about the spec. */
function leadingField(message: string): FieldPath {
  const m = /^(spec(?:\.[\w-]+|\[\d+\])*)[: ]/.exec(message);
  return m?.[1] ? parseFieldName(m[1]) : ['spec'];
}

/** The inline statement a message names, by position (`statement 0`) or by Sid (`statement "Sneaky"`). */
function statementField(message: string, spec: IamServiceAccountSpec): FieldPath {
  const statements = spec.attachPolicy?.Statement;
  if (!Array.isArray(statements)) return ['spec', 'attachPolicy', 'Statement'];
  const m = /statement (?:(\d+)|"([^"]*)")/.exec(message);
  const i = m?.[1] !== undefined ? Number(m[1]) : statements.findIndex((st) => isRecord(st) && st.Sid === m?.[2]);
  return i >= 0 && i < statements.length ? ['spec', 'attachPolicy', 'Statement', i] : ['spec', 'attachPolicy', 'Statement'];
}

/** A message without the field it starts with (the finding names the field already). */
function withoutLeadingField(message: string): string {
  return message.replace(/^spec(?:\.[\w-]+|\[\d+\])*: /, '');
}

/** The operator's checks beyond the CRD: validateSpec, desiredState, and the guard. */
function checkOperator(value: Record<string, unknown>, ctx: ValidateContext): Finding[] {
  const obj = asIamServiceAccount(value, ctx.namespace);
  const spec = obj.spec;
  const invalid = validateSpec(spec);
  if (invalid) {
    return [error(problemField(invalid.reason, invalid.message, spec), `${invalid.reason}: ${withoutLeadingField(invalid.message)}`)];
  }
  const own = offlineIdentity(ctx.target, spec);
  const named = targetAccount(spec, own.account);
  // Without the operator's own account (it asks STS), a role of an account the configuration does
  // not name may be in that own account: not judged offline.
  const account = ctx.target.config.accountId === undefined && !(named in ctx.target.config.accounts) ? own.account : named;
  const elsewhere = podIdentityElsewhere(spec, account, own.account);
  if (elsewhere) return [error(problemField(elsewhere.reason, elsewhere.message, spec), `${elsewhere.reason}: ${elsewhere.message}`)];
  const result = desiredState(obj, identityIn(own, account), ctx.target.defaults, ctx.target.audience);
  if (!result.ok) {
    const p = result.problem;
    return [error(problemField(p.reason, p.message, spec), `${p.reason}: ${p.message}`)];
  }
  const namespaceKnown = isRecord(value.metadata) && typeof value.metadata.namespace === 'string' ? true : ctx.namespace !== undefined;
  // Offline: no namespace annotations, no other objects (maxRolesPerNamespace needs the cluster).
  const policy: OperatorPolicy = {
    ...ctx.target.config,
    allowedNamespaces: namespaceKnown ? ctx.target.config.allowedNamespaces : [],
    maxRolesPerNamespace: 0,
  };
  let guardInput = {
    namespace: obj.metadata.namespace,
    account,
    ownAccount: own.account,
    namespaceAnnotations: {},
    role: result.desired.role,
    trust: result.desired.trust,
    otherClusters: result.desired.otherClusters,
    explicitRoleName: spec.roleName !== undefined,
    roleIndexInNamespace: () => 0,
  };
  const out: Finding[] = [];
  let refusal = checkOperatorPolicy(policy, ctx.denied, guardInput);
  // The accounts the operator serves are in its configuration, and a Namespace annotation opens one to a namespace: warnings offline.
  const unlessAccount =
    refusal?.reason === 'AccountNotAllowedInNamespace'
      ? "unless the namespace's irsa.dev/allowed-accounts annotation names it"
      : refusal?.reason === 'AccountNotAllowed' && !ctx.target.configKnown
        ? "unless the operator's configuration names it (give it with --config)"
        : undefined;
  if (refusal && unlessAccount) {
    out.push(warning(problemField(refusal.reason, refusal.message, spec), `${refusal.reason}: ${refusal.message}, ${unlessAccount}`));
    guardInput = { ...guardInput, account: own.account };
    refusal = checkOperatorPolicy(policy, ctx.denied, guardInput);
  }
  if (refusal?.reason === 'PolicyNotAllowed') {
    // A namespace annotation (irsa.dev/allowed-policy-arns) may allow it: a warning offline.
    out.push(
      warning(
        problemField(refusal.reason, refusal.message, spec),
        `${refusal.reason}: ${refusal.message}, unless the namespace's irsa.dev/allowed-policy-arns annotation allows it`,
      ),
    );
    refusal = checkOperatorPolicy({ ...policy, allowedPolicyARNs: ['*'] }, ctx.denied, guardInput);
  }
  if (refusal) out.push(error(problemField(refusal.reason, refusal.message, spec), `${refusal.reason}: ${refusal.message}`));
  return out;
}

/** Every finding for one object, in the order the API server and then the operator would find them. */
export function validateObject(value: Record<string, unknown>, ctx: ValidateContext): Finding[] {
  const schema = checkSchema(value);
  if (schema.some((f) => f.severity === 'error')) return schema;
  const cel = checkCel(value);
  if (cel.length > 0) return [...schema, ...cel];
  return [...schema, ...checkOperator(value, ctx)];
}

export interface Located extends Finding {
  file: string;
  line: number;
}

function locate(src: Pick<SourceDoc, 'doc' | 'lines' | 'line' | 'file'>, base: FieldPath, f: Finding): Located {
  return { ...f, file: src.file, line: lineOf(src, f.path, base) };
}

/** Documents that are not Kubernetes objects at all, and YAML that does not parse. */
function documentFindings(src: SourceDoc): Located[] {
  if (src.errors.length > 0) return src.errors.map((e) => ({ ...error([], `invalid YAML: ${e.message}`), file: src.file, line: e.line }));
  if (!isRecord(src.value)) {
    const what = Array.isArray(src.value) ? 'a list' : typeof src.value;
    return [locate(src, [], error([], `invalid object to validate: a Kubernetes object is a YAML mapping, not ${what}`))];
  }
  return [];
}

export interface ValidateReport {
  files: number;
  objects: number;
  findings: Located[];
  ms: number;
}

export async function runValidate(paths: readonly string[], opts: TargetOptions & { namespace?: string }): Promise<ValidateReport> {
  const t0 = performance.now();
  const target = loadTarget(opts, false);
  let denied: DeniedAction[];
  try {
    denied = await resolveDeniedActions(target.config);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const ctx: ValidateContext = { target, denied, namespace: opts.namespace };
  const scan = scanFiles(paths);
  const findings = scan.docs.flatMap(documentFindings);
  for (const found of scan.objects) findings.push(...validateObject(found.value, ctx).map((f) => locate(found.src, found.base, f)));
  const order = new Map(scan.docs.map((d, i) => [d.file, i]));
  findings.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0) || a.line - b.line);
  return { files: new Set(scan.docs.map((d) => d.file)).size, objects: scan.objects.length, findings, ms: performance.now() - t0 };
}

/** GitHub Actions workflow command escaping (data and properties). */
const escapeData = (s: string) => s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
const escapeProperty = (s: string) => escapeData(s).replaceAll(':', '%3A').replaceAll(',', '%2C');

export function formatFinding(f: Located, format: 'text' | 'github', colour: boolean): string {
  const field = fieldName(f.path);
  if (format === 'github') {
    return `::${f.severity} file=${escapeProperty(f.file)},line=${f.line},title=${escapeProperty(`irsa validate: ${field}`)}::${escapeData(`${field}: ${f.message}`)}`;
  }
  const p = paint(colour);
  const mark = f.severity === 'error' ? '' : `${p.yellow('warning')}: `;
  return `${p.bold(`${f.file}:${f.line}`)}: ${mark}${field}: ${f.severity === 'error' ? p.red(f.message) : f.message}`;
}

interface ValidateOptions extends TargetOptions {
  filename: string[];
  namespace?: string;
  format: string;
}

export function registerValidate(program: Command): void {
  const cmd = program
    .command('validate')
    .description('check IamServiceAccounts offline as the API server (schema, CEL) and the operator (its checks, its policy guard) would')
    .requiredOption('-f, --filename <path...>', 'files or directories (recursively: .yaml, .yml, .json); - for stdin')
    .option('-n, --namespace <ns>', 'namespace of objects that name none (for allowedNamespaces)')
    .option('--format <format>', 'text (file:line: field: message) or github (workflow annotations)', 'text');
  targetOptions(cmd)
    .addHelpText(
      'after',
      `
Not checked offline: the documents of managed policies (the operator reads them from IAM and
refuses those that grant denied actions), per-namespace allow-lists (the Namespace annotation
irsa.dev/allowed-policy-arns: a policy not on the global list is a warning), maxRolesPerNamespace,
and the transition rules (account, roleName and rolePath are immutable) that need the stored object.

Examples:
  $ irsa validate -f manifests/
  $ irsa validate -f apps/ --config operator-config.yaml --format github     # in a GitHub workflow
  $ helm template charts/app | irsa validate -f -
  # .pre-commit-config.yaml: entry: npx irsa validate -f, files: \\.ya?ml$`,
    )
    .action(async (_o: unknown, command: Command) => {
      const opts = command.opts<ValidateOptions>();
      const format = parseFormat(opts.format, ['text', 'github']) as 'text' | 'github';
      const report = await runValidate(opts.filename, opts);
      const colour = colourEnabled(process.stdout, process.env, command.optsWithGlobals<{ color: boolean }>().color);
      for (const f of report.findings) process.stdout.write(`${formatFinding(f, format, colour)}\n`);
      const errors = report.findings.filter((f) => f.severity === 'error').length;
      const warnings = report.findings.length - errors;
      process.stderr.write(
        `validate: ${report.files} files, ${report.objects} IamServiceAccounts: ${errors} errors, ${warnings} warnings (${Math.round(report.ms)} ms); not checked offline: managed policy documents, ${TRANSITION_RULES.length} transition rules\n`,
      );
      process.exitCode = errors > 0 ? EXIT.findings : EXIT.ok;
    });
}
