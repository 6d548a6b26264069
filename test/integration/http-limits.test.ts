/**
 * The HTTP listener against slow and greedy clients, over real TCP on 127.0.0.1: a slowloris
 * sending its headers a byte at a time is cut at the headers timeout while an honest request is
 * answered; connections over the cap are closed on arrival; a listener other machines can reach
 * without a token gets a one-line warning naming --token (ZeroMQ: --curve-secret-key-file). The
 * body limit over a real socket: a declared length over it is 413 before the body is read, a
 * chunked body over it is 413 once the limit is passed, and bodies under it are jobs.
 */
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { describe, it } from "node:test";
import { Hono } from "hono";
import { serveGateway } from "../../src/gateway/serve-gateway.ts";
import { InProcessExecutor } from "../../src/engine/step-executor.ts";
import { StepWorker } from "../../src/transport/step-worker.ts";
import type { Logger } from "../../src/log/logger.ts";
import { eventually } from "../support/eventually.ts";
import { gatewayFixture } from "../unit/gateway-fixture.ts";

function app(): Hono {
  return new Hono().get("/health", (c) => c.json({ ok: true }));
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

function closed(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) resolve();
    else socket.once("close", () => resolve());
  });
}

function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: (m) => lines.push(m),
    error: (m) => lines.push(m),
    child: () => logger,
  };
  return logger;
}

/** One raw HTTP/1.1 exchange: writes `head`, then each chunk; resolves with the status line's code. */
async function rawPost(port: number, head: string, chunks: readonly string[]): Promise<number> {
  const socket = await open(port);
  let answer = "";
  socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
  socket.on("error", () => {});
  socket.write(head);
  for (const chunk of chunks) if (!socket.destroyed) socket.write(chunk);
  await eventually(() => /^HTTP\/1\.1 \d{3}/.test(answer) || socket.destroyed, { timeoutMs: 10_000, message: "no answer" });
  socket.destroy();
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
}

describe("HTTP limits", () => {
  it("the body limit over a real socket: declared length, chunked, and bodies under it", async (t) => {
    const f = await gatewayFixture({ gateway: { maxBodyBytes: 1024 } });
    const served = await serveGateway(f.app, { port: 0, host: "127.0.0.1" });
    t.after(async () => {
      await served.close(0);
      await f.close();
    });
    const head = (extra: string): string => `POST /pipelines/double/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n${extra}\r\n`;
    // Over the limit by its Content-Length: refused without sending the body at all.
    assert.equal(await rawPost(served.port, head("Content-Length: 1000000\r\n"), []), 413);
    // Chunked (no length): refused once more than the limit has come.
    const chunk = (text: string): string => `${text.length.toString(16)}\r\n${text}\r\n`;
    const big = `{"n": 1, "pad": "${"x".repeat(600)}`;
    assert.equal(await rawPost(served.port, head("Transfer-Encoding: chunked\r\n"), [chunk(big), chunk(`${"y".repeat(600)}"}`), "0\r\n\r\n"]), 413);
    // Under the limit, both ways: jobs.
    assert.equal(await rawPost(served.port, head("Transfer-Encoding: chunked\r\n"), [chunk('{"n": '), chunk("2}"), "0\r\n\r\n"]), 202);
    const res = await fetch(`${served.url}pipelines/double/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"n": 3}' });
    assert.equal(res.status, 202);
    assert.equal(await f.accepted(), 2);
  });


  it("cuts a slowloris at the headers timeout and answers an honest request meanwhile", async (t) => {
    const served = await serveGateway(app(), { port: 0, host: "127.0.0.1", headersTimeoutMs: 300 });
    t.after(() => served.close(0));
    const slow = await open(served.port);
    t.after(() => slow.destroy());
    slow.on("error", () => {});
    let answer = "";
    slow.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    const request = `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"a".repeat(400)}\r\n\r\n`;
    let sent = 0;
    const drip = setInterval(() => {
      if (sent < request.length && !slow.destroyed) slow.write(request[sent++]!);
    }, 20);
    t.after(() => clearInterval(drip));
    const honest = await fetch(`${served.url}health`);
    assert.equal(honest.status, 200, "an honest request is answered while the slowloris drips");
    await closed(slow);
    clearInterval(drip);
    assert.ok(sent < request.length, `cut before its headers were complete (${sent} of ${request.length} bytes sent)`);
    assert.ok(answer === "" || answer.startsWith("HTTP/1.1 408"), `no answer but a 408: ${answer.slice(0, 40)}`);
  });

  it("closes connections over the cap on arrival; once they go, honest requests are answered", async (t) => {
    const served = await serveGateway(app(), { port: 0, host: "127.0.0.1", maxConnections: 4 });
    t.after(() => served.close(0));
    const hogs = await Promise.all(Array.from({ length: 7 }, () => open(served.port)));
    t.after(() => hogs.forEach((s) => s.destroy()));
    for (const hog of hogs) hog.on("error", () => {});
    // The server closes what is over the cap: 3 of the 7.
    let cut = 0;
    await new Promise<void>((resolve) => {
      for (const hog of hogs) hog.once("close", () => ++cut === 3 && resolve());
    });
    assert.equal(hogs.filter((h) => !h.destroyed).length, 4, "the 4 within the cap stay open");
    assert.equal(await served.connections(), 4);
    for (const hog of hogs) hog.destroy();
    await eventually(async () => (await served.connections()) === 0, { message: "the server saw the hogs go" });
    const res = await fetch(`${served.url}health`);
    assert.equal(res.status, 200);
  });

  it("warns once, naming --token, when the API listens beyond loopback without one; not with a token", async (t) => {
    const lines: string[] = [];
    const open1 = await serveGateway(app(), { port: 0, host: "0.0.0.0", tokenRequired: false, warn: (l) => lines.push(l) });
    await open1.close(0);
    const guarded = await serveGateway(app(), { port: 0, host: "0.0.0.0", tokenRequired: true, warn: (l) => lines.push(l) });
    await guarded.close(0);
    const local = await serveGateway(app(), { port: 0, host: "127.0.0.1", tokenRequired: false, warn: (l) => lines.push(l) });
    t.after(() => local.close(0));
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /0\.0\.0\.0:\d+ is reachable from other machines without a token.*--token/);
    assert.ok(!lines[0]!.includes("\n"));
  });

  it("warns, naming --curve-secret-key-file, when a job socket binds beyond loopback without keys; binds loopback by default", async (t) => {
    const lines: string[] = [];
    const executor = new InProcessExecutor({ jobType: "noop", handler: () => ({}) });
    const exposed = new StepWorker({ executor, subConnect: "tcp://127.0.0.1:1", pullBind: "tcp://0.0.0.0:0", logger: recordingLogger(lines) });
    t.after(() => exposed.stop({ graceMs: 0 }));
    await exposed.start();
    const byDefault = new StepWorker({ executor, subConnect: "tcp://127.0.0.1:1", logger: recordingLogger(lines) });
    t.after(() => byDefault.stop({ graceMs: 0 }));
    await byDefault.start();
    assert.match(byDefault.address, /^tcp:\/\/127\.0\.0\.1:\d+$/, "loopback unless told otherwise");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0]!, /job socket of noop .*tcp:\/\/0\.0\.0\.0:\d+ is reachable from other machines without CurveZMQ.*--curve-secret-key-file/);
  });
});
