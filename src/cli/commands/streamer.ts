/**
 * `mario streamer --pull=tcp://0.0.0.0:5050 --push=tcp://0.0.0.0:6060`
 *
 * PULL/PUSH device between clients and pipeline servers: clients send to `--pull`
 * (`mario enqueue tcp://streamer:5050 …`), pipeline servers take from `--push`
 * (`mario pipeline --job-pull-connect`), load-balanced. Replies go straight back to each client.
 */
import { defineCommand } from "citty";
import { createLogger } from "../../log/logger.ts";
import { startStreamer } from "../../transport/devices.ts";
import { curveDeviceFlags, curveFrom } from "../_curve-flags.ts";
import { wholeNumberFlag } from "../_flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";

export default defineCommand({
  meta: { name: "streamer", description: "PULL/PUSH device: client requests in, load-balanced out to pipeline servers" },
  args: {
    pull: { type: "string", required: true, description: "bind address clients send to (PULL), e.g. tcp://0.0.0.0:5050" },
    push: { type: "string", required: true, description: "bind address pipeline servers take from (PUSH), e.g. tcp://0.0.0.0:6060" },
    "pull-hwm": { type: "string", description: "messages queued per connection on the PULL side (default 1000)" },
    "push-hwm": { type: "string", description: "messages queued per connection on the PUSH side (default 1000)" },
    ...curveDeviceFlags,
  },
  async run({ args }) {
    const logger = createLogger();
    const device = await startStreamer({
      curve: curveFrom(args),
      logger,
      pull: args.pull,
      push: args.push,
      pullHwm: wholeNumberFlag(args["pull-hwm"], "--pull-hwm"),
      pushHwm: wholeNumberFlag(args["push-hwm"], "--push-hwm"),
    });
    logger.info("streamer ready", { pull: device.addresses[0], push: device.addresses[1] });
    await untilShutdownSignal(logger);
    await device.stop();
    return 0;
  },
});
