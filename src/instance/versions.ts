import type { MetadataDir, MetadataNode } from "./tree";

/** What `GET /` lists on EC2 (before `latest`), oldest first. */
export const API_VERSIONS: readonly string[] = [
  "1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01",
  "2008-09-01", "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25", "2014-11-05",
  "2015-10-20", "2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17", "2018-09-24",
  "2019-10-01", "2020-10-27", "2021-01-03", "2021-03-23", "2021-07-15", "2022-09-24", "2024-04-11",
];

/**
 * When each category appeared, from the EC2 User Guide's "Instance metadata categories" and "Dynamic
 * data categories" tables, column "Version when category was released"
 * (docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-categories.html; its source is
 * awsdocs/amazon-ec2-user-guide, doc_source/instancedata-data-categories.md). Paths are below a
 * version's root; `*` stands for one path segment (a MAC address).
 *
 * Several of the guide's dates are not API versions that `GET /` lists (2018-05-23, 2020-08-24,
 * 2020-11-01, 2020-11-04, 2016-11-15): a dated path can only name a listed version, so such a category
 * is served from the first listed version on or after its date. cloud-init's EC2 fixtures, captured
 * on EC2, agree: identity-credentials/ (2018-05-23) is in their 2018-09-24 crawl, events/ (2018-08-17)
 * too, and neither is in their 2016-09-02 crawl.
 *
 * Where the guide is silent, a path is served in every version that serves its parent: `user-data`
 * (EC2's first API, 1.0, had user data), `profile`, `iam/security-credentials-extended/`,
 * `dynamic/instance-identity/rsa2048`, and paths added through `metadata`.
 */
const CATEGORY_VERSIONS: ReadonlyArray<readonly [path: string, version: string]> = [
  ["meta-data/ami-id", "1.0"],
  ["meta-data/ami-launch-index", "1.0"],
  ["meta-data/ami-manifest-path", "1.0"],
  ["meta-data/autoscaling/target-lifecycle-state", "2021-07-15"],
  ["meta-data/block-device-mapping", "2007-12-15"],
  ["meta-data/events/maintenance", "2018-08-17"],
  ["meta-data/events/recommendations/rebalance", "2020-11-04"],
  ["meta-data/hostname", "1.0"],
  ["meta-data/iam", "2012-01-12"],
  ["meta-data/identity-credentials/ec2", "2018-05-23"],
  ["meta-data/instance-action", "2008-09-01"],
  ["meta-data/instance-id", "1.0"],
  ["meta-data/instance-life-cycle", "2019-10-01"],
  ["meta-data/instance-type", "2007-08-29"],
  ["meta-data/ipv6", "2021-01-03"],
  ["meta-data/local-hostname", "2007-01-19"],
  ["meta-data/local-ipv4", "1.0"],
  ["meta-data/mac", "2011-01-01"],
  ["meta-data/metrics/vhostmd", "2011-05-01"],
  ["meta-data/network/interfaces/macs", "2011-01-01"],
  ["meta-data/network/interfaces/macs/*/ipv6s", "2016-06-30"],
  ["meta-data/network/interfaces/macs/*/network-card-index", "2020-11-01"],
  ["meta-data/network/interfaces/macs/*/subnet-ipv6-cidr-blocks", "2016-06-30"],
  ["meta-data/network/interfaces/macs/*/vpc-ipv4-cidr-blocks", "2016-06-30"],
  ["meta-data/network/interfaces/macs/*/vpc-ipv6-cidr-blocks", "2016-06-30"],
  ["meta-data/placement/availability-zone", "2008-02-01"],
  ["meta-data/placement/availability-zone-id", "2020-08-24"],
  ["meta-data/placement/group-name", "2020-08-24"],
  ["meta-data/placement/host-id", "2020-08-24"],
  ["meta-data/placement/partition-number", "2020-08-24"],
  ["meta-data/placement/region", "2020-08-24"],
  ["meta-data/public-hostname", "2007-01-19"],
  ["meta-data/public-ipv4", "2007-01-19"],
  ["meta-data/public-keys", "1.0"],
  ["meta-data/reservation-id", "1.0"],
  ["meta-data/security-groups", "1.0"],
  ["meta-data/services/domain", "2014-02-25"],
  ["meta-data/services/partition", "2015-10-20"],
  ["meta-data/spot/instance-action", "2016-11-15"],
  ["meta-data/spot/termination-time", "2014-11-05"],
  ["meta-data/tags/instance", "2021-03-23"],
  ["dynamic/fws/instance-monitoring", "2009-04-04"],
  ["dynamic/instance-identity", "2009-04-04"],
];

/** The first listed version on or after a documented date (dates and `1.0` sort as text). */
function firstListedFrom(documented: string): string {
  const version = API_VERSIONS.find((listed) => listed >= documented);
  if (version === undefined) throw new Error(`no API version on or after ${documented}`);
  return version;
}

interface Since {
  readonly segments: readonly string[];
  readonly since: string;
}

let sinceTable: readonly Since[] | undefined;

/** CATEGORY_VERSIONS as listed versions, worked out at the first dated request: a client that reads only `latest` never needs them. */
function categorySince(): readonly Since[] {
  sinceTable ??= CATEGORY_VERSIONS.map(([path, documented]) => ({ segments: path.split("/"), since: firstListedFrom(documented) }));
  return sinceTable;
}

function matches(pattern: readonly string[], path: readonly string[]): boolean {
  return pattern.length === path.length && pattern.every((segment, i) => segment === "*" || segment === path[i]);
}

/** A node with the version it first appears in: the latest of its own entry's and its ancestors'. */
interface Dated {
  readonly label: string;
  readonly since: string;
  readonly node: MetadataNode;
  readonly children?: readonly Dated[];
}

function date(dir: MetadataDir, parent: readonly string[], parentSince: string): Dated[] {
  return [...dir].map(([label, node]) => {
    const path = [...parent, label];
    const own = categorySince().find((entry) => matches(entry.segments, path))?.since;
    const since = own !== undefined && own > parentSince ? own : parentSince;
    return { label, since, node, children: node instanceof Map ? date(node, path, since) : undefined };
  });
}

function asOf(nodes: readonly Dated[], version: string): MetadataDir {
  const out: MetadataDir = new Map();
  for (const { label, since, node, children } of nodes) {
    if (since > version) continue;
    if (children === undefined) {
      out.set(label, node);
      continue;
    }
    // A directory is dropped when this version emptied it, not when it was empty already (tags/instance/).
    const dir = asOf(children, version);
    if (dir.size > 0 || children.length === 0) out.set(label, dir);
  }
  return out;
}

let eraTable: readonly string[] | undefined;

/**
 * Versions that serve the same categories answer from the same tree: each is named by the newest
 * version at or before it where something appeared (its "era").
 */
export function eras(): readonly string[] {
  eraTable ??= [...new Set([API_VERSIONS[0]!, ...categorySince().map((entry) => entry.since)])].sort();
  return eraTable;
}

/** The era a listed version answers from; undefined for a version EC2 does not list (`latest` among them). */
export function eraOf(version: string): string | undefined {
  if (!API_VERSIONS.includes(version)) return undefined;
  return eras().filter((start) => start <= version).at(-1);
}

/** The tree as each era answers it: what appeared after the era is gone, and directories left empty with it. */
export interface EraTrees {
  /** The era's tree, made at its first request and then kept; undefined for a name that is no era. */
  get(era: string): MetadataDir | undefined;
}

/**
 * Eras are made on request, as most clients read only `latest`: the tree is dated (every node matched
 * against CATEGORY_VERSIONS) at the first era asked for, once, and each era's tree at its first request.
 */
export function treesByEra(tree: MetadataDir): EraTrees {
  let dated: Dated[] | undefined;
  const made = new Map<string, MetadataDir>();
  return {
    get(era) {
      if (!eras().includes(era)) return undefined;
      let trimmed = made.get(era);
      if (trimmed === undefined) {
        dated ??= date(tree, [], API_VERSIONS[0]!);
        trimmed = asOf(dated, era);
        made.set(era, trimmed);
      }
      return trimmed;
    },
  };
}
