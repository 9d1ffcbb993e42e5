// irsa import eksctl|kiam|cluster: IamServiceAccounts from what a cluster used before. The mapping
// is pure (import-eksctl.ts, import-kiam.ts, import-cluster.ts); this file reads the inputs (files,
// the cluster, IAM), checks every object as validate does, and prints them.
import type { Command } from 'commander';
import { IAMClient } from '@aws-sdk/client-iam';
import { DEFAULT_CALL_OPTIONS } from '../aws/call.ts';
import { WriteBudget } from '../aws/budget.ts';
import { IamRoles } from '../aws/iam.ts';
import { resolveDeniedActions } from '../policy/actions.ts';
import { issuerHostPath, type Partition } from '../policy/arn.ts';
import type { ActualRole } from '../policy/diff.ts';
import { collectFiles, fieldName, listItems, readDocuments } from './files.ts';
import { importEksctl } from './import-eksctl.ts';
import { planCluster, type AnnotatedServiceAccount } from './import-cluster.ts';
import { kiamNamespace, kiamWorkload, planKiam, type KiamNamespace, type KiamWorkload } from './import-kiam.ts';
import { formatImport, type ImportResult } from './import-result.ts';
import { connect, describeKubeError, kubeOptions, type Kube, type KubeOptions } from './kube.ts';
import { EXIT, parseFormat, Progress, UnreachableError, UsageError } from './output.ts';
import { loadTarget, targetOptions, type Target, type TargetOptions } from './target.ts';
import { validateObject } from './validate.ts';

interface ImportCommon extends TargetOptions {
  output: string;
}

/** Every imported object checked as validate checks it: a refusal is a warning naming the object. */
async function checkImported(result: ImportResult, target: Target): Promise<void> {
  const denied = await resolveDeniedActions(target.config);
  for (const o of result.objects) {
    const findings = validateObject(o.object as unknown as Record<string, unknown>, { target, denied, namespace: undefined });
    for (const f of findings) {
      result.warnings.push(
        `${o.object.metadata.namespace}/${o.object.metadata.name}: would be refused: ${fieldName(f.path)}: ${f.message}`,
      );
    }
  }
}

/** Every document of the files, Lists unwrapped, with where it came from. */
function scanAll(paths: readonly string[]): { file: string; line: number; value: unknown }[] {
  return collectFiles(paths)
    .flatMap(readDocuments)
    .flatMap((d) => (listItems(d.value) ?? [d.value]).map((value) => ({ file: d.file, line: d.line, value })));
}

function print(result: ImportResult, opts: ImportCommon, summary?: string): void {
  const format = parseFormat(opts.output, ['yaml', 'json']) as 'yaml' | 'json';
  process.stdout.write(formatImport(result, format));
  for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  if (summary !== undefined) process.stderr.write(`${summary}\n`);
  process.exitCode = EXIT.ok;
}

function registerEksctl(parent: Command): void {
  parent
    .command('eksctl')
    .description(
      "an eksctl ClusterConfig's iam.serviceAccounts[] as IamServiceAccounts, with a warning for each field that cannot be mapped",
    )
    .requiredOption('-f, --filename <path...>', 'eksctl ClusterConfig files (or directories)')
    .option('-o, --output <format>', 'yaml or json', 'yaml')
    .addHelpText(
      'after',
      `
The fields keep eksctl's names (attachPolicyARNs, attachPolicy, wellKnownPolicies, attachRoleARN,
permissionsBoundary, roleName, roleOnly, tags, metadata.labels and .annotations); the
ServiceAccount eksctl made is taken over (overrideExisting). Roles eksctl made with CloudFormation
are not reused: the operator makes new ones, or use irsa import cluster to keep them.

Examples:
  $ irsa import eksctl -f cluster.yaml > iamserviceaccounts.yaml
  $ irsa import eksctl -f cluster.yaml -o json | jq '.objects[].object.metadata'`,
    )
    .action(async (_o: unknown, cmd: Command) => {
      const opts = cmd.opts<ImportCommon & { filename: string[] }>();
      const result: ImportResult = { objects: [], warnings: [] };
      for (const doc of scanAll(opts.filename)) {
        const r = importEksctl(doc.value, `${doc.file}:${doc.line}`);
        result.objects.push(...r.objects);
        result.warnings.push(...r.warnings);
      }
      await checkImported(result, loadTarget({}, false));
      print(result, opts, `import eksctl: ${result.objects.length} IamServiceAccounts, ${result.warnings.length} warnings`);
    });
}

/** Namespaces and kiam-annotated workloads, from files or from the cluster. */
async function readKiam(opts: KubeOptions & { filename?: string[] }): Promise<{ namespaces: KiamNamespace[]; workloads: KiamWorkload[] }> {
  const objects: unknown[] = opts.filename ? scanAll(opts.filename).map((d) => d.value) : await listKiamObjects(connect(opts));
  const namespaces = objects.map(kiamNamespace).filter((n): n is KiamNamespace => n !== undefined);
  const workloads = objects.map(kiamWorkload).filter((w): w is KiamWorkload => w !== undefined);
  return { namespaces, workloads: opts.namespace ? workloads.filter((w) => w.namespace === opts.namespace) : workloads };
}

async function listKiamObjects(kube: Kube): Promise<unknown[]> {
  const lists: [string, () => Promise<{ items: object[] }>][] = [
    ['Namespace', () => kube.core.listNamespace()],
    ['Deployment', () => kube.apps.listDeploymentForAllNamespaces()],
    ['StatefulSet', () => kube.apps.listStatefulSetForAllNamespaces()],
    ['DaemonSet', () => kube.apps.listDaemonSetForAllNamespaces()],
    ['ReplicaSet', () => kube.apps.listReplicaSetForAllNamespaces()],
    ['Job', () => kube.batch.listJobForAllNamespaces()],
    ['CronJob', () => kube.batch.listCronJobForAllNamespaces()],
    ['Pod', () => kube.core.listPodForAllNamespaces()],
  ];
  const out: unknown[] = [];
  for (const [kind, list] of lists) {
    try {
      // Lists return items without kind: set it, as kubectl get -o yaml does.
      out.push(...(await list()).items.map((i) => ({ ...i, kind })));
    } catch (e) {
      throw new UnreachableError(`cannot list ${kind}s: ${describeKubeError(e)}`);
    }
  }
  return out;
}

function registerKiam(parent: Command): void {
  const cmd = parent
    .command('kiam')
    .description(
      'workloads with kiam role annotations as IamServiceAccounts (attachRoleARN), the ServiceAccount each must switch to, and the trust statement each role needs',
    )
    .option('-f, --filename <path...>', 'read Namespaces and workloads from files (default: the cluster)')
    .option('-n, --namespace <ns>', 'only this namespace')
    .option(
      '--role-base-arn <arn>',
      "kiam's --role-base-arn: role names in annotations are below it (default: arn:<partition>:iam::<account>:role/)",
    )
    .option('-o, --output <format>', 'yaml or json', 'yaml');
  kubeOptions(targetOptions(cmd))
    .addHelpText(
      'after',
      `
The trust statement names the cluster's OIDC provider: give --issuer (and --region outside the aws
partition), or --config. Roles stay as they are (attachRoleARN); add the printed statement to
each role's trust policy, switch the workloads, then remove the iam.amazonaws.com/role annotations.

Examples:
  $ irsa import kiam --issuer https://oidc.eks.eu-west-1.amazonaws.com/id/ABC --account 123456789012 > irsa.yaml
  $ irsa import kiam -f manifests/ --config operator-config.yaml -o json | jq .trust`,
    )
    .action(async (_o: unknown, c: Command) => {
      const opts = c.opts<ImportCommon & KubeOptions & { filename?: string[]; roleBaseArn?: string }>();
      const target = loadTarget(opts, false);
      if (target.config.oidcIssuer === undefined)
        throw new UsageError("import kiam needs the cluster's issuer for the trust statements: --issuer or oidcIssuer in --config");
      const partition: Partition = target.partition ?? 'aws';
      const { namespaces, workloads } = await readKiam(opts);
      const result = planKiam(namespaces, workloads, {
        roleBaseArn: opts.roleBaseArn,
        account: target.config.accountId,
        partition,
        issuerHostPath: issuerHostPath(target.config.oidcIssuer),
        audience: target.audience,
      });
      await checkImported(result, target);
      print(
        result,
        opts,
        `import kiam: ${workloads.length} workloads with a kiam role: ${result.objects.length} IamServiceAccounts, ${result.workloads?.length ?? 0} workloads to switch, ${result.trust?.length ?? 0} roles to trust them, ${result.warnings.length} warnings`,
      );
    });
}

export async function listAnnotatedServiceAccounts(
  kube: Kube,
  namespace: string | undefined,
  progress: Progress,
): Promise<{ read: number; annotated: AnnotatedServiceAccount[] }> {
  const annotated: AnnotatedServiceAccount[] = [];
  let read = 0;
  let cont: string | undefined;
  do {
    const page = await (
      namespace
        ? kube.core.listNamespacedServiceAccount({ namespace, limit: 500, _continue: cont })
        : kube.core.listServiceAccountForAllNamespaces({ limit: 500, _continue: cont })
    ).catch((e: unknown) => {
      throw new UnreachableError(`cannot list ServiceAccounts: ${describeKubeError(e)}`);
    });
    for (const sa of page.items) {
      read++;
      const annotations = sa.metadata?.annotations ?? {};
      if (annotations['eks.amazonaws.com/role-arn'] !== undefined)
        annotated.push({ namespace: sa.metadata?.namespace ?? '', name: sa.metadata?.name ?? '', annotations });
    }
    progress.update(`listing ServiceAccounts: ${read} read, ${annotated.length} with a role annotation`);
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return { read, annotated };
}

/** Each distinct role, read whole from IAM, eight at a time. */
async function readRoles(arns: readonly string[], iam: IAMClient, progress: Progress): Promise<Map<string, ActualRole | undefined>> {
  const roles = new IamRoles(iam, DEFAULT_CALL_OPTIONS, new WriteBudget(0));
  const out = new Map<string, ActualRole | undefined>();
  const queue = [...new Set(arns)];
  const total = queue.length;
  const worker = async () => {
    for (let arn = queue.shift(); arn !== undefined; arn = queue.shift()) {
      const name = arn.slice(arn.lastIndexOf('/') + 1);
      try {
        out.set(arn, await roles.read(name));
      } catch (e) {
        throw new UnreachableError(`cannot read role ${arn} from IAM: ${e instanceof Error ? e.message : String(e)}`);
      }
      progress.update(`reading roles from IAM: ${out.size}/${total}`);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

interface ClusterOptions extends ImportCommon, KubeOptions {
  adopt: boolean;
  awsEndpoint?: string;
}

function registerCluster(parent: Command): void {
  const cmd = parent
    .command('cluster')
    .description(
      'ServiceAccounts annotated with eks.amazonaws.com/role-arn (eksctl, Terraform, Helm) as IamServiceAccounts that take them over',
    )
    .option('-n, --namespace <ns>', 'only this namespace (default: all)')
    .option('--adopt', 'read each role from IAM and adopt those the operator can take over whole (else attachRoleARN for all)', false)
    .option('--aws-endpoint <url>', 'IAM endpoint override (local IAM endpoints)')
    .option('-o, --output <format>', 'yaml or json', 'yaml');
  kubeOptions(targetOptions(cmd))
    .addHelpText(
      'after',
      `
Each object says what it does with the role: attachRoleARN (the role stays as it is; the
operator verifies its trust and writes nothing to IAM) or adopt (--adopt: the role's policies,
tags, boundary and path become the spec, and the operator, run with adoptExistingRoles: true,
owns the role from then on). A role is adopted only when its trust is exactly the one the
operator writes for that ServiceAccount (--issuer or --config to compare), so that adopting
changes nothing in IAM. A progress line shows on a terminal.

Examples:
  $ irsa import cluster > irsa.yaml
  $ irsa import cluster -n payments --adopt --config operator-config.yaml -o json | jq '.objects[].mode'`,
    )
    .action(async (_o: unknown, c: Command) => {
      const opts = c.opts<ClusterOptions>();
      const target = loadTarget(opts, false);
      const kube = connect(opts);
      const progress = new Progress(process.stderr);
      const { read, annotated } = await listAnnotatedServiceAccounts(kube, opts.namespace, progress);
      const region = opts.region ?? process.env.AWS_REGION ?? 'us-east-1';
      const roles = opts.adopt
        ? await readRoles(
            annotated.map((s) => s.annotations['eks.amazonaws.com/role-arn'] ?? ''),
            new IAMClient({ region, maxAttempts: 3, ...(opts.awsEndpoint ? { endpoint: opts.awsEndpoint } : {}) }),
            progress,
          )
        : new Map<string, ActualRole | undefined>();
      const result = planCluster(annotated, roles, {
        issuerHostPath: target.config.oidcIssuer === undefined ? undefined : issuerHostPath(target.config.oidcIssuer),
        maxManagedPolicies: target.config.maxManagedPolicies,
        rolePrefix: target.config.rolePrefix,
        adopt: opts.adopt,
      });
      await checkImported(result, target);
      const adopted = result.objects.filter((o) => o.mode === 'adopt').length;
      progress.done(
        `import cluster: ${read} ServiceAccounts read, ${annotated.length} with a role annotation: ${result.objects.length} IamServiceAccounts (${result.objects.length - adopted} attachRoleARN, ${adopted} adopt), ${result.warnings.length} warnings`,
      );
      print(result, opts);
    });
}

export function registerImport(program: Command): void {
  const parent = program
    .command('import')
    .description('IamServiceAccounts from eksctl configs, kiam annotations, or annotated ServiceAccounts');
  registerEksctl(parent);
  registerKiam(parent);
  registerCluster(parent);
}
