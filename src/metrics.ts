// Prometheus metrics (prom-client), in a registry of the operator's own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ConditionStatus, IamServiceAccount } from './api/types.ts';
import { findCondition } from './controller/conditions.ts';

/** Objects by the status of their Ready condition; no Ready condition counts as Unknown. */
export function countByReady(objects: Iterable<IamServiceAccount>): Record<ConditionStatus, number> {
  const counts: Record<ConditionStatus, number> = { True: 0, False: 0, Unknown: 0 };
  for (const o of objects) {
    const ready = findCondition(o.status?.conditions, 'Ready')?.status;
    counts[ready === 'True' || ready === 'False' ? ready : 'Unknown']++;
  }
  return counts;
}

export class Metrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'irsa_reconciles_total',
    help: 'Reconciles by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'irsa_reconcile_duration_seconds',
    help: 'Time one reconcile took',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly awsCalls = new Counter({
    name: 'irsa_aws_calls_total',
    help: 'AWS API calls by service, operation and outcome',
    labelNames: ['service', 'operation', 'outcome'],
    registers: [this.registry],
  });
  readonly awsThrottles = new Counter({
    name: 'irsa_aws_throttles_total',
    help: "AWS API calls refused for their rate (Throttling, TooManyRequestsException, RequestLimitExceeded) after the SDK's own retries",
    labelNames: ['service', 'operation'],
    registers: [this.registry],
  });
  readonly kubeWrites = new Counter({
    name: 'irsa_kube_writes_total',
    help: 'Kubernetes API writes by kind and success',
    labelNames: ['write', 'ok'],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: 'irsa_workqueue_depth', help: 'Keys waiting in the work queue', registers: [this.registry] });
  readonly queueWaitSeconds = new Histogram({
    name: 'irsa_workqueue_wait_seconds',
    help: 'Time from when a key was added to the work queue (or became due) to when a worker picked it up',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });
  readonly objects: Gauge<'ready'>;
  readonly podsNeedingRestart: Gauge;
  readonly leader = new Gauge({
    name: 'irsa_leader',
    help: '1 while this replica holds the lease (always 1 without leader election)',
    registers: [this.registry],
  });
  readonly driftSweeps = new Counter({
    name: 'irsa_drift_sweeps_total',
    help: 'Account-wide drift sweeps by result: ok, denied (the operator may not call GetAccountAuthorizationDetails or ListRoles: each object reads its own role) or error',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly driftSweepActive = new Gauge({
    name: 'irsa_drift_sweep_active',
    help: '1 while drift is checked by account-wide sweeps, 0 while each object reads its own role every drift period',
    registers: [this.registry],
  });
  readonly driftFound = new Counter({
    name: 'irsa_drift_found_total',
    help: 'Objects a drift sweep found whose role differs from what they want (each then gets a full pass)',
    registers: [this.registry],
  });
  readonly informerRestarts = new Counter({
    name: 'irsa_informer_restarts_total',
    help: 'Informer restarts after a watch or list error',
    labelNames: ['informer'],
    registers: [this.registry],
  });

  /** @param objects the IamServiceAccounts in the informer caches, read at each scrape. */
  constructor(objects: () => Iterable<IamServiceAccount> = () => []) {
    this.objects = new Gauge({
      name: 'irsa_objects',
      help: 'IamServiceAccounts in the informer caches by the status of their Ready condition',
      labelNames: ['ready'],
      registers: [this.registry],
      collect() {
        for (const [ready, n] of Object.entries(countByReady(objects()))) this.set({ ready }, n);
      },
    });
    this.podsNeedingRestart = new Gauge({
      name: 'irsa_pods_need_restart',
      help: 'Running pods that started before their ServiceAccount got its role annotations and run without them (status.podsNeedingRestart)',
      registers: [this.registry],
      collect() {
        let n = 0;
        for (const o of objects()) n += o.status?.podsNeedingRestart?.count ?? 0;
        this.set(n);
      },
    });
    collectDefaultMetrics({ register: this.registry, prefix: 'irsa_' });
  }
}
