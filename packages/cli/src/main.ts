/**
 * Entry point of the `weir` command: builds the commander program, runs one command, and turns
 * failures into one clear line on stderr and an exit code (1 for a Weir error such as a missing
 * table or a bad predicate, 2 for wrong usage, 70 for an unexpected internal error; the stack
 * only with WEIR_DEBUG=1).
 */

import { isWeirError } from '@weir/storage';
import { Command, CommanderError } from 'commander';
import { registerBrokerCommand } from './commands/broker.js';
import { registerIngestCommand } from './commands/ingest-command.js';
import { registerMaintenanceCommands } from './commands/maintenance-commands.js';
import { registerReadCommands } from './commands/read-commands.js';
import { registerSqlCommand } from './commands/sql-command.js';
import { registerStreamDemoCommand } from './commands/stream-demo.js';
import { registerTourCommand } from './commands/tour.js';
import { registerWriteCommands } from './commands/write-commands.js';
import { type CliIo, createContext, type S3Flags } from './context.js';

export const VERSION = '0.1.0';

export function createProgram(io: CliIo): Command {
  let program: Command;
  // Global S3 flags may stand before or after the command name; read them when a store is opened.
  const ctx = createContext(io, () => program.opts<S3Flags>());
  program = new Command('weir')
    .description('Weir: stream records into Delta Lake tables and keep them healthy')
    .version(VERSION, '-V, --cli-version', 'print the weir version')
    .option('--s3-endpoint <url>', 'S3 endpoint for s3:// tables (default: AWS_ENDPOINT_URL / AWS config)')
    .option('--s3-region <region>', 'S3 region (default: AWS_REGION / AWS config)')
    .option('--s3-profile <name>', 'AWS profile for credentials')
    .option('--s3-path-style', 'use path-style S3 addressing (default on when an endpoint is set)')
    .option(
      '--s3-unsafe-single-writer',
      'allow commits on S3 stores without conditional writes (only one writer may run!)',
    )
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  registerReadCommands(program, ctx);
  registerSqlCommand(program, ctx);
  registerWriteCommands(program, ctx);
  registerMaintenanceCommands(program, ctx);
  registerTourCommand(program, ctx);
  registerStreamDemoCommand(program, ctx);
  registerBrokerCommand(program, ctx);
  registerIngestCommand(program, ctx);
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
      // The library names its option; on the command line the switch is a flag.
      const hint =
        err.code === 'CONDITIONAL_WRITES_UNSUPPORTED' ? ' (weir: pass --s3-unsafe-single-writer)' : '';
      cliIo.stderr.write(`weir: ${err.message}${hint}\n`);
      if (process.env.WEIR_DEBUG) cliIo.stderr.write(`${err.stack}\n`);
      return 1;
    }
    const message = err instanceof Error ? err.message : String(err);
    cliIo.stderr.write(`weir: internal error: ${message}\n`);
    if (process.env.WEIR_DEBUG && err instanceof Error) cliIo.stderr.write(`${err.stack}\n`);
    return 70;
  }
}
