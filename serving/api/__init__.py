"""The scoring API: BentoML service, runtime (model + online store), request schemas."""
