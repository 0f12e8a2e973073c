import assert from "node:assert/strict";
import { test } from "node:test";
import { compileReplies, LazyEras, resolvePath, textReply, type Reply } from "../../src/cache/replies";
import type { MetadataDir } from "../../src/instance/tree";
import { eras } from "../../src/instance/versions";

const dir = (entries: Record<string, string | MetadataDir>): MetadataDir => new Map(Object.entries(entries));

test("an era's replies are added at the first request for one of its keys, once; latest and unknown versions add none", () => {
  const table = new Map<string, Reply>([["/latest/meta-data/instance-id", textReply(200, "i-1")]]);
  const added: string[] = [];
  const replies = new LazyEras(table, (era) => {
    added.push(era);
    table.set(`/${era}/meta-data/instance-id`, textReply(200, `i-1 as of ${era}`));
  });
  assert.equal(replies.get("/latest/meta-data/instance-id")?.body.toString(), "i-1");
  assert.equal(replies.get("/latest/meta-data/nothing"), undefined);
  assert.equal(replies.get("/2099-01-01/meta-data/instance-id"), undefined);
  assert.equal(replies.get("/"), undefined);
  assert.equal(replies.get("nothing"), undefined);
  assert.deepEqual(added, [], "nothing is compiled before a dated era is asked for");

  assert.equal(replies.get("/2016-06-30/meta-data/instance-id")?.body.toString(), "i-1 as of 2016-06-30");
  assert.equal(replies.get("/2016-06-30/meta-data/nothing"), undefined, "a miss in a compiled era compiles nothing again");
  assert.equal(replies.get("/2016-06-30/meta-data/instance-id")?.body.toString(), "i-1 as of 2016-06-30");
  assert.equal(replies.get("/2016-06-30"), undefined, "the era's own root finds it compiled");
  assert.deepEqual(added, ["2016-06-30"]);

  replies.get("/2009-04-04");
  assert.deepEqual(added, ["2016-06-30", "2009-04-04"], "a version's root is a key of its era");
  for (const era of eras()) replies.get(`/${era}/meta-data/instance-id`);
  assert.deepEqual(added.sort(), [...eras()].sort(), "every era once");
});

test("compiled on request, a dated version answers as EC2's does and shares latest's reply objects", () => {
  const tree = dir({
    "meta-data": dir({
      "instance-id": "i-0123456789abcdef0",
      placement: dir({ "availability-zone": "us-east-1a", region: "us-east-1" }),
      tags: dir({ instance: dir({ Name: "x" }) }),
    }),
    "user-data": "data",
  });
  const replies = compileReplies(tree);
  const get = (path: string) => {
    const resolved = resolvePath(path);
    assert.equal(resolved.kind, "metadata");
    return resolved.kind === "metadata" ? replies.get(resolved.key) : undefined;
  };
  assert.equal(get("/")?.body.toString().split("\n").at(-1), "latest");
  assert.equal(get("/2009-04-04/meta-data/")?.body.toString(), "instance-id\nplacement/");
  assert.equal(get("/2009-04-04/meta-data/placement/")?.body.toString(), "availability-zone");
  assert.equal(get("/2009-04-04/meta-data/placement/region"), undefined, "placement/region came with 2020-08-24");
  assert.equal(get("/2009-04-04")?.body.toString(), "meta-data\nuser-data");
  assert.equal(get("/2021-03-23/meta-data/tags/instance/Name")?.body.toString(), "x");
  assert.equal(get("/2021-03-23/meta-data/instance-id/")?.body.toString(), "i-0123456789abcdef0");
  for (const version of ["2009-04-04", "2016-09-02", "2021-03-23", "2024-04-11"]) {
    assert.equal(get(`/${version}/meta-data/instance-id`), get("/latest/meta-data/instance-id"), version);
    assert.equal(get(`/${version}/user-data`), get("/latest/user-data"), version);
  }
});

/** A directory that counts the lookups made in it. */
class CountingDir extends Map<string, string | MetadataDir> {
  lookups = 0;
  override get(name: string) {
    this.lookups += 1;
    return super.get(name);
  }
}

test("each path is compiled at its first request and kept; a path in no tree is looked up each time and never kept", () => {
  const metaData = new CountingDir(Object.entries({ "instance-id": "i-1", placement: dir({ region: "us-east-1" }) }));
  const replies = compileReplies(dir({ "meta-data": metaData }));
  assert.equal(metaData.lookups, 0, "nothing is compiled before a request");
  const first = replies.get("/latest/meta-data/instance-id");
  assert.equal(first?.body.toString(), "i-1");
  assert.equal(metaData.lookups, 1);
  assert.equal(replies.get("/latest/meta-data/instance-id"), first, "kept");
  assert.equal(replies.get("/latest/meta-data/instance-id/"), first, "with its `/` too");
  assert.equal(replies.get("/latest/meta-data/placement/region")?.body.toString(), "us-east-1");
  assert.equal(metaData.lookups, 2);

  for (let i = 0; i < 3; i++) assert.equal(replies.get("/latest/meta-data/made-up"), undefined);
  assert.equal(metaData.lookups, 5, "a miss walks the tree each time: nothing was stored for it");
  assert.equal(replies.get("/latest/meta-data/instance-id/more"), undefined, "below a leaf");
  const before = metaData.lookups;
  assert.equal(replies.get(`/latest/meta-data/made-up${"/x".repeat(5000)}`), undefined);
  assert.equal(metaData.lookups - before, 1, "a long made-up path stops at its first unknown name");
  assert.equal(replies.get("/latest/meta-data/")?.body.toString(), "instance-id\nplacement/");
  assert.equal(replies.get("/latest")?.body.toString(), "meta-data");
  assert.equal(replies.get("/nothing/meta-data/instance-id"), undefined);
});
