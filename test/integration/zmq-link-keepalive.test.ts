/**
 * Keepalive on every link, seen from the pipeline server's side of a worker link: a DEALER with
 * Mario's LINK_OPTIONS (ZMTP heartbeats) and a LinkWatch, connected through a TCP relay to a
 * ROUTER with the same options. The relay then stops passing bytes both ways without closing
 * anything (a blackhole: no FIN, no RST, as a pulled cable or a dropping firewall). Without ZMTP
 * heartbeats nothing would notice for the kernel's minutes; with them the link goes down within a
 * few seconds (LinkWatch: down), and once the relay passes bytes again it is up again (a new
 * handshake) and a request makes the round trip. The times are printed as diagnostics.
 * Also: LINK_OPTIONS' linger 0 lets a process exit with a socket left open and a message queued.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import * as zmq from "zeromq";
import { LinkWatch } from "../../src/transport/_link-watch.ts";
import { LINK_OPTIONS } from "../../src/transport/_sockets.ts";
import { startRelay } from "../support/tcp-relay.ts";

function nextEvent(socket: zmq.Socket, type: "handshake" | "disconnect", timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.events.off(type, done);
      reject(new Error(`no ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (): void => {
      clearTimeout(timer);
      socket.events.off(type, done);
      resolve();
    };
    socket.events.on(type, done);
  });
}

describe("keepalive on a worker link (real ZeroMQ sockets, TCP relay)", () => {
  it("a blackholed link goes down within a few seconds, and a healed one comes back up and carries requests", async (t) => {
    const router = new zmq.Router({ ...LINK_OPTIONS, linger: 0 });
    await router.bind("tcp://127.0.0.1:0");
    const routerPort = Number(new URL(router.lastEndpoint!).port);
    const echo = (async () => {
      for await (const [peer, body] of router) await router.send([peer!, Buffer.concat([Buffer.from("re:"), body!])]);
    })();
    const relay = await startRelay({ host: "127.0.0.1", port: 0 }, { host: "127.0.0.1", port: routerPort });
    const dealer = new zmq.Dealer({ ...LINK_OPTIONS, linger: 0, receiveTimeout: 5000 });
    const link = new LinkWatch(dealer);
    t.after(async () => {
      dealer.close();
      router.close();
      await echo.catch(() => {});
      await relay.close();
    });

    const up = nextEvent(dealer, "handshake", 10_000);
    dealer.connect(`tcp://127.0.0.1:${relay.port}`);
    await up;
    const roundTrip = async (text: string): Promise<string> => {
      await dealer.send(text);
      const [reply] = await dealer.receive();
      return reply!.toString();
    };
    assert.equal(await roundTrip("one"), "re:one");
    assert.equal(link.up, true);

    const down = nextEvent(dealer, "disconnect", 15_000);
    relay.cut();
    const cutAt = Date.now();
    await down;
    const noticedMs = Date.now() - cutAt;
    assert.equal(link.up, false, "the link is down");
    assert.notEqual(link.downFor(Date.now()), undefined);

    const again = nextEvent(dealer, "handshake", 15_000);
    relay.heal();
    const healedAt = Date.now();
    await again;
    const rejoinedMs = Date.now() - healedAt;
    assert.equal(link.up, true, "the link is up again");
    assert.equal(link.downFor(Date.now()), undefined);
    assert.equal(await roundTrip("two"), "re:two");
    t.diagnostic(`blackhole noticed in ${noticedMs} ms; healed link up again in ${rejoinedMs} ms`);
  });

  it("a socket with LINK_OPTIONS never holds up the process's exit, even unclosed with a message queued for a peer that is gone", async (t) => {
    // libzmq's default linger (-1) makes zeromq.js wait forever at exit for such a message.
    const script = [
      'import * as zmq from "zeromq";',
      'import { LINK_OPTIONS } from "./src/transport/_sockets.ts";',
      "const dealer = new zmq.Dealer({ ...LINK_OPTIONS });",
      'dealer.connect("tcp://127.0.0.1:1");',
      'await dealer.send("never delivered");',
      'console.log("queued");',
    ].join("\n");
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: new URL("../../", import.meta.url), stdio: ["ignore", "pipe", "pipe"] });
    const bound = setTimeout(() => child.kill("SIGKILL"), 20_000);
    t.after(() => {
      clearTimeout(bound);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
    const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
    assert.match(out, /queued/, out);
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, `the process exited by itself (not killed after 20 s): ${out}`);
  });
});
