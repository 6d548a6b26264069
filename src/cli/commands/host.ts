/**
 * `mario host [dir]`: serves every function of a folder (default functions/) as step workers
 * announcing themselves to `--sub-connect`, each handler running in a small pool of worker threads
 * (`--threads`, many jobs at once on each) with hard timeouts. `--watch` reloads changed, added and deleted files without dropping in-flight jobs.
 *
 * ```
 * mario host functions --sub-connect=tcp://127.0.0.1:6000 --watch
 * ```
 */
import { defineCommand } from "citty";
import { relative } from "node:path";
import { InvalidConfigError } from "../../core/errors/invalid-config-error.ts";
import { createLogger } from "../../log/logger.ts";
import { FunctionHost, type HostedFunction } from "../../host/function-host.ts";
import { StepWorker } from "../../transport/step-worker.ts";
import { curveFlags, curveFrom } from "../_curve-flags.ts";
import { addressFlag, cacheDirFlag, wholeNumberFlag } from "../_flags.ts";
import { untilShutdownSignal } from "../_shutdown.ts";

export default defineCommand({
  meta: { name: "host", description: "Serve every function of a folder as step workers (worker threads, hard timeouts, --watch)" },
  args: {
    ...cacheDirFlag,
    dir: { type: "positional", required: false, default: "functions", description: "functions folder (default functions/)" },
    "sub-connect": { type: "string", alias: ["pub-connect"], description: "where workers announce themselves: pipeline servers' --sub-bind or a forwarder (repeatable or comma-separated)" },
    "pull-bind": { type: "string", description: "job socket of each function; port 0 = a free port each, else consecutive ports from it (default tcp://127.0.0.1:0, loopback; tcp://0.0.0.0:0 when an advertise host is given)" },
    "advertise-host": { type: "string", description: "host announced when bound to 0.0.0.0 (default MARIO_ADVERTISE_HOST, else 127.0.0.1)" },
    concurrency: { type: "string", description: "jobs at once per function, overriding each file's config" },
    threads: { type: "string", description: "most worker threads per function, each running many of its jobs at once (default min(concurrency, CPUs))" },
    "timeout-ms": { type: "string", description: "attempt timeout in ms, overriding each file's config" },
    retries: { type: "string", description: "retries after the first attempt, overriding each file's config" },
    watch: { type: "boolean", default: false, description: "reload changed, added and deleted files" },
    "heartbeat-ms": { type: "string", description: "announcement interval in ms (default 1000)" },
    "grace-ms": { type: "string", default: "10000", description: "on SIGTERM, how long in-flight jobs may finish, ms" },
    ...curveFlags,
  },
  async run({ args, rawArgs }) {
    const subConnect = addressFlag(rawArgs, ["sub-connect", "pub-connect"]);
    if (subConnect.length === 0) throw new InvalidConfigError("--sub-connect is required: the pipeline server's --sub-bind address (e.g. tcp://127.0.0.1:6000)");
    const logger = createLogger();
    const curve = curveFrom(args);
    const ports = pullBinder(args["pull-bind"]);
    const heartbeatMs = wholeNumberFlag(args["heartbeat-ms"], "--heartbeat-ms");
    const host = new FunctionHost({
      dir: args.dir,
      watch: args.watch,
      threads: wholeNumberFlag(args.threads, "--threads", 1),
      logger,
      overrides: {
        concurrency: wholeNumberFlag(args.concurrency, "--concurrency"),
        timeoutMs: wholeNumberFlag(args["timeout-ms"], "--timeout-ms"),
        retries: wholeNumberFlag(args.retries, "--retries"),
      },
      serve: async (executor) => {
        const port = ports.take();
        const worker = new StepWorker({ executor, subConnect, pullBind: port.address, advertiseHost: args["advertise-host"], heartbeatMs, logger, curve });
        try {
          await worker.start();
        } catch (error) {
          port.release();
          throw error;
        }
        return {
          workerId: worker.workerId,
          address: worker.address,
          stop: async (options: { graceMs?: number }) => {
            await worker.stop(options);
            port.release();
          },
        };
      },
    });
    host.events.on("ready", (fn, reloaded) => print(`${reloaded ? "reloaded" : "ready"} ${describe(fn)}`));
    host.events.on("removed", (fn) => print(`removed ${fn.jobType} (${relative(process.cwd(), fn.file)} deleted)`));
    host.events.on("problem", (problem) => process.stderr.write(`mario host: ${problem.message}\n`));
    const { functions } = await host.start();
    if (functions.length === 0 && !args.watch) {
      await host.stop(0);
      throw new InvalidConfigError(`no function in ${args.dir} could be started`);
    }
    print(`mario host: serving ${functions.length} function(s) from ${args.dir}${args.watch ? ", watching for changes" : ""}`);
    await untilShutdownSignal(logger);
    await host.stop(Number(args["grace-ms"]));
    return 0;
  },
});

function describe(fn: HostedFunction): string {
  return `${fn.jobType} (${fn.shape}) ${relative(process.cwd(), fn.file)} → ${fn.served.address ?? "?"} concurrency=${fn.executor.policy.concurrency} timeoutMs=${fn.executor.policy.timeoutMs} threads=${fn.executor.size}`;
}

function print(line: string): void {
  process.stdout.write(line + "\n");
}

/** Port 0: every function binds a free port. A fixed port: the lowest free one from it up. */
function pullBinder(pullBind: string | undefined): { take(): { address: string | undefined; release(): void } } {
  if (pullBind === undefined) return { take: () => ({ address: undefined, release: () => {} }) };
  const match = /^(.*):(\d+)$/.exec(pullBind);
  const base = match === null ? 0 : Number(match[2]);
  if (match === null || base === 0) return { take: () => ({ address: pullBind, release: () => {} }) };
  const inUse = new Set<number>();
  return {
    take() {
      let port = base;
      while (inUse.has(port)) port++;
      inUse.add(port);
      return { address: `${match[1]}:${port}`, release: () => inUse.delete(port) };
    },
  };
}
