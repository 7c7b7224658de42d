import http from 'node:http';
import { AddressInfo } from 'node:net';
import { pinnedHttpRequest } from './pinnedHttpRequest';

// Above the bounds that tell a timeout from a hang, so a busy machine fails neither.
jest.setTimeout(90_000);

describe('pinnedHttpRequest', () => {
  let server: http.Server;
  let port: number;
  const seen: Array<{ host?: string; path?: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push({ host: req.headers.host, path: req.url });
      if (req.url === '/endless') {
        res.writeHead(200);
        const chunk = Buffer.alloc(16 * 1024, 'a');
        const write = () => {
          while (res.write(chunk)) {
            // keep the socket full until the client goes away
          }
          res.once('drain', write);
        };
        write();
        return;
      }
      res.writeHead(302, { location: '/elsewhere' }).end();
    });
    await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise(r => server.close(r));
  });

  const target = (path: string) => ({
    url: new URL(`http://mlflow.example.com:${port}${path}`),
    hostname: 'mlflow.example.com',
    port,
    addresses: [{ address: '127.0.0.1', family: 4 as const }],
  });

  it('connects to the checked address with the name in the Host header, and returns redirects unfollowed', async () => {
    const response = await pinnedHttpRequest(target('/start'), {
      method: 'GET',
      signal: AbortSignal.timeout(2000),
    });
    expect(response).toMatchObject({ status: 302, location: '/elsewhere' });
    expect(seen).toContainEqual({
      host: `mlflow.example.com:${port}`,
      path: '/start',
    });
    expect(seen.map(s => s.path)).not.toContain('/elsewhere');
  });

  it('cuts an endless answer instead of reading it until the timeout', async () => {
    const started = Date.now();
    const response = await pinnedHttpRequest(target('/endless'), {
      method: 'GET',
      signal: AbortSignal.timeout(60_000),
    });
    expect(response.body).toHaveLength(64 * 1024);
    // Cut at the limit, not ended by the 60 s timeout: the margin is for a busy machine.
    expect(Date.now() - started).toBeLessThan(30_000);
  });
});
