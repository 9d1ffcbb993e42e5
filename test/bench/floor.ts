// What Node and the AWS SDK take before any of the operator's code runs: the floor under the
// operator's side of `--compare ack`, measured as each side is (VmHWM, the peak), with the image's
// node flags and allocator. Two processes: node waiting on a timer, and node that loads
// @aws-sdk/client-iam and makes one ListRoles call to moto (signing, HTTP, the XML parser).
import { spawn } from 'node:child_process';
import { waitFor } from '../env/processes.ts';
import { procSample } from './measure.ts';
import { IMAGE_NODE_FLAGS } from './operator.ts';

export interface Floor {
  /** node alone, MB. */
  nodeMb: number;
  /** node with the IAM client after one call, MB. */
  iamSdkMb: number;
}

const READY = 'ready';
const IDLE = `console.log('${READY}'); setInterval(() => undefined, 1000);`;

function iamCall(motoUrl: string): string {
  const client = import.meta.resolve('@aws-sdk/client-iam');
  return [
    `import { IAMClient, ListRolesCommand } from ${JSON.stringify(client)};`,
    `const iam = new IAMClient({ region: 'us-east-1', endpoint: ${JSON.stringify(motoUrl)}, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });`,
    'await iam.send(new ListRolesCommand({}));',
    IDLE,
  ].join('\n');
}

/** The peak RSS of `node <image flags> -e script`, read once it says it is ready and a second has passed. */
async function peakMb(script: string, runtimeEnv: Record<string, string>): Promise<number> {
  const child = spawn(process.execPath, [...IMAGE_NODE_FLAGS, '--input-type=module', '-e', script], {
    env: { ...process.env, ...runtimeEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor('the floor process to be ready', () => out.includes(READY) || child.exitCode !== null, 30_000, 50);
    if (child.exitCode !== null) throw new Error(`the floor process exited ${child.exitCode}`);
    // A measurement window after the work, not a wait for anything.
    await new Promise((r) => setTimeout(r, 1000));
    return procSample(child.pid ?? 0).hwmMb;
  } finally {
    child.kill('SIGKILL');
  }
}

export async function measureFloor(motoUrl: string, runtimeEnv: Record<string, string>): Promise<Floor> {
  return { nodeMb: await peakMb(IDLE, runtimeEnv), iamSdkMb: await peakMb(iamCall(motoUrl), runtimeEnv) };
}
