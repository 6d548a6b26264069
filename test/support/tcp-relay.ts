/**
 * A TCP relay that records every byte it passes, both ways: put it between two ZeroMQ peers to see
 * what crosses the wire. Listens on `listen` (host, port: 0 for a free one), forwards to `target`
 * (port 0: the relay's own port on the target's host, so a part may bind that port on another
 * loopback address after the relay took it on this one, with no race for the number).
 * `cut()` makes it a blackhole: it stops passing bytes both ways (connections stay open, nothing is
 * closed or reset, new ones are accepted and held), until `heal()` lets everything flow again.
 *
 * ```ts
 * const relay = await startRelay({ host: "127.0.0.1", port: 0 }, { host: "127.0.0.2", port: 5050 });
 * // … connect to tcp://127.0.0.1:${relay.port}
 * relay.recorded().includes("secret");   // false when the link is encrypted
 * relay.cut(); relay.heal();
 * await relay.close();
 * ```
 */
import { createConnection, createServer, type Socket } from "node:net";

export interface Relay {
  port: number;
  /** Every byte relayed so far, both directions, in arrival order. */
  recorded(): Buffer;
  /** Bytes relayed so far. */
  readonly bytes: number;
  /** Stops passing bytes (a blackhole), keeping every connection open. */
  cut(): void;
  /** Passes bytes again, on the connections held meanwhile too. */
  heal(): void;
  close(): Promise<void>;
}

interface Pair {
  inbound: Socket;
  outbound: Socket;
}

export async function startRelay(listen: { host: string; port: number }, target: { host: string; port: number }): Promise<Relay> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let cut = false;
  const sockets = new Set<Socket>();
  const pairs = new Set<Pair>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const flow = ({ inbound, outbound }: Pair): void => {
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  };
  const stop = ({ inbound, outbound }: Pair): void => {
    inbound.unpipe(outbound);
    outbound.unpipe(inbound);
    inbound.pause();
    outbound.pause();
  };
  const server = createServer((inbound) => {
    track(inbound);
    const outbound = createConnection({ host: target.host, port: target.port === 0 ? ownPort : target.port });
    track(outbound);
    const pair = { inbound, outbound };
    pairs.add(pair);
    const record = (chunk: Buffer): void => {
      chunks.push(chunk);
      bytes += chunk.length;
    };
    inbound.on("data", record);
    outbound.on("data", record);
    if (cut) stop(pair);
    else flow(pair);
    inbound.on("close", () => {
      pairs.delete(pair);
      outbound.destroy();
    });
    outbound.on("close", () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address();
  const ownPort = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port: ownPort,
    recorded: () => Buffer.concat(chunks),
    get bytes() {
      return bytes;
    },
    cut: () => {
      cut = true;
      for (const pair of pairs) stop(pair);
    },
    heal: () => {
      cut = false;
      for (const pair of pairs) flow(pair);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
