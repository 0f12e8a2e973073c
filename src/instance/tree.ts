import { awsTimestamp } from "../clock";
import type { ServedCredentials } from "../credentials/refresher";
import type { InstanceEvents } from "./events";
import type { Instance, NetworkInterface } from "./instance";

/**
 * The metadata tree as data: a string or Buffer is a leaf, a Map a directory. A leaf that cannot be
 * answered right now (credentials not yet fetched) is an Unavailable, which the port serves as 503.
 */
export type MetadataLeaf = string | Buffer | Unavailable | Deferred;
export type MetadataNode = MetadataLeaf | Unlisted | ListedAs | MetadataDir;
export type MetadataDir = Map<string, MetadataNode>;

export class Unavailable {
  constructor(readonly reason: string) {}
}

/**
 * A leaf whose text is made at its first read, then kept (across rebuilds too, where the same leaf is
 * used again): the instance's SSH public key, a key derivation that no start needs, and the credential
 * documents, which a rotation writes only for the paths that are read.
 */
export class Deferred {
  private made: string | undefined;
  constructor(private readonly make: () => string) {}

  text(): string {
    this.made ??= this.make();
    return this.made;
  }
}

/** Served but left out of its parent's listing, as EC2 does with `iam/security-credentials-extended/`. */
export class Unlisted {
  constructor(readonly node: MetadataNode) {}
}

/**
 * Served at its own name but listed as `label`, with no `/`: EC2 lists the key pair at
 * `public-keys/0/` as `0=<key name>`, and readers (cloud-init, ec2-metadata) turn that line into
 * `0/openssh-key` themselves.
 */
export class ListedAs {
  constructor(
    readonly label: string,
    readonly node: MetadataNode,
  ) {}
}

export interface Role {
  readonly name: string;
  readonly instanceProfileArn: string;
  readonly instanceProfileId: string;
}

/** Unavailable while the signing key does not exist yet (see lazy-signer.ts). */
export interface IdentitySignatures {
  readonly signature: string | Unavailable;
  readonly pkcs7: string | Unavailable;
  readonly rsa2048: string | Unavailable;
}

export interface TreeInputs {
  readonly instance: Instance;
  readonly role: Role;
  readonly credentials: ServedCredentials | undefined;
  /** The instance identity role's credentials (EC2 Instance Connect, the SSM agent). */
  readonly identityCredentials: ServedCredentials | undefined;
  /** Why there are no credentials yet, served with the 503. */
  readonly credentialsUnavailableReason: string;
  /** The role documents' `Code`: `Success` unless a test asks for another (docs/faults.md). */
  readonly credentialsCode?: string;
  readonly publicKey: string | Deferred;
  readonly events: InstanceEvents;
  readonly userData?: Buffer;
  /** Only given when instance metadata tags are enabled. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Paths below `meta-data/`, set or added verbatim after everything else. */
  readonly overrides: Readonly<Record<string, string>>;
  readonly sign?: (document: string) => IdentitySignatures;
}

/** EC2 pretty-prints its JSON documents with `"key" : value`. */
export function ec2Json(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/^(\s*"(?:[^"\\]|\\.)*"):/gm, "$1 :");
}

/** EC2's date format in maintenance events: `21 Jan 2019 09:00:43 GMT`. */
export function maintenanceDate(ms: number): string {
  const [, day, month, year, time] = new Date(ms).toUTCString().split(" ");
  return `${day} ${month} ${year} ${time} GMT`;
}

export function credentialDocument(served: ServedCredentials, accountId?: string, code = "Success"): string {
  const { credentials } = served;
  return ec2Json({
    Code: code,
    LastUpdated: awsTimestamp(served.lastUpdated),
    Type: "AWS-HMAC",
    ...(accountId === undefined ? {} : { AccountId: accountId }),
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    Token: credentials.sessionToken,
    Expiration: awsTimestamp(credentials.expiration),
  });
}

export function identityDocument(instance: Instance): string {
  return ec2Json({
    accountId: instance.accountId,
    architecture: instance.architecture,
    availabilityZone: instance.availabilityZone,
    billingProducts: null,
    devpayProductCodes: null,
    marketplaceProductCodes: null,
    imageId: instance.amiId,
    instanceId: instance.instanceId,
    instanceType: instance.instanceType,
    kernelId: null,
    pendingTime: awsTimestamp(instance.launchTime),
    privateIp: instance.interfaces[0].localIpv4,
    ramdiskId: null,
    region: instance.region,
    version: "2017-09-30",
  });
}

const dir = (entries: Record<string, MetadataNode>): MetadataDir => new Map(Object.entries(entries));

/** What the credential leaves are made of: the only inputs that change at a rotation. */
export type CredentialInputs = Pick<TreeInputs, "instance" | "role" | "credentials" | "identityCredentials" | "credentialsUnavailableReason" | "credentialsCode">;

/**
 * The leaves that change with each rotation, by path below a version's root: the cache swaps these
 * alone when only credentials change, instead of building and compiling the whole tree again. Each
 * document is written at its first read (a Deferred leaf): a rotation, or a start, writes only those
 * that a client reads.
 */
export function credentialLeaves(inputs: CredentialInputs): ReadonlyMap<string, Deferred | Unavailable> {
  const { role, credentials, instance } = inputs;
  const code = inputs.credentialsCode ?? "Success";
  const unavailable = () => new Unavailable(inputs.credentialsUnavailableReason);
  const document = (extended: boolean) =>
    credentials === undefined
      ? unavailable()
      : new Deferred(() => credentialDocument(credentials, extended ? (credentials.credentials.accountId ?? instance.accountId) : undefined, code));
  const identity = inputs.identityCredentials;
  // Their path names are EC2's (User Guide, "Instance identity roles").
  const identityUnavailable = () => new Unavailable("the instance identity credentials are not minted yet");
  return new Map<string, Deferred | Unavailable>([
    [
      "meta-data/iam/info",
      credentials === undefined
        ? unavailable()
        : new Deferred(() =>
            ec2Json({
              Code: code,
              LastUpdated: awsTimestamp(credentials.lastUpdated),
              InstanceProfileArn: role.instanceProfileArn,
              InstanceProfileId: role.instanceProfileId,
            }),
          ),
    ],
    [`meta-data/iam/security-credentials/${role.name}`, document(false)],
    [`meta-data/iam/security-credentials-extended/${role.name}`, document(true)],
    [
      "meta-data/identity-credentials/ec2/info",
      identity === undefined
        ? identityUnavailable()
        : new Deferred(() => ec2Json({ Code: "Success", LastUpdated: awsTimestamp(identity.lastUpdated), AccountId: instance.accountId })),
    ],
    [
      "meta-data/identity-credentials/ec2/security-credentials/ec2-instance",
      identity === undefined ? identityUnavailable() : new Deferred(() => credentialDocument(identity)),
    ],
  ]);
}

function iamDir(inputs: TreeInputs, leaves: ReadonlyMap<string, MetadataNode>): MetadataDir {
  const { name } = inputs.role;
  return dir({
    info: leaves.get("meta-data/iam/info")!,
    "security-credentials": dir({ [name]: leaves.get(`meta-data/iam/security-credentials/${name}`)! }),
    "security-credentials-extended": new Unlisted(dir({ [name]: leaves.get(`meta-data/iam/security-credentials-extended/${name}`)! })),
  });
}

function identityCredentialsDir(leaves: ReadonlyMap<string, MetadataNode>): MetadataDir {
  return dir({
    ec2: dir({
      info: leaves.get("meta-data/identity-credentials/ec2/info")!,
      "security-credentials": dir({ "ec2-instance": leaves.get("meta-data/identity-credentials/ec2/security-credentials/ec2-instance")! }),
    }),
  });
}

function interfaceDir(nic: NetworkInterface): MetadataDir {
  const out = dir({
    "device-number": String(nic.deviceNumber),
    "network-card-index": String(nic.networkCardIndex),
    "interface-id": nic.interfaceId,
    "local-hostname": nic.localHostname,
    "local-ipv4s": nic.localIpv4,
    mac: nic.mac,
    "owner-id": nic.ownerId,
    "security-group-ids": nic.securityGroupIds.join("\n"),
    "security-groups": nic.securityGroups.join("\n"),
    "subnet-id": nic.subnetId,
    "subnet-ipv4-cidr-block": nic.subnetIpv4CidrBlock,
    "vpc-id": nic.vpcId,
    "vpc-ipv4-cidr-block": nic.vpcIpv4CidrBlock,
    "vpc-ipv4-cidr-blocks": nic.vpcIpv4CidrBlock,
  });
  if (nic.publicIpv4 !== undefined) {
    out.set("ipv4-associations", dir({ [nic.publicIpv4]: nic.localIpv4 }));
    out.set("public-hostname", nic.publicHostname ?? "");
    out.set("public-ipv4s", nic.publicIpv4);
  }
  if (nic.ipv6 !== undefined) {
    out.set("ipv6s", nic.ipv6.addresses.join("\n"));
    out.set("subnet-ipv6-cidr-blocks", nic.ipv6.subnetCidrBlock);
    out.set("vpc-ipv6-cidr-blocks", nic.ipv6.vpcCidrBlock);
  }
  return out;
}

function networkDir(instance: Instance): MetadataDir {
  const macs = new Map(instance.interfaces.map((nic) => [nic.mac, interfaceDir(nic)] as const));
  return dir({ interfaces: dir({ macs }) });
}

function eventsDir(events: InstanceEvents): MetadataDir {
  const scheduled = events.scheduledMaintenance.map((event) => ({
    NotBefore: maintenanceDate(event.notBefore),
    Code: event.code,
    Description: event.description,
    EventId: event.eventId,
    NotAfter: maintenanceDate(event.notAfter),
    State: event.state,
  }));
  const out = dir({ maintenance: dir({ history: "[]", scheduled: ec2Json(scheduled) }) });
  if (events.rebalanceNoticeTime !== undefined) {
    out.set(
      "recommendations",
      dir({ rebalance: JSON.stringify({ noticeTime: awsTimestamp(events.rebalanceNoticeTime) }) }),
    );
  }
  return out;
}

/** Sets or adds one leaf at a `/`-separated path, creating directories on the way. */
export function setPath(root: MetadataDir, path: string, value: MetadataNode): void {
  const names = path.split("/").filter((name) => name !== "");
  const leafName = names.pop();
  if (leafName === undefined) return;
  let node = root;
  for (const name of names) {
    const entry = node.get(name);
    // Into a wrapped directory (public-keys/0/), keeping how its parent lists it.
    const next = entry instanceof ListedAs || entry instanceof Unlisted ? entry.node : entry;
    if (next instanceof Map) {
      node = next;
    } else {
      const created: MetadataDir = new Map();
      node.set(name, created);
      node = created;
    }
  }
  node.set(leafName, value);
}

function metaDataDir(inputs: TreeInputs): MetadataDir {
  const { instance, events } = inputs;
  const nic = instance.interfaces[0];
  const leaves = credentialLeaves(inputs);
  const meta = dir({
    "ami-id": instance.amiId,
    "ami-launch-index": "0",
    "ami-manifest-path": "(unknown)",
    "block-device-mapping": dir({ ...instance.blockDeviceMapping }),
    events: eventsDir(events),
    hostname: nic.localHostname,
    iam: iamDir(inputs, leaves),
    "identity-credentials": identityCredentialsDir(leaves),
    "instance-action": events.spot?.action ?? "none",
    "instance-id": instance.instanceId,
    "instance-life-cycle": instance.instanceLifeCycle,
    "instance-type": instance.instanceType,
    "local-hostname": nic.localHostname,
    "local-ipv4": nic.localIpv4,
    mac: nic.mac,
    metrics: dir({ vhostmd: '<?xml version="1.0" encoding="UTF-8"?>' }),
    network: networkDir(instance),
    placement: dir({
      "availability-zone": instance.availabilityZone,
      "availability-zone-id": instance.availabilityZoneId,
      region: instance.region,
    }),
    profile: "default-hvm",
    "public-keys": dir({ "0": new ListedAs(`0=${instance.keyName}`, dir({ "openssh-key": inputs.publicKey })) }),
    "reservation-id": instance.reservationId,
    "security-groups": nic.securityGroups.join("\n"),
    services: dir({ domain: instance.domain, partition: instance.partition }),
  });
  if (nic.publicIpv4 !== undefined) {
    meta.set("public-hostname", nic.publicHostname ?? "");
    meta.set("public-ipv4", nic.publicIpv4);
  }
  if (nic.ipv6 !== undefined) meta.set("ipv6", nic.ipv6.addresses[0]!);
  if (events.spot !== undefined) {
    const spot = dir({
      "instance-action": JSON.stringify({ action: events.spot.action, time: awsTimestamp(events.spot.time) }),
    });
    // The older notice, still read by some tools, exists only for terminations.
    if (events.spot.action === "terminate") spot.set("termination-time", awsTimestamp(events.spot.time));
    meta.set("spot", spot);
  }
  if (events.targetLifecycleState !== undefined) {
    meta.set("autoscaling", dir({ "target-lifecycle-state": events.targetLifecycleState }));
  }
  if (inputs.tags !== undefined) {
    meta.set("tags", dir({ instance: dir({ ...inputs.tags }) }));
  }
  for (const [path, value] of Object.entries(inputs.overrides)) setPath(meta, path, value);
  return meta;
}

/** The tree under `/latest/`; dated API versions answer from parts of it (see versions.ts). */
export function buildTree(inputs: TreeInputs): MetadataDir {
  const document = identityDocument(inputs.instance);
  const identity = dir({ document });
  if (inputs.sign !== undefined) {
    for (const [name, value] of Object.entries(inputs.sign(document))) identity.set(name, value);
  }
  const latest = dir({
    dynamic: dir({
      fws: dir({ "instance-monitoring": inputs.instance.instanceMonitoring }),
      "instance-identity": identity,
    }),
    "meta-data": metaDataDir(inputs),
  });
  if (inputs.userData !== undefined) latest.set("user-data", inputs.userData);
  return latest;
}
