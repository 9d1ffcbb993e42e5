// Prometheus metrics (prom-client), in a registry of the operator's own.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({ name: 'irsa_reconciles_total', help: 'Reconciles by result', labelNames: ['result'], registers: [this.registry] });
  readonly reconcileSeconds = new Histogram({
    name: 'irsa_reconcile_duration_seconds',
    help: 'Time one reconcile took',
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly awsCalls = new Counter({ name: 'irsa_aws_calls_total', help: 'AWS API calls by service, operation and outcome', labelNames: ['service', 'operation', 'outcome'], registers: [this.registry] });
  readonly kubeWrites = new Counter({ name: 'irsa_kube_writes_total', help: 'Kubernetes API writes by kind and success', labelNames: ['write', 'ok'], registers: [this.registry] });
  readonly queueDepth = new Gauge({ name: 'irsa_workqueue_depth', help: 'Keys waiting in the work queue', registers: [this.registry] });
  readonly leader = new Gauge({ name: 'irsa_leader', help: '1 while this replica holds the lease (always 1 without leader election)', registers: [this.registry] });
  readonly informerRestarts = new Counter({ name: 'irsa_informer_restarts_total', help: 'Informer restarts after a watch or list error', labelNames: ['informer'], registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'irsa_' });
  }
}
