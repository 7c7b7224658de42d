import { Config } from '@backstage/config';
import { NotAllowedError } from '@backstage/errors';
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { minimatch } from 'minimatch';

/** One resolved address of a host. */
export type ResolvedAddress = { address: string; family: 4 | 6 };

/** A URL that passed the guard, with the addresses to connect to (never resolved again). */
export type CheckedTarget = {
  url: URL;
  hostname: string;
  port: number;
  addresses: ResolvedAddress[];
};

export type TrackingUrlGuardOptions = {
  allowedHosts: string[];
  /** Host and port of `backend.baseUrl`. */
  backendBaseUrl?: { hostname: string; port: number };
  /** Ports the backend listens on or is reached through. */
  backendPorts: number[];
  lookup?: (hostname: string) => Promise<ResolvedAddress[]>;
  /** Addresses of this machine's interfaces. */
  localAddresses?: () => string[];
};

const METADATA_HOSTNAMES = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254']);

function blockList(entries: Array<[string, number, 'ipv4' | 'ipv6']>) {
  const list = new BlockList();
  for (const [network, prefix, addressType] of entries) {
    list.addSubnet(network, prefix, addressType);
  }
  return list;
}

const LINK_LOCAL = blockList([
  ['169.254.0.0', 16, 'ipv4'],
  ['fe80::', 10, 'ipv6'],
]);
const UNSPECIFIED = blockList([
  ['0.0.0.0', 8, 'ipv4'],
  ['::', 128, 'ipv6'],
]);
const LOOPBACK = blockList([
  ['127.0.0.0', 8, 'ipv4'],
  ['::1', 128, 'ipv6'],
]);

function family(address: string): 4 | 6 {
  return isIP(address) === 6 ? 6 : 4;
}

function type(address: string): 'ipv4' | 'ipv6' {
  return family(address) === 6 ? 'ipv6' : 'ipv4';
}

/** `::ffff:169.254.169.254` is the IPv4 address in disguise. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (mapped ? mapped[1] : address).toLowerCase();
}

function normaliseHostname(hostname: string): string {
  return hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

/** Patterns that can only name this machine's loopback (RFC 6761 reserves `.localhost`). */
function namesLoopback(pattern: string): boolean {
  const host = normaliseHostname(pattern);
  if (isIP(host)) {
    return LOOPBACK.check(unmapped(host), type(unmapped(host)));
  }
  return host === 'localhost' || host.endsWith('.localhost');
}

function defaultPort(url: URL): number {
  if (url.port) {
    return Number(url.port);
  }
  return url.protocol === 'https:' ? 443 : 80;
}

async function systemLookup(hostname: string): Promise<ResolvedAddress[]> {
  const results = await dnsLookup(hostname, { all: true, verbatim: true });
  return results.map(r => ({
    address: r.address,
    family: r.family === 6 ? 6 : 4,
  }));
}

function systemLocalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap(entries => entries ?? [])
    .map(entry => unmapped(entry.address.replace(/%.*$/, '')));
}

/**
 * Decides which tracking URLs the backend may call, and pins the address it checked so the
 * request cannot be sent somewhere else by a second DNS answer.
 *
 * A URL passes when it is http(s) without credentials, its host matches one of the allowed
 * patterns, and none of the addresses its host resolves to is link-local, a cloud metadata
 * address, unspecified, the backend itself (its ports on a local address), or loopback under a
 * pattern that does not name loopback.
 */
export class TrackingUrlGuard {
  static fromConfig(
    config: Config,
    options: { allowedHosts: string[] },
  ): TrackingUrlGuard {
    const baseUrl = new URL(config.getString('backend.baseUrl'));
    const listen = config.getOptional('backend.listen');
    let listenPort = 7007;
    if (typeof listen === 'string') {
      listenPort = Number(/:(\d+)$/.exec(listen)?.[1] ?? listenPort);
    } else if (listen !== undefined) {
      listenPort = Number(
        config.getOptional('backend.listen.port') ?? listenPort,
      );
    }
    const baseUrlPort = defaultPort(baseUrl);
    return new TrackingUrlGuard({
      allowedHosts: options.allowedHosts,
      backendBaseUrl: {
        hostname: normaliseHostname(baseUrl.hostname),
        port: baseUrlPort,
      },
      backendPorts: [...new Set([listenPort, baseUrlPort])],
    });
  }

  private readonly lookup: (hostname: string) => Promise<ResolvedAddress[]>;
  private readonly localAddresses: () => string[];
  private baseUrlAddresses?: Promise<Set<string>>;

  constructor(private readonly options: TrackingUrlGuardOptions) {
    this.lookup = options.lookup ?? systemLookup;
    this.localAddresses = options.localAddresses ?? systemLocalAddresses;
  }

  /** The target to connect to; a NotAllowedError saying why when the URL may not be called. */
  async check(rawUrl: string): Promise<CheckedTarget> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new NotAllowedError(
        'Tracking URL is not a valid URL; accepted: an http or https URL.',
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new NotAllowedError(
        `Tracking URL scheme ${url.protocol} is not allowed; accepted: http or https.`,
      );
    }
    if (url.username || url.password) {
      throw new NotAllowedError(
        'Tracking URL carries credentials; accepted: a URL without user or password.',
      );
    }
    const hostname = normaliseHostname(url.hostname);
    const pattern = this.options.allowedHosts.find(p =>
      minimatch(hostname, normaliseHostname(p), { nocase: true, dot: true }),
    );
    if (!pattern) {
      throw new NotAllowedError(
        `Host ${hostname} does not match mlflow.health.allowedTrackingHosts (${
          this.options.allowedHosts.join(', ') || 'empty'
        }).`,
      );
    }
    if (METADATA_HOSTNAMES.has(hostname)) {
      throw new NotAllowedError(
        `Host ${hostname} is a cloud metadata service and is never called.`,
      );
    }
    const port = defaultPort(url);
    const base = this.options.backendBaseUrl;
    if (base && base.hostname === hostname && base.port === port) {
      throw new NotAllowedError(
        `Host ${hostname}:${port} is this backend (backend.baseUrl) and is never called.`,
      );
    }

    let addresses: ResolvedAddress[];
    if (isIP(hostname)) {
      addresses = [{ address: hostname, family: family(hostname) }];
    } else {
      try {
        addresses = await this.lookup(hostname);
      } catch (error) {
        throw new NotAllowedError(`Host ${hostname} does not resolve.`, error);
      }
    }
    if (addresses.length === 0) {
      throw new NotAllowedError(`Host ${hostname} does not resolve.`);
    }
    for (const { address } of addresses) {
      const refusal = await this.refusal(unmapped(address), port, pattern);
      if (refusal) {
        // The address stays out of the message: reports must not reveal internal addresses.
        throw new NotAllowedError(`Host ${hostname} resolves to ${refusal}.`);
      }
    }
    return { url, hostname, port, addresses };
  }

  private async refusal(
    address: string,
    port: number,
    pattern: string,
  ): Promise<string | undefined> {
    const addressType = type(address);
    if (METADATA_ADDRESSES.has(address)) {
      return 'a cloud metadata address, which is never called';
    }
    if (LINK_LOCAL.check(address, addressType)) {
      return 'a link-local address, which is never called';
    }
    if (UNSPECIFIED.check(address, addressType)) {
      return 'an unspecified address, which is never called';
    }
    const loopback = LOOPBACK.check(address, addressType);
    if (
      this.options.backendPorts.includes(port) &&
      (loopback ||
        this.localAddresses().includes(address) ||
        (await this.resolveBaseUrl()).has(address))
    ) {
      return `the backend's own address (port ${port}), which is never called`;
    }
    if (loopback && !namesLoopback(pattern)) {
      return `a loopback address, allowed only under a pattern naming loopback (localhost, *.localhost, 127.0.0.1, ::1), not under ${pattern}`;
    }
    return undefined;
  }

  private resolveBaseUrl(): Promise<Set<string>> {
    const hostname = this.options.backendBaseUrl?.hostname;
    if (!hostname) {
      return Promise.resolve(new Set());
    }
    this.baseUrlAddresses ??= (
      isIP(hostname)
        ? Promise.resolve([{ address: hostname }])
        : this.lookup(hostname).catch(() => [])
    ).then(list => new Set(list.map(a => unmapped(a.address))));
    return this.baseUrlAddresses;
  }
}
