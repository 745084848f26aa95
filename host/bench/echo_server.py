"""A TCP echo server on uvloop, run as `python -m host.bench.echo_server`: the kernel-floor
reference of `tickwire bench roundtrip`. It prints `echo ready <port>` and echoes until
killed. A separate process, like the venue, so the floor crosses the same boundaries."""

import asyncio
import socket

import uvloop


async def _serve() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := await reader.read(65536):
            writer.write(data)
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    print(f"echo ready {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(_serve())
