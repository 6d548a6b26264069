/**
 * One node of the minimal ZeroMQ chain (see zmq-chain.ts), over Mario's socket types:
 *
 *   worker: ROUTER bound here; answers each batch of jobs with one batch of results (no-op:
 *           output = input).  Prints "chain worker ready <endpoint>".
 *   server: PULL bound here for the producer's batches, DEALER to the worker, PUSH to the
 *           producer's reply address. It forwards what it has gathered as one message per send;
 *           no records, no leases, no bookkeeping.  Prints "chain server ready <endpoint>".
 *
 *   node --import tsx bench/baselines/zmq-chain-node.ts worker
 *   node --import tsx bench/baselines/zmq-chain-node.ts server <worker endpoint> <reply endpoint>
 */
import * as zmq from "zeromq";

interface Job {
  id: number;
  input: unknown;
}

const [role, workerEndpoint = "", replyEndpoint = ""] = process.argv.slice(2);
const sockets: { close(): void }[] = [];
process.on("SIGTERM", () => {
  for (const socket of sockets) socket.close();
  process.exit(0);
});

/** Sends batches gathered while the previous send was in flight: one send at a time per socket. */
function pump(send: (body: string) => Promise<void>): (items: unknown[]) => void {
  let pending: unknown[] = [];
  let sending = false;
  const flush = async (): Promise<void> => {
    sending = true;
    while (pending.length > 0) {
      const batch = pending;
      pending = [];
      await send(JSON.stringify(batch));
    }
    sending = false;
  };
  return (items) => {
    for (const item of items) pending.push(item);
    if (!sending) flush().catch((error: unknown) => process.stderr.write(`chain send failed: ${String(error)}\n`));
  };
}

if (role === "worker") {
  const router = new zmq.Router({ linger: 0 });
  sockets.push(router);
  await router.bind("tcp://127.0.0.1:*");
  process.stdout.write(`chain worker ready ${router.lastEndpoint}\n`);
  for await (const [peer, body] of router) {
    const results = (JSON.parse(body!.toString()) as Job[]).map((job) => ({ id: job.id, output: job.input }));
    await router.send([peer!, JSON.stringify(results)]);
  }
} else {
  const pull = new zmq.Pull({ linger: 0 });
  const dealer = new zmq.Dealer({ linger: 0 });
  const push = new zmq.Push({ linger: 0 });
  sockets.push(pull, dealer, push);
  await pull.bind("tcp://127.0.0.1:*");
  dealer.connect(workerEndpoint);
  push.connect(replyEndpoint);
  const toWorker = pump((body) => dealer.send(body));
  const toProducer = pump((body) => push.send(body));
  process.stdout.write(`chain server ready ${pull.lastEndpoint}\n`);
  const fromWorker = async (): Promise<void> => {
    for await (const [body] of dealer) toProducer(JSON.parse(body!.toString()) as unknown[]);
  };
  fromWorker().catch((error: unknown) => process.stderr.write(`chain server failed: ${String(error)}\n`));
  for await (const [body] of pull) toWorker(JSON.parse(body!.toString()) as unknown[]);
}
