import { AddressInfo, Server, Socket, createServer } from 'node:net';

/**
 * A TCP peer that accepts connections and never answers: what a hung AWS endpoint or database
 * looks like from the client. `close` drops every connection it holds.
 */
export async function startSilentServer(): Promise<{
  port: number;
  /** Connections accepted so far and still open. */
  openConnections(): number;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  const server: Server = createServer(socket => {
    sockets.add(socket);
    // Reads and drops what arrives, so it notices when the client hangs up.
    socket.resume();
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    openConnections: () => sockets.size,
    close: async () => {
      sockets.forEach(socket => socket.destroy());
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}
