/**
 * The bench runner: `npm run bench -- <name|all> [--quick]`. Loads benches from the registry
 * in `benches.ts`, runs them one at a time, prints progress to stderr and, as the last line of
 * stdout, one JSON report per bench; also writes `bench/results/<name>.json`.
 *
 * Invariants: nothing but report lines reaches stdout (console.log/info/debug are sent to
 * stderr while benches run); an unknown name exits 2 listing the known ones; a failing bench
 * exits 1 (with `all`, after the others have run); cleanups registered with `ctx.defer` run
 * after each bench and on SIGINT/SIGTERM.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { BENCHES, benchNames } from './benches.js';
import { machineInfo } from './lib/machine.js';
import { type BenchContext, makeReport, reportToJson, writeReport } from './lib/result.js';

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

// Keep stdout for report lines only.
console.log = console.error;
console.info = console.error;
console.debug = console.error;

const abort = new AbortController();
const cleanups: (() => Promise<void> | void)[] = [];

async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: stopping, cleaning up\n`);
    abort.abort(new Error(`interrupted by ${sig}`));
    void runCleanups().finally(() => process.exit(130));
  });
}

function writeStdout(line: string): Promise<void> {
  return new Promise((resolve, reject) =>
    process.stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve())),
  );
}

async function runBench(name: string, quick: boolean): Promise<boolean> {
  const started = process.hrtime.bigint();
  const log = (message: string) => {
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    process.stderr.write(`[${name} +${s.toFixed(1)}s] ${message}\n`);
  };
  const ctx: BenchContext = {
    name,
    quick,
    resultsDir: RESULTS_DIR,
    artifactPath: (ext) => path.join(RESULTS_DIR, `${name}.${ext.replace(/^\./, '')}`),
    log,
    defer: (fn) => {
      cleanups.push(fn);
    },
    signal: abort.signal,
  };
  const machine = machineInfo();
  try {
    const bench = await BENCHES[name]!();
    log(`${bench.description}${quick ? ' (quick)' : ''}`);
    const result = await bench.run(ctx);
    const report = makeReport(name, machine, result);
    const file = await writeReport(RESULTS_DIR, report);
    log(`wrote ${path.relative(process.cwd(), file)}`);
    await writeStdout(reportToJson(report));
    return true;
  } catch (err) {
    log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return false;
  } finally {
    await runCleanups();
  }
}

async function main(argv: string[]): Promise<number> {
  let code = 0;
  const program = new Command()
    .name('npm run bench --')
    .description('Run a Weir benchmark; prints one JSON report as the last stdout line.')
    .argument('<name>', `a bench (${benchNames().join(', ')}) or "all"`)
    .option('--quick', 'reduced size, finishes in under a minute', false)
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stderr.write(s) })
    .action(async (name: string, opts: { quick: boolean }) => {
      const known = benchNames();
      if (name !== 'all' && !Object.hasOwn(BENCHES, name)) {
        process.stderr.write(`unknown bench "${name}"; known benches: ${known.join(', ')} (or "all")\n`);
        code = 2;
        return;
      }
      const names = name === 'all' ? known : [name];
      const failed: string[] = [];
      for (const n of names) {
        if (abort.signal.aborted) break;
        if (!(await runBench(n, opts.quick))) failed.push(n);
      }
      if (failed.length > 0) {
        process.stderr.write(`failed: ${failed.join(', ')}\n`);
        code = 1;
      }
    });
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    throw err;
  }
  return code;
}

main(process.argv).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
