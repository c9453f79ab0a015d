/**
 * Entry point of the `weir` command: builds the commander program, runs one command, and turns
 * failures into one clear line on stderr and an exit code (1 for a Weir error such as a missing
 * table or a bad predicate, 2 for wrong usage, 70 for an unexpected internal error; the stack
 * only with WEIR_DEBUG=1).
 */

import { isWeirError } from '@weir/storage';
import { Command, CommanderError } from 'commander';
import { registerBrokerCommand } from './commands/broker.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerReadCommands } from './commands/read-commands.js';
import { registerWriteCommands } from './commands/write-commands.js';
import { type CliIo, createContext } from './context.js';

export const VERSION = '0.1.0';

export function createProgram(io: CliIo): Command {
  const ctx = createContext(io);
  const program = new Command('weir')
    .description('Weir: stream records into Delta Lake tables and keep them healthy')
    .version(VERSION, '-V, --cli-version', 'print the weir version')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  registerReadCommands(program, ctx);
  registerWriteCommands(program, ctx);
  registerDemoCommand(program, ctx);
  registerBrokerCommand(program, ctx);
  for (const cmd of program.commands) cmd.exitOverride().configureOutput(program.configureOutput());
  return program;
}

export async function main(argv: readonly string[], io?: CliIo): Promise<number> {
  const cliIo: CliIo = io ?? {
    stdout: process.stdout,
    stderr: process.stderr,
    isTTY: Boolean(process.stdout.isTTY),
  };
  const program = createProgram(cliIo);
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit with 0; usage errors were already printed by commander.
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isWeirError(err)) {
      cliIo.stderr.write(`weir: ${err.message}\n`);
      if (process.env.WEIR_DEBUG) cliIo.stderr.write(`${err.stack}\n`);
      return 1;
    }
    const message = err instanceof Error ? err.message : String(err);
    cliIo.stderr.write(`weir: internal error: ${message}\n`);
    if (process.env.WEIR_DEBUG && err instanceof Error) cliIo.stderr.write(`${err.stack}\n`);
    return 70;
  }
}
