"""Type names for grpc.aio's generic servicer context, method handler and metadata."""

from typing import Any, TypeAlias

import grpc

Context = grpc.aio.ServicerContext[Any, Any]
# Generic only in the stubs: at runtime grpc.RpcMethodHandler cannot be subscripted,
# so the alias is a string that only type checkers evaluate.
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
# Call metadata as grpc passes it: (key, value) pairs; values of '-bin' keys are bytes.
Metadata = tuple[tuple[str, str | bytes], ...]
