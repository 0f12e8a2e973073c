"""Drives Debian's cloud-init EC2 datasource, unmodified, against whatever answers at 169.254.169.254.

Run only inside a network namespace of the test's own (test/e2e/netns.test.ts), with Debian's
/usr/bin/python3. It never runs cloud-init's stages: it builds the datasource as `cloud-init init`
would, calls get_data() (token, version probe, full crawl, identity document, user data) and reads
its network configuration, with every path under a temporary directory.

Prints one JSON object: what the datasource found, every HTTP exchange it made, and every log
record at WARNING or above.
"""
import base64
import json
import logging
import sys
import tempfile

import requests

from cloudinit import distros, helpers
from cloudinit.sources import DataSourceEc2

exchanges = []
_request = requests.Session.request


def recording_request(self, method, url, *args, **kwargs):
    try:
        response = _request(self, method, url, *args, **kwargs)
    except Exception as error:  # a refused or timed-out exchange is recorded, then raised as before
        exchanges.append({"method": method, "url": url, "status": None, "error": type(error).__name__})
        raise
    exchanges.append({"method": method, "url": url, "status": response.status_code})
    return response


class Warnings(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(f"{record.name}: {record.getMessage()}")


def ec2_platform():
    """DMI as on a Nitro instance: the namespace shares the host's /sys/class/dmi, which is not EC2's."""
    uuid = "ec2e2e00-0000-4000-8000-000000000000"
    return {"uuid": uuid, "uuid_source": "dmi", "serial": uuid, "asset_tag": "", "vendor": "amazon ec2", "product_name": "m5.large"}


def main():
    requests.Session.request = recording_request
    warnings = Warnings()
    logging.getLogger().addHandler(warnings)
    logging.getLogger().setLevel(logging.DEBUG)
    DataSourceEc2._collect_platform_data = ec2_platform

    with tempfile.TemporaryDirectory(prefix="cloud-init-e2e-") as tmp:
        paths = helpers.Paths({"cloud_dir": f"{tmp}/cloud", "run_dir": f"{tmp}/run", "docs_dir": tmp, "templates_dir": tmp})
        distro = distros.fetch("debian")("debian", {}, paths)
        sys_cfg = {"datasource": {"Ec2": {"metadata_urls": ["http://169.254.169.254"], "timeout": 5, "max_wait": 10}}}
        datasource = DataSourceEc2.DataSourceEc2(sys_cfg, distro, paths)
        result = {"cloudName": datasource.cloud_name}
        try:
            found = datasource.get_data()
        except Exception as error:  # a crawl that lost its meta-data fails later, on a missing key
            found = False
            result["error"] = repr(error)
        result["found"] = found
        if found:
            result["apiVersion"] = datasource._crawled_metadata.get("_metadata_api_version")
        if found:
            result.update(
                {
                    "instanceId": datasource.get_instance_id(),
                    "metadataInstanceId": datasource.metadata.get("instance-id"),
                    "identityInstanceId": datasource.identity.get("instanceId"),
                    "region": datasource.region,
                    "availabilityZone": datasource.availability_zone,
                    "publicKeys": datasource.get_public_ssh_keys(),
                    "userData": base64.b64encode(datasource.userdata_raw).decode(),
                    "networkConfig": datasource.network_config,
                }
            )
    result["exchanges"] = exchanges
    result["warnings"] = warnings.records
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
