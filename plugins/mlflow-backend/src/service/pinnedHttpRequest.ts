import http from 'node:http';
import https from 'node:https';
import type { LookupAddress } from 'node:dns';
import { CheckedTarget } from './TrackingUrlGuard';

export type PinnedResponse = {
  status: number;
  location?: string;
  body: string;
};

/** Answers are cut after this many bytes: the checks only read short JSON and text. */
const MAX_BODY_BYTES = 64 * 1024;

/**
 * One HTTP request to a target checked by the TrackingUrlGuard, connected only to the addresses the
 * guard checked (the host name is kept for the Host header and TLS) and never following redirects.
 */
export function pinnedHttpRequest(
  target: CheckedTarget,
  options: {
    method: 'GET' | 'POST';
    body?: string;
    /** An `Authorization` header value; the caller sends it only to the origin it belongs to. */
    authorization?: string;
    signal: AbortSignal;
  },
): Promise<PinnedResponse> {
  const { url, addresses } = target;
  const transport = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string | number> = {
    host: url.host,
    accept: 'application/json, text/plain',
  };
  if (options.authorization !== undefined) {
    headers.authorization = options.authorization;
  }
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(options.body);
  }
  return new Promise((resolve, reject) => {
    const request = transport.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${url.pathname}${url.search}`,
        method: options.method,
        headers,
        agent: false,
        signal: options.signal,
        servername: url.protocol === 'https:' ? target.hostname : undefined,
        lookup: (
          _hostname: string,
          lookupOptions: { all?: boolean },
          callback: (
            error: Error | null,
            addressOrAll: string | LookupAddress[],
            family?: number,
          ) => void,
        ) => {
          if (lookupOptions.all) {
            callback(null, addresses);
          } else {
            callback(null, addresses[0].address, addresses[0].family);
          }
        },
      },
      response => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () =>
          resolve({
            status: response.statusCode ?? 0,
            location: response.headers.location,
            body: Buffer.concat(chunks)
              .toString('utf8')
              .slice(0, MAX_BODY_BYTES),
          });
        response.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size > MAX_BODY_BYTES) {
            // An endless answer is cut here rather than read until the timeout.
            done();
            response.destroy();
          }
        });
        response.on('end', done);
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(options.body);
  });
}
