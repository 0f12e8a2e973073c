import assert from "node:assert/strict";
import { test } from "node:test";
import type { MetadataDir } from "../../src/instance/tree";
import { API_VERSIONS, eraOf, eras, treesByEra } from "../../src/instance/versions";

const dir = (entries: Record<string, string | MetadataDir>): MetadataDir => new Map(Object.entries(entries));

test("every listed version answers from an era at or before it; unlisted versions from none", () => {
  for (const version of API_VERSIONS) {
    const era = eraOf(version)!;
    assert.ok(eras().includes(era) && era <= version, version);
  }
  assert.equal(eraOf("2016-09-02"), "2016-06-30", "ipv6s and vpc-ipv4-cidr-blocks came with 2016-06-30");
  assert.equal(eraOf("2021-03-23"), "2021-03-23", "tags");
  assert.equal(eraOf("2018-03-28"), "2018-03-28", "spot/instance-action, dated 2016-11-15, first listed as 2018-03-28");
  assert.equal(eraOf("2099-01-01"), undefined);
  assert.equal(eraOf("latest"), undefined, "latest is the whole tree, not an era");
});

test("a tree as each era sees it: later categories and the directories they leave empty are gone", () => {
  const tree = dir({
    "meta-data": dir({
      "instance-id": "i-0123456789abcdef0",
      placement: dir({ "availability-zone": "us-east-1a", region: "us-east-1" }),
      tags: dir({ instance: dir({ Name: "x" }) }),
      network: dir({ interfaces: dir({ macs: dir({ "0e:00:00:00:00:01": dir({ "device-number": "0", "network-card-index": "0" }) }) }) }),
      "my-own/path": "kept",
    }),
    dynamic: dir({ "instance-identity": dir({ document: "{}" }) }),
    "user-data": "data",
  });
  const eras = treesByEra(tree);
  const at = (version: string) => eras.get(eraOf(version)!)!;
  assert.deepEqual([...at("1.0").keys()], ["meta-data", "user-data"]);
  const old = at("2009-04-04").get("meta-data") as MetadataDir;
  assert.deepEqual([...old.keys()], ["instance-id", "placement", "my-own/path"]);
  assert.deepEqual([...(old.get("placement") as MetadataDir).keys()], ["availability-zone"]);
  const v2021 = at("2021-03-23").get("meta-data") as MetadataDir;
  assert.ok(v2021.has("tags"));
  const nic = ((((v2021.get("network") as MetadataDir).get("interfaces") as MetadataDir).get("macs") as MetadataDir).get("0e:00:00:00:00:01")) as MetadataDir;
  assert.deepEqual([...nic.keys()], ["device-number", "network-card-index"]);
  const v2018 = at("2018-09-24").get("meta-data") as MetadataDir;
  assert.ok(!v2018.has("tags"));
  const nic2018 = ((((v2018.get("network") as MetadataDir).get("interfaces") as MetadataDir).get("macs") as MetadataDir).get("0e:00:00:00:00:01")) as MetadataDir;
  assert.deepEqual([...nic2018.keys()], ["device-number"]);
  assert.equal(tree.size, 3, "the tree itself is left as it was");
});
