import assert from "node:assert/strict";
import { test } from "node:test";
import {
  blockDeviceMapping,
  checkIpv6Networks,
  checkMetadataOverride,
  ipv6Addresses,
  readDescriptionKey,
} from "../../src/config/description-keys";
import { canonicalIpv6, ipv6Network } from "../../src/ipv6";
import { ConfigError } from "../../src/validation";

const oneLine = (pattern: RegExp) => (error: unknown) =>
  error instanceof ConfigError && pattern.test(error.message) && !error.message.includes("\n");

test("IPv6 addresses in EC2's form, and the /64 and /56 that hold them", () => {
  assert.equal(canonicalIpv6("2600:1F16:0292:0100:0000:0000:0000:0010"), "2600:1f16:292:100::10");
  assert.equal(canonicalIpv6("10.0.0.1"), undefined);
  assert.equal(canonicalIpv6("fe80::1%eth0"), undefined);
  assert.equal(ipv6Network("2600:1f16:292:1ab:c187:593c:4349:136", 64), "2600:1f16:292:1ab::/64");
  assert.equal(ipv6Network("2600:1f16:292:1ab:c187:593c:4349:136", 56), "2600:1f16:292:100::/56");
  assert.deepEqual(ipv6Addresses("ipv6", "2600:1f16::1"), ["2600:1f16::1"]);
  assert.throws(() => ipv6Addresses("ipv6", []), oneLine(/^ipv6: expected at least one IPv6 address, got \[\]$/));
  assert.throws(() => ipv6Addresses("ipv6", ["2600::1", "2600:0::1"]), oneLine(/^ipv6: 2600::1 is listed twice$/));
  assert.throws(() => ipv6Addresses("ipv6", [{ a: 1 }]), oneLine(/^ipv6: expected IPv6 addresses/));
});

test("interfaces share the VPC's /56, and a subnet's /64", () => {
  checkIpv6Networks("f.yaml", ["2600:1f16:292:100::10"], [
    { ipv6: ["2600:1f16:292:100::11"] },
    { ipv6: ["2600:1f16:292:1ff::11"], subnetId: "subnet-0123456789abcdef0" },
    {},
  ]);
  checkIpv6Networks("f.yaml", undefined, [{ ipv6: ["2600:1f16:292:100::11"] }]);
  assert.throws(() => checkIpv6Networks("f.yaml", ["2600:1f16:292:100::10", "2600:1f16:292:200::10"]),
    oneLine(/^f\.yaml: ipv6: 2600:1f16:292:200::10 is outside the VPC's IPv6 block 2600:1f16:292:100::\/56 \(from f\.yaml: ipv6\)$/));
  assert.throws(() => checkIpv6Networks("f.yaml", undefined, [{ ipv6: ["2600:1f16:292:100::11"] }, { ipv6: ["2600:1f16:292:101::11"] }]),
    oneLine(/^f\.yaml: network-interfaces\[1\]\.ipv6: 2600:1f16:292:101::11 is outside its subnet's IPv6 block 2600:1f16:292:100::\/64 \(from f\.yaml: network-interfaces\[0\]\.ipv6\)$/));
});

test("block devices: EC2's entry names, device names, one device per entry but ami and root", () => {
  assert.deepEqual(blockDeviceMapping("bdm", { ebs1: "sdf", ephemeral0: "/dev/sdb", swap: "sdc", root: "/dev/sda1", ami: "/dev/sda1" }),
    { ebs1: "sdf", ephemeral0: "/dev/sdb", swap: "sdc", root: "/dev/sda1", ami: "/dev/sda1" });
  assert.throws(() => blockDeviceMapping("bdm", { ebs: "sdf" }), oneLine(/^bdm\.ebs: expected an entry named/));
  assert.throws(() => blockDeviceMapping("bdm", { ebs1: 5 }), oneLine(/^bdm\.ebs1: expected a device name/));
  assert.throws(() => blockDeviceMapping("bdm", { root: "/dev/xvda", ebs1: "xvda" }), oneLine(/^bdm\.ebs1: xvda is already the device of root/));
  assert.throws(() => blockDeviceMapping("bdm", "sdf"), oneLine(/^bdm: expected a mapping/));
});

test("the description keys add to the settings read so far", () => {
  let settings = readDescriptionKey("f: instance-monitoring", "instance-monitoring", "enabled", {});
  settings = readDescriptionKey("f: ipv6", "ipv6", ["2600::1"], settings);
  assert.deepEqual(settings, { instanceMonitoring: "enabled", ipv6: ["2600::1"] });
  assert.throws(() => readDescriptionKey("f: instance-monitoring", "instance-monitoring", true, {}), oneLine(/^f: instance-monitoring: expected one of enabled, disabled, got true$/));
});

test("metadata overrides: refused where a dedicated option exists, allowed elsewhere", () => {
  for (const path of ["instance-id", "iam/info", "services/domain", "spot/instance-action", "tags/instance/Name", "block-device-mapping/ebs1", "identity-credentials/ec2/info"]) {
    assert.throws(() => checkMetadataOverride("metadata", path), oneLine(/is not set through metadata; use .+, which changes it everywhere it appears$/), path);
  }
  for (const path of ["placement/group-name", "placement/partition-number", "custom/anything", "instance-idx", "macs"]) {
    checkMetadataOverride("metadata", path);
  }
});
