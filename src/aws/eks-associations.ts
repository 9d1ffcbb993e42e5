// EKS Pod Identity associations and the cluster they live in, through @aws-sdk/client-eks: the
// AssociationStore the association part works through. Writes take a token of the shared write
// budget, as IAM writes do; NotFound is an answer (undefined), not an error.
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribeClusterCommand,
  DescribePodIdentityAssociationCommand,
  ListPodIdentityAssociationsCommand,
  UpdatePodIdentityAssociationCommand,
  type EKSClient,
  type PodIdentityAssociation,
} from '@aws-sdk/client-eks';
import type { ActualAssociation, AssociationStore } from '../controller/ports.ts';
import type { DesiredAssociation } from '../policy/desired.ts';
import type { WriteBudget } from './budget.ts';
import { callBudgeted, type CallOptions } from './call.ts';
import { undefinedIfNotFound } from './errors.ts';

export class EksAssociations implements AssociationStore {
  private readonly eks: EKSClient;
  private readonly opts: CallOptions;
  private readonly budget: WriteBudget;

  constructor(eks: EKSClient, opts: CallOptions, budget: WriteBudget) {
    this.eks = eks;
    this.opts = opts;
    this.budget = budget;
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return callBudgeted('eks', operation, fn, this.opts, this.budget, /^(Describe|List)/.test(operation));
  }

  async clusterArn(cluster: string): Promise<string | undefined> {
    const out = await undefinedIfNotFound(this.call('DescribeCluster', () => this.eks.send(new DescribeClusterCommand({ name: cluster }))));
    return out?.cluster?.arn;
  }

  /** None when EKS has no such cluster (it has no associations either). */
  async find(cluster: string, namespace: string, serviceAccount: string): Promise<ActualAssociation[]> {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await undefinedIfNotFound(
        this.call('ListPodIdentityAssociations', () =>
          this.eks.send(new ListPodIdentityAssociationsCommand({ clusterName: cluster, namespace, serviceAccount, nextToken })),
        ),
      );
      for (const a of page?.associations ?? []) if (a.associationId) ids.push(a.associationId);
      nextToken = page?.nextToken;
    } while (nextToken);
    const found = await Promise.all(ids.map((id) => this.describe(cluster, id)));
    return found.filter((a) => a !== undefined);
  }

  async describe(cluster: string, id: string): Promise<ActualAssociation | undefined> {
    const out = await undefinedIfNotFound(
      this.call('DescribePodIdentityAssociation', () =>
        this.eks.send(new DescribePodIdentityAssociationCommand({ clusterName: cluster, associationId: id })),
      ),
    );
    return out?.association && toActual(out.association);
  }

  async create(want: DesiredAssociation): Promise<ActualAssociation> {
    const out = await this.call('CreatePodIdentityAssociation', () =>
      this.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: want.clusterName,
          namespace: want.namespace,
          serviceAccount: want.serviceAccount,
          roleArn: want.roleArn,
          tags: want.tags,
          ...(want.targetRoleArn === undefined ? {} : { targetRoleArn: want.targetRoleArn }),
          ...(want.disableSessionTags ? { disableSessionTags: true } : {}),
        }),
      ),
    );
    return toActual(required(out.association, 'CreatePodIdentityAssociation'));
  }

  async update(id: string, want: DesiredAssociation): Promise<ActualAssociation> {
    const out = await this.call('UpdatePodIdentityAssociation', () =>
      this.eks.send(
        new UpdatePodIdentityAssociationCommand({
          clusterName: want.clusterName,
          associationId: id,
          roleArn: want.roleArn,
          // EKS removes the target role when given an empty one.
          targetRoleArn: want.targetRoleArn ?? '',
          disableSessionTags: want.disableSessionTags,
        }),
      ),
    );
    return toActual(required(out.association, 'UpdatePodIdentityAssociation'));
  }

  async delete(cluster: string, id: string): Promise<void> {
    await undefinedIfNotFound(
      this.call('DeletePodIdentityAssociation', () =>
        this.eks.send(new DeletePodIdentityAssociationCommand({ clusterName: cluster, associationId: id })),
      ),
    );
  }
}

function required<T>(v: T | undefined, operation: string): T {
  if (v === undefined) throw new Error(`${operation} answered without an association`);
  return v;
}

function toActual(a: PodIdentityAssociation): ActualAssociation {
  return {
    id: a.associationId ?? '',
    arn: a.associationArn ?? '',
    clusterName: a.clusterName ?? '',
    namespace: a.namespace ?? '',
    serviceAccount: a.serviceAccount ?? '',
    roleArn: a.roleArn ?? '',
    targetRoleArn: a.targetRoleArn === '' ? undefined : a.targetRoleArn,
    disableSessionTags: a.disableSessionTags === true,
    tags: a.tags ?? {},
    ownerArn: a.ownerArn,
  };
}
