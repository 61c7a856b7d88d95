/**
 * A load balancer for fleet tests and benchmarks: an HTTP server on 127.0.0.1 handing
 * each request to the next backend in turn, as nginx's round robin does. A backend that
 * refuses the connection (stopped, killed) is skipped for the next one; a backend that
 * fails mid-request gives 502, as nginx does for a non-idempotent POST. Requests are
 * buffered (webhook bodies are small) so a refused one can be passed on whole.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export class RoundRobinProxy {
  readonly url: string;
  /** Requests each backend port was given (answered or not). */
  readonly handled = new Map<number, number>();
  private next = 0;

  private constructor(
    private readonly server: Server,
    public backends: number[],
  ) {
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  static async start(backends: number[] = [], port = 0): Promise<RoundRobinProxy> {
    let proxy: RoundRobinProxy | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const body = Buffer.concat(chunks);
        const tryBackend = (left: number): void => {
          const backends = proxy!.backends;
          if (left === 0 || backends.length === 0) return void res.writeHead(502).end();
          const port = backends[proxy!.next++ % backends.length]!;
          const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (up) => {
            proxy!.handled.set(port, (proxy!.handled.get(port) ?? 0) + 1);
            res.writeHead(up.statusCode ?? 502, up.headers);
            up.pipe(res);
          });
          upstream.on('error', (err: NodeJS.ErrnoException) => {
            if (err.code === 'ECONNREFUSED' && !res.headersSent) return tryBackend(left - 1);
            if (!res.headersSent) res.writeHead(502).end();
            else res.destroy();
          });
          upstream.end(body);
        };
        tryBackend(proxy!.backends.length);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    proxy = new RoundRobinProxy(server, backends);
    return proxy;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
