import { ConfigReader } from '@backstage/config';
import { NotAllowedError } from '@backstage/errors';
import { ResolvedAddress, TrackingUrlGuard } from './TrackingUrlGuard';

const dns: Record<string, ResolvedAddress[]> = {
  'mlflow.example.com': [{ address: '10.0.3.4', family: 4 }],
  'rebind.example.com': [
    { address: '10.0.3.4', family: 4 },
    { address: '169.254.169.254', family: 4 },
  ],
  'meta.example.com': [{ address: '169.254.169.254', family: 4 }],
  'meta6.example.com': [{ address: 'fd00:ec2::254', family: 6 }],
  'mapped.example.com': [{ address: '::ffff:169.254.169.254', family: 6 }],
  'linklocal.example.com': [{ address: '169.254.10.20', family: 4 }],
  'linklocal6.example.com': [{ address: 'fe80::1', family: 6 }],
  'loop.example.com': [{ address: '127.0.0.1', family: 4 }],
  'self.example.com': [{ address: '10.9.9.9', family: 4 }],
  'demo.mlflow.localhost': [{ address: '127.0.0.1', family: 4 }],
  'backstage.example.com': [{ address: '10.1.1.1', family: 4 }],
};

function guard(allowedHosts: string[]) {
  return new TrackingUrlGuard({
    allowedHosts,
    backendBaseUrl: { hostname: 'backstage.example.com', port: 443 },
    backendPorts: [7007, 443],
    lookup: async hostname => {
      const found = dns[hostname];
      if (!found) {
        throw new Error(`ENOTFOUND ${hostname}`);
      }
      return found;
    },
    localAddresses: () => ['127.0.0.1', '::1', '10.9.9.9'],
  });
}

async function refusal(allowedHosts: string[], url: string) {
  try {
    await guard(allowedHosts).check(url);
  } catch (error) {
    expect(error).toBeInstanceOf(NotAllowedError);
    return (error as Error).message;
  }
  throw new Error(`${url} was not refused`);
}

describe('TrackingUrlGuard', () => {
  it('allows a listed host and pins the address it resolved', async () => {
    await expect(
      guard(['mlflow.example.com']).check('https://mlflow.example.com/mlflow'),
    ).resolves.toMatchObject({
      hostname: 'mlflow.example.com',
      port: 443,
      addresses: [{ address: '10.0.3.4', family: 4 }],
    });
  });

  it('refuses a host that matches no pattern, before resolving it', async () => {
    const lookup = jest.fn();
    const strict = new TrackingUrlGuard({
      allowedHosts: ['*.mlflow.example.com'],
      backendPorts: [7007],
      lookup,
    });
    await expect(strict.check('https://evil.example.org')).rejects.toThrow(
      'Host evil.example.org does not match mlflow.health.allowedTrackingHosts (*.mlflow.example.com).',
    );
    expect(lookup).not.toHaveBeenCalled();
  });

  it('refuses everything when the allow-list is empty', async () => {
    expect(await refusal([], 'https://mlflow.example.com')).toMatch(
      /allowedTrackingHosts \(empty\)/,
    );
  });

  it('refuses schemes other than http(s) and URLs with credentials, without echoing them', async () => {
    expect(await refusal(['*'], 'file:///etc/passwd')).toMatch(
      /scheme file: is not allowed/,
    );
    const message = await refusal(
      ['*'],
      'https://admin:hunter2@mlflow.example.com',
    );
    expect(message).toMatch(/carries credentials/);
    expect(message).not.toContain('hunter2');
  });

  it('refuses cloud metadata addresses under a broad pattern', async () => {
    expect(await refusal(['*'], 'http://169.254.169.254/latest')).toMatch(
      /cloud metadata address/,
    );
    expect(await refusal(['*'], 'http://meta.example.com')).toMatch(
      /^Host meta.example.com resolves to a cloud metadata address/,
    );
    expect(await refusal(['*'], 'http://[fd00:ec2::254]/')).toMatch(
      /cloud metadata address/,
    );
    expect(await refusal(['*'], 'http://meta6.example.com')).toMatch(
      /cloud metadata address/,
    );
    expect(await refusal(['*'], 'http://mapped.example.com')).toMatch(
      /cloud metadata address/,
    );
    expect(
      await refusal(['*'], 'http://metadata.google.internal/computeMetadata'),
    ).toMatch(/cloud metadata service/);
  });

  it('refuses link-local addresses under a broad pattern', async () => {
    const linkLocal = await refusal(['*'], 'http://linklocal.example.com');
    expect(linkLocal).toMatch(
      /^Host linklocal.example.com resolves to a link-local address/,
    );
    // The resolved address is logged by the check, never put in a message a report shows.
    expect(linkLocal).not.toContain('169.254.10.20');
    expect(await refusal(['*'], 'http://linklocal6.example.com')).toMatch(
      /^Host linklocal6.example.com resolves to a link-local address/,
    );
  });

  it('refuses a host when any of its addresses is refused', async () => {
    expect(
      await refusal(['*.example.com'], 'http://rebind.example.com'),
    ).toMatch(/cloud metadata address/);
  });

  it("refuses the backend's own address: baseUrl, listen port on loopback or a local interface", async () => {
    expect(await refusal(['*'], 'https://backstage.example.com')).toMatch(
      /is this backend \(backend.baseUrl\)/,
    );
    expect(
      await refusal(['*.localhost'], 'http://demo.mlflow.localhost:7007'),
    ).toMatch(/the backend's own address \(port 7007\)/);
    expect(await refusal(['*'], 'http://self.example.com:7007')).toMatch(
      /the backend's own address/,
    );
    expect(await refusal(['10.1.1.1'], 'https://10.1.1.1')).toMatch(
      /the backend's own address \(port 443\)/,
    );
  });

  it('allows loopback only under a pattern that names loopback', async () => {
    await expect(
      guard(['*.localhost']).check('http://demo.mlflow.localhost'),
    ).resolves.toMatchObject({
      addresses: [{ address: '127.0.0.1', family: 4 }],
      port: 80,
    });
    await expect(
      guard(['127.0.0.1']).check('http://127.0.0.1:5000'),
    ).resolves.toMatchObject({
      addresses: [{ address: '127.0.0.1', family: 4 }],
      port: 5000,
    });
    await expect(
      guard(['::1']).check('http://[::1]:5000'),
    ).resolves.toMatchObject({
      addresses: [{ address: '::1', family: 6 }],
    });
    expect(await refusal(['*'], 'http://loop.example.com')).toMatch(
      /a loopback address, allowed only under a pattern naming loopback/,
    );
    expect(await refusal(['*'], 'http://127.0.0.1:5000')).toMatch(
      /loopback address/,
    );
  });

  it('refuses a host that does not resolve', async () => {
    expect(await refusal(['*'], 'http://nowhere.example.com')).toMatch(
      /does not resolve/,
    );
  });

  it('reads the backend address and ports from config', async () => {
    const fromConfig = TrackingUrlGuard.fromConfig(
      new ConfigReader({
        backend: { baseUrl: 'http://localhost:7007', listen: { port: 7008 } },
      }),
      { allowedHosts: ['127.0.0.1'] },
    );
    await expect(fromConfig.check('http://127.0.0.1:7007')).rejects.toThrow(
      /own address \(port 7007\)/,
    );
    await expect(fromConfig.check('http://127.0.0.1:7008')).rejects.toThrow(
      /own address \(port 7008\)/,
    );
    await expect(
      fromConfig.check('http://127.0.0.1:5000'),
    ).resolves.toMatchObject({ port: 5000 });
  });
});
