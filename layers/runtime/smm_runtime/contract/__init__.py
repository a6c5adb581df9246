"""The contract between the worker, the functions and the callers: shapes and names only.

- ``kinds``: the table of kinds (request, result, activity, function, setting per kind);
- ``events``: the dispatch event envelope, built and parsed with the same models;
- ``video_spec``, ``image_spec``, ``timeline``: what users send and what segments draw;
- ``workflow_io``, ``publish_io``, ``trigger_io``: workflow and API inputs and outputs;
- ``basetypes``, ``errors``, ``validation``: value types, error type names, field-naming
  messages; ``schema``: what the Node function reads, generated.
"""

CONTRACT_VERSION = 1
NAMESPACE_DEFAULT = "smm-hub-core"
TASK_QUEUE = "creative-engine"
