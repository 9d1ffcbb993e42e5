// Lease-based leader election in the manner of client-go's: one replica holds a
// coordination.k8s.io Lease and renews it; the others wait for it to expire. Writes are guarded by
// resourceVersion, so two replicas can never both believe they hold it. Losing the lease stops
// the operator (a restart is the safe way back, as in controller-runtime).
import type { V1Lease } from '@kubernetes/client-node';
import { errorMessage } from '../errors.ts';
import { isKubeStatus, type KubeHttp } from './http.ts';
import type { Logger } from '../log.ts';

export interface LeaseTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

export const DEFAULT_LEASE_TIMINGS: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

export type LeaseAction = 'create' | 'acquire' | 'renew' | 'wait';

/** What a candidate should do with the lease as it is now. Pure. */
export function leaseAction(lease: Lease | undefined, me: string, nowMs: number): LeaseAction {
  if (!lease) return 'create';
  const spec = lease.spec ?? {};
  const holder = spec.holderIdentity ?? '';
  if (holder === me) return 'renew';
  const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
  const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
  if (holder === '' || renewed + durationMs < nowMs) return 'acquire';
  return 'wait';
}

/** A Lease's MicroTime: RFC 3339 with microseconds, as the API server writes and reads it. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

/** The Lease as the API server sends it: its times are strings, not Dates as client-node's type says. */
export type Lease = Omit<V1Lease, 'spec'> & { spec?: Omit<NonNullable<V1Lease['spec']>, 'renewTime' | 'acquireTime'> & LeaseTimes };
interface LeaseTimes {
  renewTime?: string;
  acquireTime?: string;
}

export class LeaderElector {
  private readonly http: KubeHttp;
  private readonly namespace: string;
  private readonly name: string;
  private readonly identity: string;
  private readonly timings: LeaseTimings;
  private readonly log: Logger;
  private stopped = false;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private lastRenew = 0;

  constructor(http: KubeHttp, namespace: string, name: string, identity: string, log: Logger, timings = DEFAULT_LEASE_TIMINGS) {
    this.http = http;
    this.namespace = namespace;
    this.name = name;
    this.identity = identity;
    this.log = log.child({ lease: `${namespace}/${name}`, identity });
    this.timings = timings;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves once this replica holds the lease; keeps renewing it, calling onLost if it cannot. */
  async run(onLost: () => void): Promise<void> {
    while (!this.stopped && !(await this.tryOnce())) {
      await new Promise((r) => setTimeout(r, this.jittered(this.timings.retryPeriodMs)));
    }
    if (this.stopped) return;
    this.log.info('became leader');
    const renew = async () => {
      if (this.stopped) return;
      const ok = await this.tryOnce();
      if (!ok && Date.now() - this.lastRenew > this.timings.renewDeadlineMs) {
        this.leading = false;
        this.log.error('lost the lease');
        onLost();
        return;
      }
      this.timer = setTimeout(() => void renew(), this.timings.retryPeriodMs);
    };
    this.timer = setTimeout(() => void renew(), this.timings.retryPeriodMs);
  }

  private jittered(ms: number): number {
    return ms * (1 + 0.2 * Math.random());
  }

  private async tryOnce(): Promise<boolean> {
    const now = Date.now();
    try {
      const lease = await this.read();
      const action = leaseAction(lease, this.identity, now);
      if (action === 'wait') return false;
      const spec = {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.timings.leaseDurationMs / 1000),
        renewTime: microTime(now),
        acquireTime: action === 'renew' ? lease?.spec?.acquireTime : microTime(now),
        leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (action === 'acquire' ? 1 : 0),
      };
      if (action === 'create') {
        await this.http.request('POST', this.leasesPath(), { body: { metadata: { name: this.name, namespace: this.namespace }, spec } });
      } else if (lease) {
        lease.spec = spec; // keeps metadata.resourceVersion: the replace fails with 409 if another replica wrote first
        await this.http.request('PUT', this.leasePath(), { body: lease });
      }
      this.leading = true;
      this.lastRenew = now;
      return true;
    } catch (e) {
      // 409: another replica wrote first; it holds the lease now.
      if (!isKubeStatus(e, 409)) this.log.warn('lease update failed', { error: errorMessage(e) });
      return false;
    }
  }

  private leasesPath(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`;
  }

  private leasePath(): string {
    return `${this.leasesPath()}/${this.name}`;
  }

  private read(): Promise<Lease | undefined> {
    return this.http.getIfExists<Lease>(this.leasePath());
  }

  /** Stops renewing and, if leading, gives the lease up so another replica takes over at once. */
  async release(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.read();
      if (!lease?.spec || lease.spec.holderIdentity !== this.identity) return;
      lease.spec.holderIdentity = '';
      lease.spec.leaseDurationSeconds = 1;
      await this.http.request('PUT', this.leasePath(), { body: lease });
      this.log.info('released the lease');
    } catch (e) {
      this.log.warn('could not release the lease', { error: errorMessage(e) });
    }
  }
}
