/**
 * The command timeout (`--redis-timeout-ms`, `commandTimeoutMs`): a command fails as timed out
 * ("Command timed out", STORAGE_UNAVAILABLE) when it has no answer after `ms` and Redis answered
 * nothing else on its connection meanwhile.
 *
 * ioredis' own timer (its `commandTimeout`) fires in the timers phase of the event loop, before
 * replies waiting in the socket are read. After this process was busy for longer than `ms` (a
 * 50 MB message parsed on a loaded machine), it failed commands whose answers had already come;
 * and with 100 KB jobs, commands queued behind big replies that Redis was sending all along. Here
 * an expired timer first lets the event loop read what arrived (setImmediate runs after the poll
 * phase); a command whose connection answered other commands since it was sent is behind them,
 * not lost, and waits another `ms`. A stalled Redis (SIGSTOP, a long script, a paused VM)
 * answers nothing and fails after `ms`, as before.
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
  const link = { answered: 0 };
  target.sendCommand = (command, ...rest) => {
    const out = send(command, ...rest);
    watchCommand(command, link, ms);
    return out;
  };
}

function watchCommand(command: Command, link: { answered: number }, ms: number): void {
  if (command.isSettled) return;
  let seen = link.answered;
  let timer: NodeJS.Timeout | undefined;
  const expire = (): void => {
    setImmediate(() => {
      if (command.isSettled) return;
      if (link.answered !== seen) {
        seen = link.answered;
        timer = setTimeout(expire, ms);
        return;
      }
      command.reject(new Error("Command timed out"));
    });
  };
  timer = setTimeout(expire, ms);
  const done = (): void => {
    clearTimeout(timer);
    link.answered++;
  };
  command.promise.then(done, done);
}
