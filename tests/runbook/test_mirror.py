import pytest
from pydantic import SecretStr

from offboard.runbook import mirror
from offboard.runbook.journal import Journal
from offboard.runbook.mirror import JOURNAL_KEY, into_bucket
from offboard.transfer.session import customer_s3

from tests.runbook.support import BUCKET, OUTPUTS
from tests.runbook.test_journal import entry


@pytest.fixture
def endpoint_bucket(endpoint_session, monkeypatch):
    """A bucket on the embedded endpoint, and outputs whose key reaches it (the admin's here)."""
    monkeypatch.setattr(mirror, "customer_s3", customer_s3)  # the real client, not the fake
    _, endpoint = endpoint_session
    admin = endpoint.client("s3", OUTPUTS.region)
    admin.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": OUTPUTS.region})
    yield admin, OUTPUTS.model_copy(update={"endpoint_url": endpoint.url, "access_key_id": endpoint.admin_key_id,
                                            "secret_access_key": SecretStr(endpoint.admin_secret)})
    for version in admin.list_object_versions(Bucket=BUCKET).get("Versions", []):
        admin.delete_object(Bucket=BUCKET, Key=version["Key"], VersionId=version["VersionId"])
    admin.delete_bucket(Bucket=BUCKET)


def test_the_journal_is_copied_into_the_customers_bucket(tmp_path, endpoint_bucket):
    admin, outputs = endpoint_bucket
    journal = Journal(tmp_path / "journal.jsonl", mirror=into_bucket(lambda: outputs))
    journal.append(entry("a"))
    assert journal.mirror() is None
    assert admin.get_object(Bucket=BUCKET, Key=JOURNAL_KEY)["Body"].read() == journal.path.read_bytes()


def test_a_missing_bucket_is_reported(tmp_path, endpoint_bucket):
    _, outputs = endpoint_bucket
    journal = Journal(tmp_path / "journal.jsonl", mirror=into_bucket(lambda: outputs.model_copy(update={"bucket": "nobody-s-bucket"})))
    journal.append(entry("a"))
    assert "NoSuchBucket" in journal.mirror()


def test_nothing_is_copied_before_the_bucket_exists(tmp_path, bucket):
    journal = Journal(tmp_path / "journal.jsonl", mirror=into_bucket(lambda: None))
    journal.append(entry("a"))
    assert journal.mirror() is None and bucket.objects == {}
