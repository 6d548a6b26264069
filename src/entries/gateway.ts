/**
 * `mario-pipelines/gateway`: the HTTP API and the live dashboard as hono apps, for any `Cluster`:
 * `DispatcherCluster` in process, `RemoteCluster` in front of pipeline servers. Loads hono.
 *
 * ```ts
 * import { LocalRunner } from "mario-pipelines";
 * import { createGatewayApp, DispatcherCluster } from "mario-pipelines/gateway";
 * const runner = new LocalRunner({ pipelines, steps });
 * await runner.start();
 * const app = createGatewayApp(new DispatcherCluster(runner.dispatcher), { token: process.env.MARIO_TOKEN });
 * // serve app.fetch with @hono/node-server, Bun, Deno…
 * ```
 */
export type { Cluster, ClusterEvents, Readiness } from "../engine/cluster.ts";
export { DispatcherCluster } from "../engine/dispatcher-cluster.ts";
export { RemoteCluster } from "../gateway/remote-cluster.ts";
export type { RemoteClusterOptions, RemotePipeline, JobIntake } from "../gateway/remote-cluster.ts";
export { createGatewayApp } from "../gateway/gateway-app.ts";
export type { GatewayOptions } from "../gateway/gateway-app.ts";
export { createDashboardApp } from "../gateway/dashboard/dashboard-app.ts";
export type { DashboardOptions } from "../gateway/dashboard/dashboard-app.ts";
