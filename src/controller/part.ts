// The shape every part the controller manages has (the role, the ServiceAccount, and the parts
// to come): observe what is there, decide what to do (pure: a plan, or a TerminalError or
// WaitError saying why not), apply the plan, and release what the part holds when the object
// goes. Modelled on ACK's sdkFind / sdkCreate+sdkUpdate / sdkDelete per resource.
import type { EventReason } from '../api/reasons.ts';
import type { IamServiceAccount } from '../api/types.ts';
import type { Logger } from '../log.ts';
import type { PartOutcome } from './status.ts';

/** Something a pass changed (an IAM role, a ServiceAccount, a workload), for the pass's Event. */
export interface Done {
  reason: EventReason;
  message: string;
}

/** One reconcile of one object. */
export interface Pass {
  key: string;
  obj: IamServiceAccount;
  log: Logger;
  /** What this pass changed so far: told in one Event at its end, not one per change. */
  done: Done[];
}

export interface Part<Want, Seen, Plan> {
  observe(pass: Pass, want: Want): Promise<Seen>;
  decide(pass: Pass, want: Want, seen: Seen): Plan;
  apply(pass: Pass, want: Want, plan: Plan): Promise<PartOutcome>;
  release(pass: Pass): Promise<void>;
}

/** observe -> decide -> apply; a failure propagates for the reconciler to classify. */
export async function syncPart<Want, Seen, Plan>(part: Part<Want, Seen, Plan>, pass: Pass, want: Want): Promise<PartOutcome> {
  const seen = await part.observe(pass, want);
  return part.apply(pass, want, part.decide(pass, want, seen));
}
