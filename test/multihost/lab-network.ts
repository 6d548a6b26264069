/**
 * A lab of hosts for the multihost suite: one network namespace per host, each joined by a veth
 * pair to a bridge that lives in a namespace of its own (the switch), so nothing is added to the
 * machine's own namespace. Every name starts with a random `mh<hex>` prefix; addresses are
 * 10.250.<random>.<host> inside these namespaces only. `destroy()` deletes exactly the namespaces
 * it created (their veths go with them).
 *
 * ```ts
 * const lab = await LabNetwork.create(["h1", "h2"]);
 * lab.address("h1");                        // "10.250.37.1"
 * const proc = lab.spawn("h1", "redis-server", [...]);
 * await lab.cut("h2"); await lab.restore("h2");   // the switch side of h2's link down / up
 * await lab.destroy();
 * ```
 */
import { type ChildProcess, execFile, execFileSync, spawn, type SpawnOptions } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);
const IP = "ip";

export class LabNetwork {
  readonly prefix: string;
  readonly subnet: string;
  readonly #hosts: string[];
  readonly #created: string[] = [];

  readonly #onExit = (): void => {
    // The process ends without destroy() (a crash, a signal): delete what is left, synchronously.
    for (const ns of this.#created.splice(0)) {
      try {
        execFileSync(IP, ["netns", "del", ns], { stdio: "ignore", timeout: 5000 });
      } catch {
        // already gone
      }
    }
  };

  private constructor(hosts: readonly string[]) {
    this.prefix = `mh${randomBytes(3).toString("hex")}`;
    this.subnet = `10.250.${1 + (randomBytes(1)[0]! % 250)}`;
    this.#hosts = [...hosts];
    process.on("exit", this.#onExit);
  }

  /** Creates the switch and one namespace per host; on a failure removes what it made and throws. */
  static async create(hosts: readonly string[]): Promise<LabNetwork> {
    const lab = new LabNetwork(hosts);
    try {
      await lab.#build();
    } catch (error) {
      await lab.destroy();
      throw error;
    }
    return lab;
  }

  /** The namespace of a host. */
  ns(host: string): string {
    return `${this.prefix}-${host}`;
  }

  /** The host's address on the lab network. */
  address(host: string): string {
    const index = this.#hosts.indexOf(host);
    if (index < 0) throw new Error(`no host ${host} in the lab`);
    return `${this.subnet}.${index + 1}`;
  }

  /** Runs `command` inside the host's namespace (`ip netns exec` execs it: the pid is the command's). */
  spawn(host: string, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    return spawn(IP, ["netns", "exec", this.ns(host), command, ...args], options);
  }

  /** Takes the host's link down at the switch: its packets go nowhere until `restore`. */
  async cut(host: string): Promise<void> {
    await ip("-n", this.#switch, "link", "set", this.#port(host), "down");
  }

  async restore(host: string): Promise<void> {
    await ip("-n", this.#switch, "link", "set", this.#port(host), "up");
  }

  /** Deletes every namespace this lab created (idempotent). */
  async destroy(): Promise<void> {
    while (this.#created.length > 0) {
      const ns = this.#created.pop()!;
      await ip("netns", "del", ns).catch(() => {});
    }
    process.off("exit", this.#onExit);
  }

  get #switch(): string {
    return `${this.prefix}-sw`;
  }

  #port(host: string): string {
    return `p${this.#hosts.indexOf(host) + 1}`;
  }

  async #build(): Promise<void> {
    await this.#addNs(this.#switch);
    await ip("-n", this.#switch, "link", "add", "br0", "type", "bridge");
    await ip("-n", this.#switch, "link", "set", "br0", "up");
    for (const host of this.#hosts) {
      const ns = this.ns(host);
      await this.#addNs(ns);
      await ip("-n", ns, "link", "set", "lo", "up");
      await ip("-n", this.#switch, "link", "add", this.#port(host), "type", "veth", "peer", "name", "eth0", "netns", ns);
      await ip("-n", this.#switch, "link", "set", this.#port(host), "master", "br0", "up");
      await ip("-n", ns, "addr", "add", `${this.address(host)}/24`, "dev", "eth0");
      await ip("-n", ns, "link", "set", "eth0", "up");
    }
  }

  async #addNs(name: string): Promise<void> {
    await ip("netns", "add", name);
    this.#created.push(name);
  }
}

async function ip(...args: string[]): Promise<void> {
  try {
    await run(IP, args, { timeout: 10_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`ip ${args.join(" ")}: ${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}
