import assert from "node:assert/strict";
import { test } from "node:test";
import { bannerLines, endpointOf, exportLine, startedFields } from "../../src/banner";

const NOW = Date.parse("2026-11-24T12:00:00Z");

const ESC = "\x1b";

test("the line to paste reaches a wildcard listener through loopback", () => {
  assert.equal(endpointOf("http://127.0.0.1:1338"), "http://127.0.0.1:1338");
  assert.equal(endpointOf("http://0.0.0.0:80"), "http://127.0.0.1");
  assert.equal(endpointOf("http://[::]:1338"), "http://[::1]:1338");
  assert.equal(endpointOf("http://[fd00:ec2::254]:80"), "http://[fd00:ec2::254]");
  assert.equal(endpointOf("http://[::]"), "http://[::1]");
  assert.equal(exportLine({ urls: ["http://0.0.0.0:1338"], roleName: "r", source: "mock" }), "export AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:1338");
});

test("the banner says where it listens, whose credentials, until when, and what to paste", () => {
  const lines = bannerLines(
    {
      urls: ["http://127.0.0.1:1338"],
      adminUrl: "http://127.0.0.1:9901",
      roleName: "app-role",
      source: "sts",
      roleArn: "arn:aws:iam::123456789012:role/app-role",
      expiration: NOW + 3600_000,
    },
    NOW,
    false,
  );
  const text = lines.join("\n");
  assert.match(text, /imds-emulator is ready/);
  assert.match(text, /metadata {4}http:\/\/127\.0\.0\.1:1338/);
  assert.match(text, /credentials role app-role, AssumeRole arn:aws:iam::123456789012:role\/app-role/);
  assert.match(text, /expires {5}2026-11-24T13:00:00Z \(in 60 min/);
  assert.match(text, /admin {7}http:\/\/127\.0\.0\.1:9901/);
  assert.match(text, /^ {4}export AWS_EC2_METADATA_SERVICE_ENDPOINT=http:\/\/127\.0\.0\.1:1338$/m);
  assert.ok(!text.includes(ESC));
  const mock = bannerLines({ urls: ["http://127.0.0.1:1338"], roleName: "imds-emulator", source: "mock", expiration: NOW + 3600_000 }, NOW, true).join("\n");
  assert.match(mock, /mock credentials minted here \(they cannot call AWS\)/);
  assert.ok(mock.includes(`${ESC}[1mexport AWS_EC2_METADATA_SERVICE_ENDPOINT`));
});

test("with no credentials yet (--wait-for-credentials) the banner says why", () => {
  const text = bannerLines({ urls: ["http://127.0.0.1:1338"], roleName: "r", source: "sts", unavailableReason: "no credentials yet: ..." }, NOW, false).join("\n");
  assert.match(text, /expires {5}none served yet: no credentials yet: \.\.\./);
  assert.deepEqual(startedFields({ urls: ["http://0.0.0.0:80"], roleName: "r", source: "mock", expiration: NOW }), {
    endpoint: "http://127.0.0.1",
    expiration: "2026-11-24T12:00:00.000Z",
  });
});
