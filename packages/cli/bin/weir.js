#!/bin/sh
":" //; case " $NODE_OPTIONS" in *" --max-semi-space-size"* | *" --max_semi_space_size"*) Y= ;; *) Y=--max-semi-space-size=32 ;; esac; MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}" exec node $Y "$0" "$@"
// The `weir` command, a file that is both a POSIX shell script and an ES module. Run as a
// command, the shell line above starts Node on this same file with
// - glibc's malloc capped at two arenas (unless MALLOC_ARENA_MAX is already set): glibc otherwise
//   gives each allocating thread (encode workers, libuv's pool, V8's helpers) its own arena, and
//   each arena keeps its high-water mark, which cost `weir ingest` 80-110 MiB of RSS at 100K
//   msgs/s;
// - V8's young generation at up to 32 MiB per semi-space, not 16 (unless NODE_OPTIONS sets it):
//   a stream's per-message garbage then dies young instead of being promoted (at 100K msgs/s,
//   ingest CPU -5 to -10% and p99 visibility 0.4-0.6 s instead of 0.4-1.1 s, RSS unchanged).
// Run with `node`, Node skips the first line and sees the second as a string and a comment.
// It runs the built CLI (npm install builds it via the root `prepare` script).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    'weir: the CLI is not built yet; run `npm run build` (or `npm install`) in the repository\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
// The command is done. A client library that left a socket or timer behind (a Kafka consumer
// that lost its broker, say) must not keep the process alive after that.
setTimeout(() => process.exit(), 2000).unref();
