import { ChildProcess, spawn } from 'node:child_process';
import { Socket, connect, createServer } from 'node:net';

/** A throwaway Redis (Debian's redis-server) on 127.0.0.1: no persistence, stopped by `stop`. */
export type RedisServer = {
  /** For `backend.cache.connection`. */
  url: string;
  /** Starts recording every command the server receives (MONITOR). */
  monitor(): Promise<RedisMonitor>;
  stop(): Promise<void>;
};

/** One command as MONITOR reports it: the command name (lower case) and its arguments. */
export type RedisCommand = { name: string; args: string[] };

export type RedisMonitor = {
  /** Every command seen so far. */
  commands(): RedisCommand[];
  stop(): void;
};

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolvePort(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Opens a connection and sends one inline command; resolves once the socket is connected. */
function openConnection(port: number, command: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`${command}\r\n`);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

async function ping(port: number): Promise<boolean> {
  let socket: Socket | undefined;
  try {
    socket = await openConnection(port, 'PING');
    const answer = await new Promise<string>((resolve, reject) => {
      socket!.once('data', chunk => resolve(chunk.toString()));
      socket!.once('error', reject);
    });
    return answer.startsWith('+PONG');
  } catch {
    return false;
  } finally {
    socket?.destroy();
  }
}

/** The quoted arguments of a MONITOR line: `1700000000.1 [0 127.0.0.1:5] "SET" "k" "v"`. */
function parseMonitorLine(line: string): RedisCommand | undefined {
  const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(m => m[1]);
  if (!line.startsWith('+') || args.length === 0) {
    return undefined;
  }
  return { name: args[0].toLowerCase(), args: args.slice(1) };
}

/**
 * Starts `redis-server` on a free port (installed by scripts/test, Debian's package) and waits
 * until it answers PING.
 */
export async function startRedisServer(
  timeoutMs = 30_000,
): Promise<RedisServer> {
  const port = await freePort();
  let printed = '';
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const spawnError = new Promise<Error>(resolve =>
    child.once('error', resolve),
  );
  child.stdout?.on('data', chunk => {
    printed += chunk.toString();
  });
  child.stderr?.on('data', chunk => {
    printed += chunk.toString();
  });

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise(r => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const failed = await Promise.race([
      spawnError,
      new Promise<undefined>(r => setTimeout(r, 200)),
    ]);
    if (failed) {
      throw new Error(
        `redis-server could not be started (${failed.message}); scripts/test installs Debian's redis-server`,
      );
    }
    if (child.exitCode !== null) {
      throw new Error(
        `redis-server exited with code ${child.exitCode}:\n${printed}`,
      );
    }
    if (await ping(port)) {
      break;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `redis-server did not answer PING within ${timeoutMs} ms:\n${printed}`,
      );
    }
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    async monitor() {
      const socket = await openConnection(port, 'MONITOR');
      const seen: RedisCommand[] = [];
      let pending = '';
      let on = false;
      socket.on('data', chunk => {
        pending += chunk.toString();
        const lines = pending.split('\r\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          on ||= line === '+OK';
          const command = parseMonitorLine(line);
          if (command) {
            seen.push(command);
          }
        }
      });
      // The first reply (+OK) says MONITOR is on: commands sent after it are all recorded.
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (on) {
            resolve();
          } else {
            socket.once('data', check);
          }
        };
        socket.once('data', check);
        socket.once('error', reject);
      });
      return {
        commands: () => [...seen],
        stop: () => socket.destroy(),
      };
    },
  };
}
