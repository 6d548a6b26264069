/**
 * Baseline: the minimal ZeroMQ chain. The same no-op jobs as Mario's 1-step memory run go
 * producer (this process, PUSH) → server (PULL) → worker (DEALER → ROUTER) → server → producer
 * (PUSH → PULL), batched (one message per send, gathering what waits), with no records, leases or
 * bookkeeping. The producer keeps `window` jobs outstanding, as Mario's producer does.
 */
import * as zmq from "zeromq";
import { spawnReady, stopChild, type ReadyChild } from "../_children.ts";
import { CpuMeter, cpuMs, ownCpuMs, peakRssMb, type RunFigures } from "../_stats.ts";

export async function benchZmqChain(options: { jobs: number; window: number }): Promise<RunFigures> {
  const replies = new zmq.Pull({ linger: 0, receiveTimeout: 30_000 });
  const push = new zmq.Push({ linger: 0, sendTimeout: 30_000 });
  const children: ReadyChild[] = [];
  try {
    await replies.bind("tcp://127.0.0.1:*");
    const worker = await spawnReady("bench/baselines/zmq-chain-node.ts", ["worker"], { readyPattern: /chain worker ready/ });
    children.push(worker);
    const server = await spawnReady("bench/baselines/zmq-chain-node.ts", ["server", endpoint(worker), replies.lastEndpoint!], { readyPattern: /chain server ready/ });
    children.push(server);
    push.connect(endpoint(server));
    const jobs = (from: number, count: number): string => JSON.stringify(Array.from({ length: count }, (_, k) => ({ id: from + k, input: { i: from + k } })));
    // Warm-up: one batch through the chain.
    await push.send(jobs(-100, 100));
    for (let got = 0; got < 100; ) got += (JSON.parse((await replies.receive())[0]!.toString()) as unknown[]).length;

    const meter = new CpuMeter([["producer", ownCpuMs], ["server", () => cpuMs(server.pid)], ["worker", () => cpuMs(worker.pid)]]);
    await meter.start();
    const started = performance.now();
    let sent = Math.min(options.window, options.jobs);
    await push.send(jobs(0, sent));
    for (let done = 0; done < options.jobs; ) {
      const results = JSON.parse((await replies.receive())[0]!.toString()) as unknown[];
      done += results.length;
      const more = Math.min(results.length, options.jobs - sent);
      if (more > 0) {
        await push.send(jobs(sent, more));
        sent += more;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      name: "baseline: minimal ZeroMQ chain (1 step)",
      jobs: options.jobs,
      seconds,
      jobsPerSecond: options.jobs / seconds,
      loadP50Ms: Number.NaN,
      loadP99Ms: Number.NaN,
      idleP50Ms: Number.NaN,
      idleP99Ms: Number.NaN,
      peakRssMb: { server: await peakRssMb(server.pid), worker: await peakRssMb(worker.pid) },
      cpuUsPerJob: await meter.stop(options.jobs),
    };
  } finally {
    push.close();
    replies.close();
    for (const child of children.reverse()) await stopChild(child);
  }
}

function endpoint(child: ReadyChild): string {
  const match = /ready (tcp:\/\/\S+)/.exec(child.lines.join("\n"));
  if (match === null) throw new Error(`no endpoint in:\n${child.lines.join("\n")}`);
  return match[1]!;
}
