/**
 * Resolves on the first SIGTERM or SIGINT, so a long-running command can shut down gracefully;
 * `logger` is told "<signal>: shutting down". A second signal exits at once.
 */
import type { Logger } from "../log/logger.ts";

export function untilShutdownSignal(logger?: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off("SIGTERM", onSignal);
      process.off("SIGINT", onSignal);
      process.once("SIGTERM", () => process.exit(143));
      process.once("SIGINT", () => process.exit(130));
      logger?.info(`${signal}: shutting down`);
      resolve(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
