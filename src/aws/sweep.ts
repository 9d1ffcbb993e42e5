// Every role of the account in a few paged calls, for the drift check: GetAccountAuthorizationDetails
// (Filter=Role) returns each role with its trust, attached and inline policies, boundary and tags;
// ListRoles under the operator's path adds the description and session duration it leaves out.
// One sweep costs (roles in the account / 1,000) + (roles under the path / 1,000) calls, instead of
// two to four reads per object. The caller bounds them with its read budget.
import { GetAccountAuthorizationDetailsCommand, ListRolesCommand, type IAMClient, type RoleDetail } from '@aws-sdk/client-iam';
import type { ActualRole } from '../policy/diff.ts';
import { callAws, type CallOptions } from './call.ts';
import { forEachPage } from './pages.ts';

/** IAM's page size maximum for both calls. */
const PAGE = 1000;

export class IamSweep {
  private readonly iam: IAMClient;
  private readonly opts: CallOptions;
  /** Called before each page: the drift sweep's read budget. */
  private readonly beforeCall: () => Promise<void>;

  constructor(iam: IAMClient, opts: CallOptions, beforeCall: () => Promise<void> = () => Promise.resolve()) {
    this.iam = iam;
    this.opts = opts;
    this.beforeCall = beforeCall;
  }

  /**
   * The roles whose names `wanted` accepts, whole. A role under `pathPrefix` gets its description
   * and session duration from ListRoles; one elsewhere (an attachRoleARN role) is read for its trust.
   */
  async readAll(pathPrefix: string, wanted: (name: string) => boolean): Promise<Map<string, ActualRole>> {
    const details = await this.details(wanted);
    const settings = await this.settings(pathPrefix);
    const roles = new Map<string, ActualRole>();
    for (const d of details) {
      const name = d.RoleName ?? '';
      const s = settings.get(name);
      roles.set(name, {
        name,
        path: d.Path ?? '/',
        arn: d.Arn ?? '',
        description: s?.description ?? '',
        maxSessionDuration: s?.maxSessionDuration ?? 3600,
        permissionsBoundary: d.PermissionsBoundary?.PermissionsBoundaryArn,
        trustPolicy: d.AssumeRolePolicyDocument ?? '',
        tags: Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
        managedPolicyArns: (d.AttachedManagedPolicies ?? []).map((p) => p.PolicyArn ?? '').sort(),
        inlinePolicies: Object.fromEntries((d.RolePolicyList ?? []).map((p) => [p.PolicyName ?? '', p.PolicyDocument ?? ''])),
      });
    }
    return roles;
  }

  private async details(wanted: (name: string) => boolean): Promise<RoleDetail[]> {
    const out: RoleDetail[] = [];
    await forEachPage(
      (Marker) =>
        this.page('GetAccountAuthorizationDetails', () =>
          this.iam.send(new GetAccountAuthorizationDetailsCommand({ Filter: ['Role'], MaxItems: PAGE, Marker })),
        ),
      (page) => {
        for (const d of page.RoleDetailList ?? []) if (d.RoleName && wanted(d.RoleName)) out.push(d);
      },
    );
    return out;
  }

  private async settings(pathPrefix: string): Promise<Map<string, { description: string; maxSessionDuration: number }>> {
    const out = new Map<string, { description: string; maxSessionDuration: number }>();
    await forEachPage(
      (Marker) => this.page('ListRoles', () => this.iam.send(new ListRolesCommand({ PathPrefix: pathPrefix, MaxItems: PAGE, Marker }))),
      (page) => {
        for (const r of page.Roles ?? []) {
          if (r.RoleName) out.set(r.RoleName, { description: r.Description ?? '', maxSessionDuration: r.MaxSessionDuration ?? 3600 });
        }
      },
    );
    return out;
  }

  /** One page, within the read budget. */
  private async page<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    await this.beforeCall();
    return callAws('iam', operation, fn, this.opts);
  }
}
