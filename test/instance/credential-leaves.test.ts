import assert from "node:assert/strict";
import { test } from "node:test";
import type { Credentials } from "../../src/credentials/source";
import { describeInstance } from "../../src/instance/instance";
import { credentialLeaves, Deferred } from "../../src/instance/tree";

test("each credential document is written at its first read, once, and as it was when the leaves were made", () => {
  const instance = describeInstance({ region: "us-east-1", instanceType: "t3.micro", instanceLifeCycle: "on-demand" }, "leaves-seed", 0);
  let reads = 0;
  const credentials: Credentials = {
    get accessKeyId() {
      reads += 1;
      return "ASIAEXAMPLEEXAMPLE01";
    },
    secretAccessKey: "secret",
    sessionToken: "token",
    expiration: Date.UTC(2030, 0, 1),
  };
  const role = { name: "leaves-role", instanceProfileArn: "arn:aws:iam::123456789012:instance-profile/leaves-role", instanceProfileId: "AIPAEXAMPLE" };
  const leaves = credentialLeaves({ instance, role, credentials: { credentials, lastUpdated: Date.UTC(2029, 11, 31) }, identityCredentials: undefined, credentialsUnavailableReason: "none" });
  assert.equal(reads, 0, "no document is written when the leaves are made");
  const document = leaves.get("meta-data/iam/security-credentials/leaves-role");
  assert.ok(document instanceof Deferred);
  const text = document.text();
  assert.equal(JSON.parse(text).AccessKeyId, "ASIAEXAMPLEEXAMPLE01");
  assert.match(text, /^\{\n {2}"Code" : "Success",\n {2}"LastUpdated" : "2029-12-31T00:00:00Z",/);
  assert.equal(document.text(), text);
  assert.equal(reads, 1, "written once");
  assert.equal(JSON.parse((leaves.get("meta-data/iam/info") as Deferred).text()).InstanceProfileId, "AIPAEXAMPLE");
  assert.equal(reads, 1, "the info document does not read the keys");
});
