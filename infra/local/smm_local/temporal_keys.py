"""A Temporal front door that enforces API keys, as Temporal Cloud does: the dev server takes
any call, so without this no local test could see a rotated or revoked key refused.

Every gRPC call (all of Temporal's services are unary) is forwarded byte for byte to the
server behind, unless its ``authorization`` metadata is not ``Bearer <key>`` for a key the
door currently accepts: then it answers UNAUTHENTICATED, the status Temporal Cloud gives an
unknown or revoked key. A rotation is ``accept({"old", "new"})`` then ``accept({"new"})``:
Temporal Cloud lets an account hold several active keys, so a rotation overlaps, and the old
key is revoked once its users moved on. Loopback only; for tests.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
import grpc.aio

from smm_local.loopback import free_port

UNAUTHENTICATED_MESSAGE = "Request unauthorized."
# Long polls (workflow and activity task polls) hold a call up to about a minute.
DEFAULT_DEADLINE_S = 90.0


class KeyDoor:
    """A key-checking gRPC proxy on its own thread and event loop; ``address`` is where
    clients connect instead of ``target``."""

    def __init__(self, target: str, keys: Iterable[str]) -> None:
        self.target = target
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self._keys = frozenset(keys)
        self.refused = 0  # calls answered UNAUTHENTICATED
        self.passed = 0
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: grpc.aio.Server | None = None
        self._channel: grpc.aio.Channel | None = None

    def accept(self, keys: Iterable[str]) -> None:
        """From now on, only ``keys`` pass."""
        with self._lock:
            self._keys = frozenset(keys)

    def _allowed(self, metadata: Iterable[tuple[str, Any]]) -> bool:
        with self._lock:
            keys = self._keys
        for name, value in metadata:
            if name == "authorization" and isinstance(value, str):
                return value.removeprefix("Bearer ") in keys and value.startswith("Bearer ")
        return False

    def _handler(self, method: str) -> grpc.RpcMethodHandler[bytes, bytes]:
        async def forward(request: bytes, context: grpc.aio.ServicerContext[Any, Any]) -> bytes:
            metadata = tuple(context.invocation_metadata() or ())
            if not self._allowed(metadata):
                with self._lock:
                    self.refused += 1
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE)
            with self._lock:
                self.passed += 1
            assert self._channel is not None
            call: Callable[..., Awaitable[bytes]] = self._channel.unary_unary(method)
            remaining = context.time_remaining()
            try:
                return await call(
                    request,
                    metadata=[(k, v) for k, v in metadata if k != "authorization"],
                    timeout=remaining if remaining is not None else DEFAULT_DEADLINE_S,
                )
            except grpc.aio.AioRpcError as err:  # the server's own answer, passed on
                await context.abort(err.code(), err.details() or "")
                raise  # unreachable: abort raises

        return grpc.unary_unary_rpc_method_handler(forward)  # bytes in, bytes out

    def start(self) -> KeyDoor:
        door = self

        class Generic(grpc.GenericRpcHandler):
            def service(
                self, handler_call_details: grpc.HandlerCallDetails
            ) -> grpc.RpcMethodHandler[bytes, bytes]:
                return door._handler(handler_call_details.method)

        async def serve() -> None:
            self._channel = grpc.aio.insecure_channel(self.target)
            self._server = grpc.aio.server()
            self._server.add_generic_rpc_handlers((Generic(),))
            self._server.add_insecure_port(self.address)
            await self._server.start()

        self._thread.start()
        asyncio.run_coroutine_threadsafe(serve(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                await self._server.stop(grace=0)
            if self._channel is not None:
                await self._channel.close()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> KeyDoor:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
