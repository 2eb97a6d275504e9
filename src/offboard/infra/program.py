"""The Pulumi program: one ComponentResource per customer, built from `policies`."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from offboard.customer import Customer, Encryption
from offboard.infra import policies
from offboard.infra.policies import pulumi_args


class CustomerTransfer(pulumi.ComponentResource):
    """A customer's private, encrypted, versioned bucket and the one key that reaches it."""

    def __init__(self, customer: Customer, opts: pulumi.ResourceOptions | None = None) -> None:
        name = policies.resource_name(customer)
        super().__init__("offboard:index:CustomerTransfer", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = policies.tags(customer)

        self.kms_key = None
        if customer.encryption is Encryption.sse_kms:
            self.kms_key = aws.kms.Key(
                f"{name}-key",
                description=f"Transfer key of {customer.customer_name} (org {customer.org_id})",
                deletion_window_in_days=customer.kms_deletion_window_days,
                enable_key_rotation=True,
                tags=tags,
                opts=child,
            )
            aws.kms.Alias(f"{name}-alias", name=f"alias/{name}", target_key_id=self.kms_key.key_id, opts=child)
        kms_key_arn = self.kms_key.arn if self.kms_key else None

        bucket_name = policies.bucket_name(customer)
        self.bucket = aws.s3.Bucket(name, bucket=bucket_name, tags=tags, opts=child)
        on_bucket = pulumi.ResourceOptions(parent=self.bucket)
        access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access", bucket=self.bucket.id, **pulumi_args(policies.public_access_block()), opts=on_bucket
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id, rule=pulumi_args(policies.ownership_controls())["rules"][0], opts=on_bucket
        )
        rules = pulumi.Output.from_input(kms_key_arn).apply(
            lambda arn: pulumi_args(policies.encryption(customer, arn))["rules"]
        )
        aws.s3.BucketServerSideEncryptionConfiguration(f"{name}-encryption", bucket=self.bucket.id, rules=rules, opts=on_bucket)
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning", bucket=self.bucket.id, versioning_configuration=pulumi_args(policies.versioning()), opts=on_bucket
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=self.bucket.id,
            rules=pulumi_args(policies.lifecycle(customer))["rules"],
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[versioning]),
        )
        aws.s3.BucketPolicy(
            f"{name}-policy",
            bucket=self.bucket.id,
            policy=self.bucket.bucket.apply(lambda bucket: policies.to_json(policies.bucket_policy(bucket))),
            opts=pulumi.ResourceOptions(parent=self.bucket, depends_on=[access_block]),
        )

        # The policy goes to a per-customer group holding the user, never to the user itself.
        self.group = aws.iam.Group(name, name=name, opts=child)
        transfer_policy = pulumi.Output.all(self.bucket.bucket, kms_key_arn).apply(
            lambda values: policies.to_json(policies.transfer_policy(values[0], values[1]))
        )
        aws.iam.GroupPolicy(f"{name}-transfer", group=self.group.name, policy=transfer_policy, opts=child)
        self.user = aws.iam.User(name, name=name, tags=tags, opts=child)
        aws.iam.UserGroupMembership(f"{name}-membership", user=self.user.name, groups=[self.group.name], opts=child)
        self.access_key = aws.iam.AccessKey(f"{name}-key", user=self.user.name, opts=child)

        self.outputs = {
            "bucket": self.bucket.bucket,
            "region": customer.region,
            "user": self.user.name,
            "group": self.group.name,
            "access_key_id": self.access_key.id,
            "access_key_created": self.access_key.create_date,
            "kms_key_arn": kms_key_arn,
            "secret_access_key": pulumi.Output.secret(self.access_key.secret),
        }
        self.register_outputs(self.outputs)


def export_outputs(transfer: CustomerTransfer) -> None:
    for key, value in transfer.outputs.items():
        pulumi.export(key, value)
