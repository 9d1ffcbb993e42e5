// IAM roles: read the whole actual state of one role, apply a list of operations, delete it.
// Modelled on ACK's iam-controller role hooks: read fully, write only what the diff says.
import {
  AddClientIDToOpenIDConnectProviderCommand,
  AttachRolePolicyCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetOpenIDConnectProviderCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UntagRoleCommand,
  UpdateAssumeRolePolicyCommand,
  UpdateOpenIDConnectProviderThumbprintCommand,
  UpdateRoleCommand,
  type IAMClient,
  type Role,
} from '@aws-sdk/client-iam';
import type { ActualRole, IamOperation } from '../policy/diff.ts';
import type { OidcProviderState, ProviderOperation } from '../policy/provider.ts';
import type { RoleAttachments } from '../controller/ports.ts';
import type { WriteBudget } from './budget.ts';
import { callBudgeted, type CallOptions } from './call.ts';
import { isNotFound, undefinedIfNotFound } from './errors.ts';
import { forEachPage } from './pages.ts';

export class IamRoles {
  private readonly iam: IAMClient;
  private readonly opts: CallOptions;
  private readonly budget: WriteBudget;

  constructor(iam: IAMClient, opts: CallOptions, budget: WriteBudget) {
    this.iam = iam;
    this.opts = opts;
    this.budget = budget;
  }

  /** Every attempt of a write takes a token from the shared budget; reads do not. */
  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return callBudgeted('iam', operation, fn, this.opts, this.budget, /^(Get|List)/.test(operation));
  }

  /** GetRole; undefined when IAM has no role of that name. */
  private async getRole(name: string): Promise<Role | undefined> {
    return (await undefinedIfNotFound(this.call('GetRole', () => this.iam.send(new GetRoleCommand({ RoleName: name })))))?.Role;
  }

  /** The role, its policies and tags; undefined when IAM has no role of that name. */
  async read(name: string): Promise<ActualRole | undefined> {
    const role = await this.getRole(name);
    if (!role?.Arn || !role.RoleName) return undefined;
    const [managedPolicyArns, inlinePolicies, tags] = await Promise.all([
      this.attachedPolicies(name),
      this.inlinePolicies(name),
      role.Tags === undefined ? this.tags(name) : Promise.resolve(tagMap(role.Tags)),
    ]);
    return {
      name: role.RoleName,
      path: role.Path ?? '/',
      arn: role.Arn,
      description: role.Description ?? '',
      maxSessionDuration: role.MaxSessionDuration ?? 3600,
      permissionsBoundary: role.PermissionsBoundary?.PermissionsBoundaryArn,
      trustPolicy: role.AssumeRolePolicyDocument ?? '',
      tags,
      managedPolicyArns,
      inlinePolicies,
    };
  }

  /** Only the role's ARN and trust policy (attachRoleARN mode), or undefined. */
  async readTrust(name: string): Promise<{ arn: string; trustPolicy: string } | undefined> {
    const role = await this.getRole(name);
    return role?.Arn ? { arn: role.Arn, trustPolicy: role.AssumeRolePolicyDocument ?? '' } : undefined;
  }

  /** The OIDC provider: its client IDs (the audiences it accepts), thumbprints and tags; undefined when there is none. */
  async oidcProvider(arn: string): Promise<OidcProviderState | undefined> {
    const out = await undefinedIfNotFound(
      this.call('GetOpenIDConnectProvider', () => this.iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))),
    );
    return out && { clientIds: out.ClientIDList ?? [], thumbprints: out.ThumbprintList ?? [], tags: tagMap(out.Tags ?? []) };
  }

  /** One write to an OIDC provider (manageOidcProvider). */
  async applyProvider(o: ProviderOperation): Promise<void> {
    switch (o.op) {
      case 'CreateOpenIDConnectProvider':
        await this.call(o.op, () =>
          this.iam.send(
            new CreateOpenIDConnectProviderCommand({
              Url: o.url,
              ClientIDList: o.clientIds,
              ThumbprintList: [o.thumbprint],
              Tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })),
            }),
          ),
        );
        return;
      case 'AddClientIDToOpenIDConnectProvider':
        await this.call(o.op, () =>
          this.iam.send(new AddClientIDToOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: o.arn, ClientID: o.clientId })),
        );
        return;
      case 'UpdateOpenIDConnectProviderThumbprint':
        await this.call(o.op, () =>
          this.iam.send(
            new UpdateOpenIDConnectProviderThumbprintCommand({ OpenIDConnectProviderArn: o.arn, ThumbprintList: [o.thumbprint] }),
          ),
        );
        return;
    }
  }

  /** A managed policy's default version id; undefined when there is no such policy. */
  async policyDefaultVersion(arn: string): Promise<string | undefined> {
    return (await undefinedIfNotFound(this.call('GetPolicy', () => this.iam.send(new GetPolicyCommand({ PolicyArn: arn })))))?.Policy
      ?.DefaultVersionId;
  }

  /** One version's document of a managed policy (URL-encoded JSON, as IAM returns it). */
  async policyVersionDocument(arn: string, versionId: string): Promise<string | undefined> {
    const out = await undefinedIfNotFound(
      this.call('GetPolicyVersion', () => this.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId }))),
    );
    return out?.PolicyVersion?.Document;
  }

  private async attachedPolicies(name: string): Promise<string[]> {
    const arns: string[] = [];
    await forEachPage(
      (Marker) =>
        this.call('ListAttachedRolePolicies', () => this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, Marker }))),
      (page) => {
        for (const p of page.AttachedPolicies ?? []) if (p.PolicyArn) arns.push(p.PolicyArn);
      },
    );
    return arns.sort();
  }

  private async inlinePolicyNames(name: string): Promise<string[]> {
    const names: string[] = [];
    await forEachPage(
      (Marker) => this.call('ListRolePolicies', () => this.iam.send(new ListRolePoliciesCommand({ RoleName: name, Marker }))),
      (page) => names.push(...(page.PolicyNames ?? [])),
    );
    return names;
  }

  private async inlinePolicies(name: string): Promise<Record<string, string>> {
    const docs = await Promise.all(
      (await this.inlinePolicyNames(name)).map(async (policyName) => {
        const out = await this.call('GetRolePolicy', () =>
          this.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName })),
        );
        return [policyName, out.PolicyDocument ?? ''] as const;
      }),
    );
    return Object.fromEntries(docs);
  }

  private async tags(name: string): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    await forEachPage(
      (Marker) => this.call('ListRoleTags', () => this.iam.send(new ListRoleTagsCommand({ RoleName: name, Marker }))),
      (page) => Object.assign(tags, tagMap(page.Tags ?? [])),
    );
    return tags;
  }

  /** Runs the operations in order. */
  async apply(name: string, ops: readonly IamOperation[]): Promise<void> {
    for (const o of ops) await this.applyOne(name, o);
  }

  private async applyOne(name: string, o: IamOperation): Promise<void> {
    const RoleName = name;
    switch (o.op) {
      case 'CreateRole': {
        const r = o.role;
        await this.call('CreateRole', () =>
          this.iam.send(
            new CreateRoleCommand({
              RoleName,
              Path: r.path,
              AssumeRolePolicyDocument: JSON.stringify(r.trustPolicy),
              Description: r.description,
              MaxSessionDuration: r.maxSessionDuration,
              PermissionsBoundary: r.permissionsBoundary,
              Tags: Object.entries(r.tags).map(([Key, Value]) => ({ Key, Value })),
            }),
          ),
        );
        return;
      }
      case 'UpdateAssumeRolePolicy':
        await this.call(o.op, () =>
          this.iam.send(new UpdateAssumeRolePolicyCommand({ RoleName, PolicyDocument: JSON.stringify(o.document) })),
        );
        return;
      case 'UpdateRole':
        // Both fields always: UpdateRole resets what it is not given on some implementations.
        await this.call(o.op, () =>
          this.iam.send(new UpdateRoleCommand({ RoleName, Description: o.description, MaxSessionDuration: o.maxSessionDuration })),
        );
        return;
      case 'PutRolePermissionsBoundary':
        await this.call(o.op, () => this.iam.send(new PutRolePermissionsBoundaryCommand({ RoleName, PermissionsBoundary: o.arn })));
        return;
      case 'TagRole':
        await this.call(o.op, () =>
          this.iam.send(new TagRoleCommand({ RoleName, Tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })) })),
        );
        return;
      case 'UntagRole':
        await this.call(o.op, () => this.iam.send(new UntagRoleCommand({ RoleName, TagKeys: o.keys })));
        return;
      case 'AttachRolePolicy':
        await this.call(o.op, () => this.iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: o.arn })));
        return;
      case 'DetachRolePolicy':
        await this.ignoreNotFound(this.call(o.op, () => this.iam.send(new DetachRolePolicyCommand({ RoleName, PolicyArn: o.arn }))));
        return;
      case 'PutRolePolicy':
        await this.call(o.op, () =>
          this.iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: o.name, PolicyDocument: JSON.stringify(o.document) })),
        );
        return;
      case 'DeleteRolePolicy':
        await this.ignoreNotFound(this.call(o.op, () => this.iam.send(new DeleteRolePolicyCommand({ RoleName, PolicyName: o.name }))));
        return;
    }
  }

  /** Only the role's tags (GetRole; ListRoleTags where GetRole leaves them out); undefined when absent. */
  async readTags(name: string): Promise<Record<string, string> | undefined> {
    const role = await this.getRole(name);
    if (!role?.RoleName) return undefined;
    return role.Tags === undefined ? this.tags(name) : tagMap(role.Tags);
  }

  /** What deleting the role needs: its tags and what must go first (no policy documents); undefined when absent. */
  async readForDelete(name: string): Promise<RoleAttachments | undefined> {
    const tags = await this.readTags(name);
    if (!tags) return undefined;
    const [managedPolicyArns, inlinePolicyNames] = await Promise.all([this.attachedPolicies(name), this.inlinePolicyNames(name)]);
    return { tags, managedPolicyArns, inlinePolicyNames };
  }

  /**
   * Detaches and deletes the policies read, then the role; absent counts as done. A policy attached
   * since the read makes DeleteRole fail (DeleteConflict), and the retry reads again.
   */
  async delete(name: string, attached: RoleAttachments): Promise<void> {
    for (const arn of attached.managedPolicyArns) await this.applyOne(name, { op: 'DetachRolePolicy', arn });
    for (const policyName of attached.inlinePolicyNames) await this.applyOne(name, { op: 'DeleteRolePolicy', name: policyName });
    await this.ignoreNotFound(this.call('DeleteRole', () => this.iam.send(new DeleteRoleCommand({ RoleName: name }))));
  }

  private async ignoreNotFound(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }
}

function tagMap(tags: readonly { Key?: string | undefined; Value?: string | undefined }[]): Record<string, string> {
  return Object.fromEntries(tags.filter((t) => t.Key !== undefined).map((t) => [t.Key ?? '', t.Value ?? '']));
}
