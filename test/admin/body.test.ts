import assert from "node:assert/strict";
import { request, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import supertest from "supertest";
import { createAdminApp } from "../../src/admin/app";
import { ConfigError, resolveConfig } from "../../src/config/config";
import { hardenedServer } from "../../src/listeners";
import { silentLogger } from "../../src/log";
import { eventually } from "../support/eventually";
import { testEmulator, type TestEmulator } from "../support/emulator";

const MIB = 1024 * 1024;
/** What a hostile client offers: the test stops sending as soon as the answer arrives. */
const OFFERED = 100 * MIB;

describe("admin request bodies are read no further than their limit", () => {
  let t: TestEmulator;
  let admin: Server;
  let port: number;
  /** Bytes the server read from each connection, recorded when it closes. */
  const reads: number[] = [];
  before(async () => {
    t = await testEmulator();
    admin = hardenedServer(createAdminApp(t.emulator), silentLogger);
    admin.on("connection", (socket: Socket) => socket.once("close", () => reads.push(socket.bytesRead)));
    await new Promise<void>((resolve) => admin.listen(0, "127.0.0.1", resolve));
    port = (admin.address() as AddressInfo).port;
  });
  after(() => {
    t.emulator.refresher.stop();
    admin.closeAllConnections();
    admin.close();
  });

  /**
   * Sends `head`, then body bytes as fast as the server takes them, until it answers (or OFFERED
   * bytes went out); resolves with the answer's status line and what the server read.
   */
  async function offer(head: string, chunked: boolean): Promise<{ status: string; serverRead: number }> {
    const before = reads.length;
    const status = await new Promise<string>((resolve) => {
      const socket = connect(port, "127.0.0.1");
      const data = Buffer.alloc(64 * 1024, "a");
      const chunk = chunked ? Buffer.concat([Buffer.from(`${data.length.toString(16)}\r\n`), data, Buffer.from("\r\n")]) : data;
      let sent = 0;
      let answer = "";
      socket.setEncoding("latin1");
      socket.on("data", (text: string) => {
        answer += text;
        if (answer.includes("\r\n")) {
          socket.destroy();
          resolve(answer.split("\r\n")[0]!);
        }
      });
      socket.on("error", () => resolve(answer.split("\r\n")[0] || "no answer"));
      socket.write(head);
      const pump = () => {
        while (sent < OFFERED && !socket.destroyed) {
          sent += data.length;
          if (!socket.write(chunk)) return void socket.once("drain", pump);
        }
      };
      pump();
    });
    await eventually(() => reads.length > before, "the server closes the connection");
    return { status, serverRead: reads.at(-1)! };
  }

  test("a declared length over the limit: 413 before a byte of the body is read", async () => {
    for (const path of ["PUT /admin/user-data", "PUT /admin/tags/Name", "GET /healthz"]) {
      const { status, serverRead } = await offer(`${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${OFFERED}\r\n\r\n`, false);
      assert.equal(status, "HTTP/1.1 413 Payload Too Large", path);
      assert.ok(serverRead < MIB, `${path}: the server read ${serverRead} bytes`);
    }
  });

  test("a chunked body: 413 once it passes the limit, and the rest is never read", async () => {
    for (const path of ["PUT /admin/metadata/custom/x", "POST /admin/events/rebalance-recommendation", "PUT /admin/user-data"]) {
      const head = `${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const { status, serverRead } = await offer(head, true);
      assert.equal(status, "HTTP/1.1 413 Payload Too Large", path);
      assert.ok(serverRead < MIB, `${path}: the server read ${serverRead} bytes`);
    }
  });

  test("a route that takes no body answers, and closes the connection instead of reading the body", async () => {
    const head = "POST /admin/credentials/rotate HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    const { status, serverRead } = await offer(head, true);
    assert.equal(status, "HTTP/1.1 200 OK");
    assert.ok(serverRead < MIB, `the server read ${serverRead} bytes`);
  });

  test("within the limit, bodies still arrive whole", async () => {
    const admin = supertest(createAdminApp(t.emulator));
    assert.equal((await admin.put("/admin/user-data").type("application/octet-stream").send(Buffer.alloc(16 * 1024, "u"))).status, 204);
    assert.equal((await t.http.get("/latest/user-data")).headers["content-length"], String(16 * 1024));
  });
});

describe("metadata paths are names, nothing else", () => {
  const BAD = ["../x", "./y", "", "a//b", "a/../b", "/", "a/./b"];

  test("the admin API answers 400 and lists nothing new", async () => {
    const t = await testEmulator();
    const admin = hardenedServer(createAdminApp(t.emulator), silentLogger);
    await new Promise<void>((resolve) => admin.listen(0, "127.0.0.1", resolve));
    const port = (admin.address() as AddressInfo).port;
    // A raw request: URL parsers would fold the dot segments away before they reach the daemon.
    const put = (path: string, method = "PUT") =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port, method, path: `/admin/metadata/${path}` }, (res) => {
          let body = "";
          res.setEncoding("utf8").on("data", (text: string) => (body += text)).on("end", () => resolve({ status: res.statusCode!, body }));
        });
        req.on("error", reject);
        req.end("value");
      });
    try {
      for (const path of ["../x", "./y", "a//b", "%2e%2e/x", "a/%2E/b"]) {
        const response = await put(path);
        assert.equal(response.status, 400, path);
        assert.match(JSON.parse(response.body).error, /^metadata: expected a path below meta-data\/ such as placement\/group-name/);
        assert.equal((await put(path, "DELETE")).status, 400, `DELETE ${path}`);
      }
      const listing = (await t.http.get("/latest/meta-data/")).text.split("\n");
      assert.ok(!listing.some((entry) => entry.startsWith(".") || entry === "" || entry === "/"), listing.join(","));
      assert.equal((await put("placement/group-name")).status, 204);
      assert.equal((await t.http.get("/latest/meta-data/placement/group-name")).text, "value");
    } finally {
      t.emulator.refresher.stop();
      admin.closeAllConnections();
      admin.close();
    }
  });

  test("the library API and the config file refuse them with the same message", async () => {
    const t = await testEmulator();
    try {
      for (const path of BAD) assert.throws(() => t.emulator.setMetadata(path, "v"), ConfigError, JSON.stringify(path));
    } finally {
      t.emulator.refresher.stop();
    }
    for (const path of BAD) {
      assert.throws(
        () => resolveConfig({}, {}, { path: "instance.yaml", data: { metadata: { [path]: "v" } } }),
        (error: unknown) => error instanceof ConfigError && error.message.startsWith("instance.yaml: metadata: expected a path below meta-data/"),
        JSON.stringify(path),
      );
    }
    assert.deepEqual(resolveConfig({}, {}, { path: "i.yaml", data: { metadata: { "/placement/group-name/": "g" } } }).metadata, {
      "placement/group-name": "g",
    });
  });
});

describe("event bodies", () => {
  test("a JSON array, a scalar or null is 400, not a default event", async () => {
    const t = await testEmulator();
    const admin = supertest(createAdminApp(t.emulator));
    try {
      for (const body of ["[]", '[{"action":"stop"}]', "42", "null", '"text"']) {
        const response = await admin.post("/admin/events/spot-interruption").set("Content-Type", "application/json").send(body);
        assert.equal(response.status, 400, body);
        assert.match(response.body.error, /^body: expected a JSON object such as \{"after":"30s"\}, got /);
      }
      assert.equal(t.emulator.events().spot, undefined, "nothing was scheduled");
      assert.equal((await admin.post("/admin/events/spot-interruption")).status, 200, "no body at all: the defaults");
    } finally {
      t.emulator.refresher.stop();
    }
  });

  test("a date must be a real instant EC2's format can print", async () => {
    const t = await testEmulator();
    const admin = supertest(createAdminApp(t.emulator));
    try {
      for (const notBefore of ["+275760-09-13T00:00:00.000Z", "2026-02-30T09:00:00Z", "2026-01-21T24:00:00Z", "1969-12-31T23:59:59Z", "10000-01-01T00:00:00Z", "2026-01-21T09:00:00+25:00"]) {
        const response = await admin.post("/admin/events/maintenance").send({ notBefore });
        assert.equal(response.status, 400, notBefore);
        assert.match(response.body.error, /^notBefore: expected a time such as 2026-01-21T09:00:00Z, in the years 1970 to 9999, got /);
      }
      assert.equal(t.emulator.events().scheduledMaintenance.length, 0);
      for (const notBefore of ["2028-02-29T09:00:00Z", "2030-01-21T09:00:43.5+02:00"]) {
        assert.equal((await admin.post("/admin/events/maintenance").send({ notBefore })).status, 200, notBefore);
      }
      const scheduled = JSON.parse((await t.http.get("/latest/meta-data/events/maintenance/scheduled")).text);
      assert.deepEqual(scheduled.map((event: { NotBefore: string }) => event.NotBefore), ["29 Feb 2028 09:00:00 GMT", "21 Jan 2030 07:00:43 GMT"]);
    } finally {
      t.emulator.refresher.stop();
    }
  });
});
