/**
 * The zeromq.js round-trip baseline: a DEALER here, the echo ROUTER (zmq-echo.ts) in its own
 * process. One message in flight (latency per round trip), then 100 in flight (round trips per
 * second, CPU per round trip in both processes). Payload: a small JSON job, `{"id":n,"i":n}`.
 */
import * as zmq from "zeromq";
import { spawnReady, stopChild } from "../_children.ts";
import { CpuMeter, cpuMs, ownCpuMs, peakRssMb, percentile, type RunFigures } from "../_stats.ts";

export async function benchZmqRoundTrip(options: { jobs: number; idleJobs: number; inFlight: number }): Promise<RunFigures> {
  const echo = await spawnReady("bench/baselines/zmq-echo.ts", [], { readyPattern: /zmq echo ready/ });
  const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 10_000, sendTimeout: 10_000 });
  try {
    dealer.connect(/zmq echo ready (\S+)/.exec(echo.lines.join("\n"))![1]!);
    const message = (n: number): string => JSON.stringify({ id: n, i: n });
    const one: number[] = [];
    for (let n = 0; n < options.idleJobs * 5; n++) {
      const started = performance.now();
      await dealer.send(message(n));
      await dealer.receive();
      one.push(performance.now() - started);
    }
    const meter = new CpuMeter([["client", ownCpuMs], ["echo", () => cpuMs(echo.pid)]]);
    await meter.start();
    const started = performance.now();
    let sent = 0;
    for (; sent < Math.min(options.inFlight, options.jobs); sent++) await dealer.send(message(sent));
    for (let received = 0; received < options.jobs; received++) {
      const [reply] = await dealer.receive();
      JSON.parse(reply!.toString());
      if (sent < options.jobs) await dealer.send(message(sent++));
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      name: `baseline: zeromq.js round trip (${options.inFlight} in flight)`,
      jobs: options.jobs,
      seconds,
      jobsPerSecond: options.jobs / seconds,
      loadP50Ms: Number.NaN,
      loadP99Ms: Number.NaN,
      idleP50Ms: percentile(one, 50),
      idleP99Ms: percentile(one, 99),
      peakRssMb: { echo: await peakRssMb(echo.pid) },
      cpuUsPerJob: await meter.stop(options.jobs),
    };
  } finally {
    dealer.close();
    await stopChild(echo);
  }
}
