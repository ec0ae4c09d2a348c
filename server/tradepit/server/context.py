"""Type names for grpc.aio's generic servicer context and method handler."""

from typing import Any

import grpc

Context = grpc.aio.ServicerContext[Any, Any]
Handler = grpc.RpcMethodHandler[Any, Any]
