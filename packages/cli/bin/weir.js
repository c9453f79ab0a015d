#!/usr/bin/env node
// The `weir` command. Runs the built CLI (npm install builds it via the root `prepare` script).
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
