/**
 * A gate on 127.0.0.1 that functions under test `fetch` to wait: it holds every request until
 * `open()` (then answers them all, and every later one at once), and tells how many are waiting
 * (`waiting`, `until(n)`): how a test knows that n attempts are in flight at once, by count, not
 * by time. `close()` answers what it holds and closes the server and its connections.
 *
 * ```ts
 * const gate = await HttpGate.start();
 * // a function: await fetch(`${input.gate}?n=${input.n}`)
 * await gate.until(64); gate.open();
 * ```
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export class HttpGate {
  readonly url: string;
  /** The `n` query parameter of every request, in the order they came. */
  readonly arrived: string[] = [];
  readonly #server: ReturnType<typeof createServer>;
  readonly #held = new Set<ServerResponse>();
  readonly #watchers: { n: number; resolve(): void }[] = [];
  #open = false;

  private constructor(server: ReturnType<typeof createServer>, url: string) {
    this.#server = server;
    this.url = url;
    server.on("request", (request, response) => {
      this.arrived.push(new URL(request.url ?? "/", "http://gate").searchParams.get("n") ?? "");
      if (this.#open) return void response.end("open");
      this.#held.add(response);
      response.on("close", () => this.#held.delete(response));
      for (const watcher of [...this.#watchers]) {
        if (this.#held.size < watcher.n) continue;
        this.#watchers.splice(this.#watchers.indexOf(watcher), 1);
        watcher.resolve();
      }
    });
  }

  static async start(): Promise<HttpGate> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return new HttpGate(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  }

  /** Requests held now (their connections still open). */
  get waiting(): number {
    return this.#held.size;
  }

  /** Resolves once `n` requests are held at once. */
  until(n: number): Promise<void> {
    if (this.#held.size >= n) return Promise.resolve();
    return new Promise((resolve) => this.#watchers.push({ n, resolve }));
  }

  /** Answers every held request, and every later one at once. */
  open(): void {
    this.#open = true;
    for (const response of [...this.#held]) response.end("open");
    this.#held.clear();
  }

  /** Holds the requests that come from now on (those held already stay held). */
  shut(): void {
    this.#open = false;
  }

  async close(): Promise<void> {
    this.open();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
