/**
 * The ingest's HTTP endpoints for operators: `GET /metrics` (Prometheus text format) and
 * `GET /healthz` (200 with the status as JSON while the ingest runs or recovers, 503 when it
 * failed or stopped). Listens on the given port (0: any free one) of the given host.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IngestStatus } from './types.js';

export interface EndpointSource {
  status(): IngestStatus;
  prometheus(): Promise<string>;
}

export interface HttpEndpoints {
  port: number;
  close(): Promise<void>;
}

export async function serveEndpoints(
  source: EndpointSource,
  port: number,
  host = '0.0.0.0',
): Promise<HttpEndpoints> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/metrics') {
      source.prometheus().then(
        (text) =>
          res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text),
        (err: unknown) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(err)),
      );
      return;
    }
    if (url === '/healthz') {
      const status = source.status();
      const healthy = status.state !== 'failed' && status.state !== 'stopped';
      res
        .writeHead(healthy ? 200 : 503, { 'Content-Type': 'application/json' })
        .end(`${JSON.stringify(status)}\n`);
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
