// Events, recorded without holding up a reconcile: a pass goes on while its Events are written,
// and flush() waits for those in flight (on shutdown). A failed Event is logged, never retried.
import type { EventReason } from '../api/reasons.ts';
import type { IamServiceAccount } from '../api/types.ts';
import { errorMessage } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { KubeWrites } from './ports.ts';

export class EventRecorder {
  private readonly kube: Pick<KubeWrites, 'createEvent'>;
  private readonly now: () => Date;
  private readonly pending = new Set<Promise<void>>();

  constructor(kube: Pick<KubeWrites, 'createEvent'>, now: () => Date) {
    this.kube = kube;
    this.now = now;
  }

  record(regarding: IamServiceAccount, log: Logger, type: 'Normal' | 'Warning', reason: EventReason, message: string): void {
    const p = this.kube
      .createEvent({ regarding, type, reason, message }, this.now())
      .catch((e: unknown) => {
        log.warn('could not record an Event', { reason, error: errorMessage(e) });
      })
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }

  async flush(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
