/**
 * The command timeout (`--redis-timeout-ms`, `commandTimeoutMs`): a command fails as timed out
 * ("Command timed out", STORAGE_UNAVAILABLE) when it has no answer after `ms` and Redis sent
 * nothing at all on its connection meanwhile.
 *
 * ioredis' own timer (its `commandTimeout`) fires in the timers phase of the event loop, before
 * replies waiting in the socket are read. After this process was busy for longer than `ms` (a
 * 50 MB message parsed on a loaded machine), it failed commands whose answers had already come;
 * and with 100 KB jobs, commands queued behind big replies that Redis was sending all along. Here
 * an expired timer first lets the event loop read what arrived (setImmediate runs after the poll
 * phase); a command on a connection that received bytes since is behind other replies, not
 * lost, and waits another `ms`. A stalled Redis (SIGSTOP, a long script, a paused VM) sends
 * nothing and fails after `ms`, as before. (Only bytes from Redis count: commands failed here
 * do not keep the others waiting.)
 */
import type { Command, Redis } from "ioredis";
import type { RedisClient } from "./connection.ts";

type Send = (command: Command, ...rest: unknown[]) => unknown;

/** Applies the timeout to every command of `client` (on a cluster, of every node's connection). */
export function applyCommandTimeout(client: RedisClient, ms: number): void {
  if (ms <= 0) return;
  if (client.isCluster) client.on("+node", (node: Redis) => watchConnection(node, ms));
  else watchConnection(client as Redis, ms);
}

function watchConnection(redis: Redis, ms: number): void {
  const target = redis as unknown as { sendCommand: Send };
  const send: Send = target.sendCommand.bind(redis);
  const link = { received: 0 };
  // Every (re)connection has a new stream: count what arrives on each.
  redis.on("connect", () => {
    redis.stream.on("data", () => {
      link.received++;
    });
  });
  target.sendCommand = (command, ...rest) => {
    const out = send(command, ...rest);
    watchCommand(command, link, ms);
    return out;
  };
}

function watchCommand(command: Command, link: { received: number }, ms: number): void {
  if (command.isSettled) return;
  let seen = link.received;
  let timer: NodeJS.Timeout | undefined;
  const expire = (): void => {
    setImmediate(() => {
      if (command.isSettled) return;
      if (link.received !== seen) {
        seen = link.received;
        timer = setTimeout(expire, ms);
        return;
      }
      command.reject(new Error("Command timed out"));
    });
  };
  timer = setTimeout(expire, ms);
  const done = (): void => clearTimeout(timer);
  command.promise.then(done, done);
}
