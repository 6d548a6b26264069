/**
 * `mario cancel <job-id> --url=http://127.0.0.1:8080 [--wait=ms]`
 *
 * Cancels a job through a gateway (`mario up` or `mario gateway`): `POST /jobs/:id/cancel`.
 * Prints one line: `cancelled <id>` (it was queued, delayed or waiting for a retry, or a running
 * one ended within `--wait`), or `cancelling <id> (running on <worker>)` while a running one is
 * being stopped. A finished job (ALREADY_FINISHED) or an unknown one is one line on stderr, exit 1.
 *
 * ```
 * mario cancel 0mz1x4k2p9a8b7c6d5e4f3 --url=http://127.0.0.1:8080 --wait=10000
 * ```
 */
import { defineCommand } from "citty";
import { UsageError } from "../../core/errors/usage-error.ts";
import { gatewayClient, gatewayClientFlags } from "../_gateway-client.ts";

export default defineCommand({
  meta: { name: "cancel", description: "Cancel a job (through a gateway): at once when it waits, stopped when it runs" },
  args: {
    "job-id": { type: "positional", required: true, description: "the job's id" },
    ...gatewayClientFlags,
    wait: { type: "string", description: "wait this many ms (at most 60000) for a running job to end cancelled" },
  },
  async run({ args }) {
    const gateway = gatewayClient(args);
    if (args.wait !== undefined && !/^\d{1,5}$/.test(args.wait)) throw new UsageError(`--wait must be milliseconds (0 to 60000), got "${args.wait}"`);
    const res = await gateway.call(`/jobs/${encodeURIComponent(args["job-id"])}/cancel${args.wait === undefined ? "" : `?wait=${args.wait}`}`, { method: "POST" });
    const body = (await res.json().catch(() => undefined)) as { id?: string; status?: string; workerId?: string } | undefined;
    if (body?.status === "cancelled") process.stdout.write(`cancelled ${body.id ?? args["job-id"]}\n`);
    else process.stdout.write(`cancelling ${body?.id ?? args["job-id"]} (running${body?.workerId === undefined ? "" : ` on ${body.workerId}`}; it ends cancelled when its attempt ends)\n`);
    return 0;
  },
});
