/**
 * Baseline: the bare zeromq.js round trip. A ROUTER that sends every message straight back
 * (this process); the bench's DEALER keeps 1 or 100 messages in flight.
 *
 *   node --import tsx bench/baselines/zmq-echo.ts   → prints "zmq echo ready tcp://127.0.0.1:<port>"
 */
import * as zmq from "zeromq";

const router = new zmq.Router({ linger: 0 });
await router.bind("tcp://127.0.0.1:*");
process.stdout.write(`zmq echo ready ${router.lastEndpoint}\n`);
process.on("SIGTERM", () => {
  router.close();
  process.exit(0);
});
for await (const frames of router) await router.send(frames);
