/**
 * Free TCP ports on 127.0.0.1 for tests that must name an address up front (a CLI flag). Where a
 * socket can bind `tcp://127.0.0.1:0` and read its port back, do that instead.
 *
 * ```ts
 * const [sub, pull] = await freePorts(2);
 * const subAddress = `tcp://127.0.0.1:${sub}`;
 * ```
 */
import { createServer } from "node:net";

/** A port the OS just handed out (free now; in theory another process could take it before you). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

/** `tcp://127.0.0.1:<free port>`. */
export async function freeAddress(): Promise<string> {
  return `tcp://127.0.0.1:${await freePort()}`;
}
