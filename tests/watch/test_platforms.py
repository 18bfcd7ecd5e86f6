"""Platform vocabularies: only published values, versions respected."""

from __future__ import annotations

from pathlib import Path

import pytest

from client.model import Carrier, Status
from client.watch.changes import ChangeKind
from client.watch.platforms import (
    AFTERSHIP_TAGS,
    MAGENTO_TRACK_CREATE_FIELDS,
    MAGENTO_TRACK_FIELDS,
    SHOPIFY_EVENT_STATUSES,
    SHOPIFY_TRACKING_COMPANIES,
    WOOCOMMERCE_PROVIDERS,
    aftership_tag,
    magento_track,
    shopify_event_status,
    woocommerce_tracking,
    woocommerce_tracking_url,
)

PLATFORMS = (Path(__file__).resolve().parents[1] / "contract/specs/PLATFORMS.md").read_text()


def test_every_value_is_written_in_platforms_md() -> None:
    values = set().union(*SHOPIFY_EVENT_STATUSES.values())
    values |= set(SHOPIFY_TRACKING_COMPANIES.values()) | set(AFTERSHIP_TAGS)
    values |= set(MAGENTO_TRACK_FIELDS) | set(MAGENTO_TRACK_CREATE_FIELDS)
    for name, url in WOOCOMMERCE_PROVIDERS.values():
        values.add(name)
        if url:
            values.add(url)
    missing = sorted(v for v in values if v not in PLATFORMS)
    assert not missing


@pytest.mark.parametrize("kind", list(ChangeKind))
@pytest.mark.parametrize("version", ["2024-04", "2024-10", "2025-07", "latest", "unstable"])
def test_shopify_statuses_exist_in_the_version_asked(kind: ChangeKind, version: str) -> None:
    value = shopify_event_status(kind, version, status=Status.in_transit)
    key = {"latest": "2026-10", "2024-10": "2024-04"}.get(version, version)
    assert value is None or value in SHOPIFY_EVENT_STATUSES[key]


def test_older_shopify_versions_fall_back_or_send_nothing() -> None:
    assert shopify_event_status(ChangeKind.shipped, "2024-04") == "IN_TRANSIT"
    assert shopify_event_status(ChangeKind.shipped, "latest") == "CARRIER_PICKED_UP"
    assert shopify_event_status(ChangeKind.delayed, "2024-04") is None
    assert shopify_event_status(ChangeKind.delayed, "2025-07") == "DELAYED"
    assert shopify_event_status(ChangeKind.returned, "unstable") == "RETURNING_TO_SENDER"
    assert shopify_event_status(ChangeKind.stalled) is None
    assert shopify_event_status(ChangeKind.corrected, status=Status.in_transit) == "IN_TRANSIT"
    with pytest.raises(ValueError, match="2024-04"):
        shopify_event_status(ChangeKind.delivered, "2023-01")
    with pytest.raises(ValueError, match="YYYY-MM"):
        shopify_event_status(ChangeKind.delivered, "next")


def test_woocommerce_and_magento_bodies() -> None:
    name, template = WOOCOMMERCE_PROVIDERS[Carrier.usps]
    assert template is not None
    url = woocommerce_tracking_url(template, "9400111")
    assert url == "https://tools.usps.com/tracking/9400111"
    assert woocommerce_tracking("9400111", Carrier.usps) == {
        "tracking_number": "9400111",
        "tracking_provider": name,
    }
    assert set(magento_track("1Z", "UPS", "ups")) == set(MAGENTO_TRACK_CREATE_FIELDS)
    with pytest.raises(ValueError, match="carrier_code"):
        magento_track("1Z", "UPS", "")


def test_every_status_has_an_aftership_tag() -> None:
    assert {aftership_tag(s) for s in Status} <= set(AFTERSHIP_TAGS)
    assert aftership_tag(None) == "Pending"
