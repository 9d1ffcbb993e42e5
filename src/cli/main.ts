// irsa (and kubectl irsa): render, validate, doctor and import, on the operator's own pure core.
// The argument parsing is commander's; this file wires the commands and turns every way a run
// can end into a documented exit code (output.ts, docs/cli.md).
import { basename } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerDoctor } from './doctor.ts';
import { registerImport } from './import.ts';
import { registerRender } from './render.ts';
import { registerValidate } from './validate.ts';
import { colourEnabled, EXIT, paint, UnreachableError, UsageError } from './output.ts';

export const CLI_VERSION = '0.1.0';

/** `kubectl irsa` when kubectl runs us as the plugin kubectl-irsa, else `irsa`. */
export function programName(argv1: string | undefined): string {
  return argv1 !== undefined && basename(argv1).startsWith('kubectl-') ? 'kubectl irsa' : 'irsa';
}

export function buildProgram(name: string): Command {
  const program = new Command(name)
    .description('render, validate, diagnose and import IamServiceAccounts (irsa.dev/v1alpha1) without the operator')
    .version(CLI_VERSION)
    .option('--no-color', 'no colour, also on a terminal (NO_COLOR=1 does the same)')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => {
        write(paint(colourEnabled(process.stderr)).red(text));
      },
    })
    .addHelpText(
      'after',
      `
Exit codes: 0 all good; 1 findings (invalid objects, a broken link); 2 usage (flags, unreadable
files, bad --config); 3 the cluster or AWS could not be asked; 4 a bug. Details: docs/cli.md.`,
    );
  registerRender(program);
  registerValidate(program);
  registerDoctor(program);
  registerImport(program);
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const cmd of all(program).slice(1)) cmd.exitOverride().showHelpAfterError('(add --help for usage)');
  return program;
}

/** Runs the CLI; resolves to the exit code (also set on process.exitCode). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram(programName(argv[1]));
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    process.exitCode = exitCodeFor(e);
    if (!(e instanceof CommanderError)) process.stderr.write(`${paint(colourEnabled(process.stderr)).red('error:')} ${messageOf(e)}\n`);
  }
  const code = typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  process.exitCode = code;
  return code;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof CommanderError) {
    return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(e.code) ? EXIT.ok : EXIT.usage;
  }
  if (e instanceof UsageError) return EXIT.usage;
  if (e instanceof UnreachableError) return EXIT.unreachable;
  return EXIT.internal;
}
