/**
 * Bad input to `POST /pipelines/:name/jobs`: each answered with the right 4xx and nothing written
 * to storage (stats.accepted unchanged). Also the optional bearer token.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { gatewayFixture, JSON_HEADERS, post, type ErrorBody, type GatewayFixture } from "./gateway-fixture.ts";

const MiB = 1024 * 1024;

async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  assert.equal(res.status, status);
  const body = (await res.json()) as ErrorBody;
  assert.equal(body.error.code, code, body.error.message);
  assert.equal(typeof body.error.message, "string");
  return body;
}

/** A stream of `total` bytes of a JSON string value, counting how many were pulled. */
function countingBody(total: number): { stream: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new TextEncoder().encode("x".repeat(64 * 1024));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) {
        controller.enqueue(new TextEncoder().encode('{"a":"'));
        sent += 6;
      } else if (sent >= total) controller.close();
      else {
        controller.enqueue(chunk);
        sent += chunk.length;
      }
    },
  });
  return { stream, pulled: () => sent };
}

describe("gateway: bad input writes nothing", () => {
  let f: GatewayFixture;
  let before0 = 0;
  before(async () => {
    f = await gatewayFixture();
    before0 = await f.accepted();
  });
  after(async () => {
    assert.equal(await f.accepted(), before0, "a rejected request wrote a job");
    await f.close();
  });

  it("malformed JSON: 400 INVALID_JSON", async () => {
    await expectError(await post(f.app, "/pipelines/double/jobs", '{"n": 1'), 400, "INVALID_JSON");
    await expectError(await post(f.app, "/pipelines/double/jobs", "{n: 1}"), 400, "INVALID_JSON");
  });

  it("JSON that is not an object: 400 INVALID_INSTRUCTIONS", async () => {
    for (const body of ["[1,2]", "42", '"text"', "null", "true"]) {
      const error = await expectError(await post(f.app, "/pipelines/double/jobs", body), 400, "INVALID_INSTRUCTIONS");
      assert.match(error.error.message, /must be a JSON object/);
    }
  });

  it("a 10 MiB body with its Content-Length: 413 from the header alone", async () => {
    const body = `{"a":"${"x".repeat(10 * MiB)}"}`;
    const res = await post(f.app, "/pipelines/double/jobs", body, { ...JSON_HEADERS, "content-length": String(body.length) });
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
  });

  it("a 10 MiB streamed body (no Content-Length): 413 after reading little more than the limit", async () => {
    const { stream, pulled } = countingBody(10 * MiB);
    const res = await f.app.request("/pipelines/double/jobs", { method: "POST", headers: JSON_HEADERS, body: stream, duplex: "half" } as RequestInit);
    await expectError(res, 413, "PAYLOAD_TOO_LARGE");
    assert.ok(pulled() < 2 * MiB, `read ${pulled()} bytes of 10 MiB`);
  });

  it("the limit is configurable (maxBodyBytes)", async () => {
    const small = await gatewayFixture({ gateway: { maxBodyBytes: 16 } });
    try {
      await expectError(await post(small.app, "/pipelines/double/jobs", { n: "0123456789abcdef" }), 413, "PAYLOAD_TOO_LARGE");
      assert.equal((await post(small.app, "/pipelines/double/jobs", { n: 1 })).status, 202);
    } finally {
      await small.close();
    }
  });

  it("10,000-deep nesting: 400 TOO_DEEP, no stack overflow", async () => {
    const arrays = "[".repeat(10_000) + "]".repeat(10_000);
    await expectError(await post(f.app, "/pipelines/double/jobs", arrays), 400, "TOO_DEEP");
    const inObject = `{"a":${"[".repeat(10_000)}${"]".repeat(10_000)}}`;
    await expectError(await post(f.app, "/pipelines/double/jobs", inObject), 400, "TOO_DEEP");
    const objects = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
    await expectError(await post(f.app, "/pipelines/double/jobs", objects), 400, "TOO_DEEP");
  });

  it("brackets inside strings do not count as nesting", async () => {
    const res = await post(f.app, "/pipelines/double/jobs?wait=5000", { n: 1, text: "[".repeat(10_000) + '\\"{' });
    assert.equal(res.status, 200);
    before0 += 1;
  });

  it("invalid UTF-8: 400 INVALID_UTF8", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await expectError(await post(f.app, "/pipelines/double/jobs", bytes), 400, "INVALID_UTF8");
    const overlong = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d]);
    await expectError(await post(f.app, "/pipelines/double/jobs", overlong), 400, "INVALID_UTF8");
  });

  it("wrong content type: 415 (form-urlencoded, text/plain, a charset other than UTF-8)", async () => {
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "application/json; charset=latin1", "multipart/form-data; boundary=x"]) {
      const error = await expectError(await post(f.app, "/pipelines/double/jobs", { n: 1 }, { "content-type": type }), 415, "UNSUPPORTED_MEDIA_TYPE");
      assert.match(error.error.message, /content-type: application\/json/);
    }
  });

  it("JSON content types with a UTF-8 charset or a +json suffix are accepted", async () => {
    for (const type of ["application/json; charset=utf-8", "Application/JSON;charset=\"UTF-8\"", "application/vnd.mario+json"]) {
      assert.equal((await post(f.app, "/pipelines/double/jobs?wait=5000", { n: 1 }, { "content-type": type })).status, 200, type);
      before0 += 1;
    }
  });

  it("unknown pipeline: 404 listing the known ones", async () => {
    const error = await expectError(await post(f.app, "/pipelines/missing/jobs", { n: 1 }), 404, "UNKNOWN_PIPELINE");
    assert.match(error.error.message, /"missing".*known pipelines: double, explode, hold, math/);
  });

  it("bad job id: 400; a bad Idempotency-Key: 400", async () => {
    await expectError(await f.app.request("/jobs/..%2F..%2Fetc"), 400, "INVALID_REQUEST");
    await expectError(await post(f.app, "/pipelines/double/jobs", { n: 1 }, { ...JSON_HEADERS, "idempotency-key": "has space" }), 400, "INVALID_REQUEST");
    await expectError(await post(f.app, "/pipelines/double/jobs", { n: 1 }, { ...JSON_HEADERS, "idempotency-key": "k".repeat(300) }), 400, "INVALID_REQUEST");
  });
});

describe("gateway: bearer token", () => {
  let f: GatewayFixture;
  before(async () => {
    f = await gatewayFixture({ gateway: { token: "s3cret-token" } });
  });
  after(async () => {
    await f.close();
  });

  it("answers 401 with WWW-Authenticate when the token is missing or wrong, writing nothing", async () => {
    const cases: Record<string, string>[] = [JSON_HEADERS, { ...JSON_HEADERS, authorization: "Bearer wrong" }, { ...JSON_HEADERS, authorization: "Bearer s3cret-token-longer" }, { ...JSON_HEADERS, authorization: "Basic s3cret-token" }, { ...JSON_HEADERS, authorization: "Bearer " }];
    for (const headers of cases) {
      const res = await post(f.app, "/pipelines/double/jobs", { n: 1 }, headers);
      await expectError(res, 401, "UNAUTHORIZED");
      assert.match(res.headers.get("www-authenticate") ?? "", /^Bearer/);
    }
    assert.equal(await f.accepted(), 0);
  });

  it("checks the token before reading the body (a 10 MiB body without a token is a 401)", async () => {
    const body = `{"a":"${"x".repeat(10 * MiB)}"}`;
    await expectError(await post(f.app, "/pipelines/double/jobs", body), 401, "UNAUTHORIZED");
  });

  it("accepts the right token", async () => {
    const res = await post(f.app, "/pipelines/double/jobs", { n: 1 }, { ...JSON_HEADERS, authorization: "Bearer s3cret-token" });
    assert.equal(res.status, 202);
  });

  it("protects every route but /health", async () => {
    assert.equal((await f.app.request("/health")).status, 200);
    for (const path of ["/pipelines", "/jobs", "/workers", "/metrics", "/ready", "/jobs/0000000000000000000000"]) {
      assert.equal((await f.app.request(path)).status, 401, path);
      assert.notEqual((await f.app.request(path, { headers: { authorization: "bearer s3cret-token" } })).status, 401, path);
    }
    assert.equal((await f.app.request("/jobs/0000000000000000000000/retry", { method: "POST" })).status, 401);
  });
});
