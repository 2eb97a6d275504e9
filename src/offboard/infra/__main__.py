"""Entry point of `pulumi up`: read this stack's settings and build its CustomerTransfer."""

import json

import pulumi

from offboard.customer import Customer, customer_from_config
from offboard.infra.program import CustomerTransfer, export_outputs


def customer_settings() -> Customer:
    """The same validation as the CLI's, applied to the config Pulumi hands the program."""
    config = {}
    for field in Customer.model_fields.values():
        if field.alias:
            namespace, key = field.alias.split(":")
            value = pulumi.Config(namespace).get(key)
            if value is not None:
                # Pulumi hands structured values (offboard:source, ...) over as JSON text.
                config[field.alias] = json.loads(value) if value[:1] in "{[" else value
    return customer_from_config(config, pulumi.get_stack(), f"stack {pulumi.get_stack()}")


export_outputs(CustomerTransfer(customer_settings()))
