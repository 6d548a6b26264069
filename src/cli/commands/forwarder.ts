/**
 * `mario forwarder --subscriber=tcp://0.0.0.0:6000 --publisher=tcp://0.0.0.0:6060`
 *
 * XSUB/XPUB device between step workers and pipeline servers: workers announce to
 * `--subscriber` (`mario step --sub-connect`), pipelines listen on `--publisher`
 * (`mario pipeline --sub-connect`). Every announcement reaches every pipeline.
 */
import { defineCommand } from "citty";
import { createLogger } from "../../log/logger.ts";
import { startForwarder } from "../../transport/devices.ts";
import { curveDeviceFlags, curveFrom } from "../_curve-flags.ts";
import { wholeNumberFlag } from "../_flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";

export default defineCommand({
  meta: { name: "forwarder", description: "XSUB/XPUB device: step announcements in, out to every pipeline server" },
  args: {
    subscriber: { type: "string", required: true, description: "bind address step workers announce to (XSUB), e.g. tcp://0.0.0.0:6000" },
    publisher: { type: "string", required: true, description: "bind address pipeline servers subscribe to (XPUB), e.g. tcp://0.0.0.0:6060" },
    "subscriber-hwm": { type: "string", description: "messages queued per connection on the XSUB side (default 1000)" },
    "publisher-hwm": { type: "string", description: "messages queued per connection on the XPUB side (default 1000)" },
    ...curveDeviceFlags,
  },
  async run({ args }) {
    const logger = createLogger();
    const device = await startForwarder({
      curve: curveFrom(args),
      logger,
      subscriber: args.subscriber,
      publisher: args.publisher,
      subscriberHwm: wholeNumberFlag(args["subscriber-hwm"], "--subscriber-hwm"),
      publisherHwm: wholeNumberFlag(args["publisher-hwm"], "--publisher-hwm"),
    });
    logger.info("forwarder ready", { subscriber: device.addresses[0], publisher: device.addresses[1] });
    await untilShutdownSignal(logger);
    await device.stop();
    return 0;
  },
});
