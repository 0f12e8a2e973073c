import assert from "node:assert/strict";
import { test } from "node:test";
import { captureEndpoint, parseCaptureArgs } from "../../src/capture/command";
import { ConfigError } from "../../src/validation";

const bad = (argv: string[], pattern: RegExp) =>
  assert.throws(() => parseCaptureArgs(argv), (error: unknown) => error instanceof ConfigError && pattern.test(error.message) && !error.message.includes("\n"));

test("capture's flags: repeated --redact, --flag=value, and one clear line for anything else", () => {
  assert.deepEqual(parseCaptureArgs(["--output", "i.yaml", "--redact", "user-data", "--redact=tags/instance/Owner", "--max-requests", "50"]), {
    output: "i.yaml",
    redact: ["user-data", "tags/instance/Owner"],
    roleArn: undefined,
    maxRequests: 50,
  });
  assert.equal(parseCaptureArgs(["--role-arn", "arn:aws:iam::123456789012:role/app"]).roleArn, "arn:aws:iam::123456789012:role/app");
  bad(["--output"], /--output needs a value/);
  bad(["--role-arn", "app"], /--role-arn: expected an IAM role ARN/);
  bad(["--max-requests", "1"], /--max-requests: expected an integer from 2 to 10000/);
  bad(["--max-requests", "1e3"], /--max-requests/);
  bad(["--port", "80"], /unknown argument "--port"; usage: imds-emulator capture/);
});

test("the endpoint as the SDKs take it: the variable, else the mode's address", () => {
  assert.equal(captureEndpoint({}).href, "http://169.254.169.254/");
  assert.equal(captureEndpoint({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "IPv6" }).href, "http://[fd00:ec2::254]/");
  assert.equal(captureEndpoint({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:1338" }).href, "http://127.0.0.1:1338/");
  assert.throws(() => captureEndpoint({ AWS_EC2_METADATA_SERVICE_ENDPOINT: "https://x" }), /expected an http:\/\/ URL/);
  assert.throws(() => captureEndpoint({ AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE: "ipv5" }), /expected IPv4 or IPv6/);
});
