/**
 * HTTP load for the benchmark: `amount` POSTs over `connections` keep-alive connections
 * (autocannon, in this process), and one request in flight at a time (node's fetch).
 */
import autocannon from "autocannon";
import { percentile } from "./_stats.ts";

export interface HttpLoad {
  requests: number;
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** Answers by status code (e.g. `{ "202": 1998, "503": 2 }`). */
  statuses: Record<string, number>;
  /** The first answer that was not 2xx: status and body (cut), to say why. */
  firstRefusal?: string | undefined;
  p50Ms: number;
  p99Ms: number;
}

/** POSTs `body` to `url` `amount` times over `connections` connections; bounded by `timeoutS` per request. */
export async function postLoad(url: string, body: string, amount: number, connections: number, timeoutS = 10): Promise<HttpLoad> {
  let firstRefusal: string | undefined;
  const result = await autocannon({
    url,
    requests: [
      {
        method: "POST",
        body,
        headers: { "content-type": "application/json" },
        onResponse: (status, text) => {
          if (status >= 300 && firstRefusal === undefined) firstRefusal = `${status} ${text.slice(0, 300)}`;
        },
      },
    ],
    connections,
    amount,
    timeout: timeoutS,
    // autocannon stops on its own after `amount`; this only bounds a server that stops answering.
    duration: Math.max(60, Math.ceil(amount / 100)),
  });
  return {
    requests: result.requests.total,
    seconds: result.duration,
    ok: result["2xx"],
    non2xx: result.non2xx,
    errors: result.errors,
    firstRefusal,
    statuses: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0])),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

/** `count` POSTs one after another; each must answer 2xx within `timeoutMs`. Latencies in ms. */
export async function postOneAtATime(
  url: string,
  body: string,
  count: number,
  timeoutMs = 10_000,
  check?: (text: string) => void,
): Promise<{ p50Ms: number; p99Ms: number; samples: number[] }> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const response = await fetch(url, { method: "POST", body, headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST ${url}: ${response.status} ${text.slice(0, 200)}`);
    check?.(text);
    samples.push(performance.now() - started);
  }
  return { p50Ms: percentile(samples, 50), p99Ms: percentile(samples, 99), samples };
}
