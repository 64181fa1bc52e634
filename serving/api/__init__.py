"""The scoring API: BentoML service, runtime (model + online store), request schemas.

- ``service``: ``ChurnService`` (``bentoml serve serving.api.service:ChurnService``), built
  when it starts; ``late_app``: the mounts it fills then.
- ``runtime``: ``ServingRuntime``, the model and online store a request uses, without BentoML.
- ``schemas`` and ``payload``: request and response models and the checks of posted rows.
- ``model_source``: the registry's champion or the last good local copy; ``online_store``;
  ``fast_model``: scoring and SHAP for small batches; ``probes``: health, ready, metadata.
- ``commands``: ``cxchurn serve`` and ``cxchurn online materialize``.

Nothing is imported here (the service loads BentoML).
"""
